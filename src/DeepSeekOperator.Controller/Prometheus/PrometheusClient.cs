using System.Globalization;
using System.Net;
using System.Text.Json;
using DeepSeekOperator.Controller.Prometheus.Internal;

namespace DeepSeekOperator.Controller.Prometheus;

/// <summary>
/// Instant queries against the Prometheus HTTP API (<c>/api/v1/query</c>). Every failure — Prometheus's own error, an
/// HTTP error, no connection, no answer in time, a malformed answer, an unexpected result type — is a
/// <see cref="PrometheusQueryException"/> naming the server and the query; the caller's cancellation is not.
/// </summary>
/// <param name="http">The client that sends the requests; its own timeout should not be shorter than the queries'.</param>
/// <param name="options">The server, the default timeout, the credentials and the clock.</param>
public sealed class PrometheusClient(HttpClient http, PrometheusClientOptions options)
{
    /// <summary>Queries whose URL-encoded expression is longer than this are sent as a POST form, which no proxy truncates.</summary>
    public const int MaxGetQueryLength = 4096;

    private readonly HttpClient _http = http ?? throw new ArgumentNullException(nameof(http));
    private readonly PrometheusClientOptions _options = Validated(options);
    private readonly Uri _queryUri = new(Root(options.Server), "api/v1/query");

    /// <summary>The server asked.</summary>
    public Uri Server => _options.Server;

    /// <summary>Evaluates <paramref name="query"/> at one instant; the answer must be an instant vector.</summary>
    /// <param name="query">The PromQL expression.</param>
    /// <param name="time">The evaluation time; Prometheus's current time when null.</param>
    /// <param name="timeout">The query's timeout; <see cref="PrometheusClientOptions.Timeout"/> when null.</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <exception cref="PrometheusQueryException">No answer, an error, or a result that is not a vector.</exception>
    public async Task<PrometheusVector> QueryVectorAsync(string query, DateTimeOffset? time = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        await QueryAsync(query, time, timeout, cancellationToken).ConfigureAwait(false) as PrometheusVector
            ?? throw new PrometheusQueryException(PrometheusFailure.UnexpectedResultType, Server, query, "data.resultType is \"scalar\", not \"vector\"");

    /// <summary>Evaluates <paramref name="query"/> at one instant; the answer must be a scalar.</summary>
    /// <param name="query">The PromQL expression, such as <c>scalar(sum(…))</c>.</param>
    /// <param name="time">The evaluation time; Prometheus's current time when null.</param>
    /// <param name="timeout">The query's timeout; <see cref="PrometheusClientOptions.Timeout"/> when null.</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <exception cref="PrometheusQueryException">No answer, an error, or a result that is not a scalar.</exception>
    public async Task<PrometheusScalar> QueryScalarAsync(string query, DateTimeOffset? time = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        await QueryAsync(query, time, timeout, cancellationToken).ConfigureAwait(false) as PrometheusScalar
            ?? throw new PrometheusQueryException(PrometheusFailure.UnexpectedResultType, Server, query, "data.resultType is \"vector\", not \"scalar\"");

    /// <summary>Evaluates <paramref name="query"/> at one instant; the answer must be an instant vector or a scalar.</summary>
    /// <param name="query">The PromQL expression.</param>
    /// <param name="time">The evaluation time; Prometheus's current time when null.</param>
    /// <param name="timeout">The query's timeout; <see cref="PrometheusClientOptions.Timeout"/> when null.</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <exception cref="PrometheusQueryException">No answer, an error, or a range vector or string.</exception>
    public async Task<PrometheusResult> QueryAsync(string query, DateTimeOffset? time = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(query);
        var limit = timeout ?? _options.Timeout;
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(limit, TimeSpan.Zero, nameof(timeout));

        using var deadline = new CancellationTokenSource(limit, _options.Time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        HttpStatusCode status;
        string body;
        try
        {
            using var request = await RequestAsync(query, time, limit, linked.Token).ConfigureAwait(false);
            using var response = await _http.SendAsync(request, linked.Token).ConfigureAwait(false);
            status = response.StatusCode;
            body = await response.Content.ReadAsStringAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new PrometheusQueryException(PrometheusFailure.Timeout, Server, query, $"no answer within {Seconds(limit)}");
        }
        catch (HttpRequestException e)
        {
            throw new PrometheusQueryException(PrometheusFailure.Unreachable, Server, query, e.Message, e);
        }

        return Read(query, status, body);
    }

    private async Task<HttpRequestMessage> RequestAsync(string query, DateTimeOffset? time, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var parameters = new List<KeyValuePair<string, string>> { new("query", query) };
        if (time is { } at)
        {
            parameters.Add(new("time", (at.ToUnixTimeMilliseconds() / 1000m).ToString("0.000", CultureInfo.InvariantCulture)));
        }

        parameters.Add(new("timeout", ((long)Math.Ceiling(timeout.TotalMilliseconds)).ToString(CultureInfo.InvariantCulture) + "ms"));
        var request = Uri.EscapeDataString(query).Length > MaxGetQueryLength
            ? new HttpRequestMessage(HttpMethod.Post, _queryUri) { Content = new FormUrlEncodedContent(parameters) }
            : new HttpRequestMessage(HttpMethod.Get, new Uri(_queryUri + "?" + string.Join('&', parameters.Select(p => $"{p.Key}={Uri.EscapeDataString(p.Value)}"))));
        try
        {
            if (_options.Authentication is { } authentication)
            {
                request.Headers.Authorization = await authentication.HeaderAsync(cancellationToken).ConfigureAwait(false);
            }

            return request;
        }
        catch
        {
            request.Dispose();
            throw;
        }
    }

    private PrometheusResult Read(string query, HttpStatusCode status, string body)
    {
        QueryAnswer.Parsed answer;
        try
        {
            using var json = JsonDocument.Parse(body);
            answer = QueryAnswer.Parse(json.RootElement);
        }
        catch (Exception e) when (e is JsonException or MalformedAnswerException)
        {
            if ((int)status is < 200 or > 299)
            {
                throw new PrometheusQueryException(PrometheusFailure.HttpError, Server, query, $"HTTP {(int)status} {status}: {Excerpt(body)}") { StatusCode = status };
            }

            var detail = e is JsonException ? $"the body is not JSON ({e.Message}): {Excerpt(body)}" : e.Message;
            throw new PrometheusQueryException(PrometheusFailure.MalformedAnswer, Server, query, detail, e) { StatusCode = status };
        }

        if (answer.Error is { } error)
        {
            throw new PrometheusQueryException(PrometheusFailure.QueryError, Server, query, $"{error.ErrorType}: {error.Message} (HTTP {(int)status})")
            {
                ErrorType = error.ErrorType,
                StatusCode = status,
            };
        }

        return answer.Result
            ?? throw new PrometheusQueryException(PrometheusFailure.UnexpectedResultType, Server, query, $"data.resultType is \"{answer.ResultType}\", not \"vector\" or \"scalar\"")
            {
                StatusCode = status,
            };
    }

    private static string Excerpt(string body)
    {
        const int Length = 200;
        var text = body.ReplaceLineEndings(" ").Trim();
        return text.Length == 0 ? "(empty body)" : text.Length <= Length ? text : text[..Length] + "…";
    }

    private static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + " s";

    private static Uri Root(Uri server) => server.AbsoluteUri.EndsWith('/') ? server : new Uri(server.AbsoluteUri + "/");

    private static PrometheusClientOptions Validated(PrometheusClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!options.Server.IsAbsoluteUri || options.Server.Scheme is not ("http" or "https"))
        {
            throw new ArgumentException($"Server is {options.Server}, not an absolute http or https URI", nameof(options));
        }

        if (options.Timeout <= TimeSpan.Zero)
        {
            throw new ArgumentException($"Timeout is {options.Timeout}, not positive", nameof(options));
        }

        return options;
    }
}
