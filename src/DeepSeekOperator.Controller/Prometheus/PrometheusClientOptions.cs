using System.Net.Http.Headers;
using System.Text;

namespace DeepSeekOperator.Controller.Prometheus;

/// <summary>Where Prometheus is, how long a query may take, and how to authenticate.</summary>
public sealed record PrometheusClientOptions
{
    /// <summary>The server's root, e.g. <c>http://prometheus.monitoring:9090/</c>; a path prefix (behind a proxy) is kept.</summary>
    public required Uri Server { get; init; }

    /// <summary>
    /// How long a query may take unless it names its own timeout: sent to Prometheus as the <c>timeout</c> parameter,
    /// and the client gives up at the same deadline if no answer has come.
    /// </summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The credentials sent with every query, when Prometheus is behind authentication.</summary>
    public PrometheusAuthentication? Authentication { get; init; }

    /// <summary>The clock of the query deadlines.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;
}

/// <summary>The <c>Authorization</c> header sent with every query.</summary>
public abstract record PrometheusAuthentication
{
    private PrometheusAuthentication()
    {
    }

    /// <summary>The header for the next query.</summary>
    /// <param name="cancellationToken">Cancels reading a token file.</param>
    public abstract ValueTask<AuthenticationHeaderValue> HeaderAsync(CancellationToken cancellationToken);

    /// <summary>HTTP basic authentication.</summary>
    /// <param name="Username">The user.</param>
    /// <param name="Password">The password, left out of <see cref="object.ToString"/>.</param>
    public sealed record Basic(string Username, string Password) : PrometheusAuthentication
    {
        /// <inheritdoc/>
        public override ValueTask<AuthenticationHeaderValue> HeaderAsync(CancellationToken cancellationToken) =>
            ValueTask.FromResult(new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Username}:{Password}"))));

        /// <summary>The user only.</summary>
        protected override bool PrintMembers(StringBuilder builder)
        {
            ArgumentNullException.ThrowIfNull(builder);
            builder.Append("Username = ").Append(Username);
            return true;
        }
    }

    /// <summary>A bearer token.</summary>
    /// <param name="Token">The token, left out of <see cref="object.ToString"/>.</param>
    public sealed record Bearer(string Token) : PrometheusAuthentication
    {
        /// <inheritdoc/>
        public override ValueTask<AuthenticationHeaderValue> HeaderAsync(CancellationToken cancellationToken) =>
            ValueTask.FromResult(new AuthenticationHeaderValue("Bearer", Token));

        /// <summary>Nothing: the token is a secret.</summary>
        protected override bool PrintMembers(StringBuilder builder) => false;
    }

    /// <summary>A bearer token read from a file before every query, so that a rotated token (a projected service account token) is picked up.</summary>
    /// <param name="Path">The file holding the token; surrounding whitespace is ignored.</param>
    public sealed record BearerFile(string Path) : PrometheusAuthentication
    {
        /// <inheritdoc/>
        public override async ValueTask<AuthenticationHeaderValue> HeaderAsync(CancellationToken cancellationToken)
        {
            var token = (await File.ReadAllTextAsync(Path, cancellationToken).ConfigureAwait(false)).Trim();
            return token.Length == 0
                ? throw new InvalidOperationException($"The Prometheus bearer token file {Path} is empty")
                : new AuthenticationHeaderValue("Bearer", token);
        }
    }
}
