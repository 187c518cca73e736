using System.Net;

namespace DeepSeekOperator.Controller.Prometheus;

/// <summary>An instant query that gave no usable answer; the message names the server, the query and what went wrong.</summary>
public sealed class PrometheusQueryException : Exception
{
    /// <summary>A failed query.</summary>
    /// <param name="failure">What went wrong.</param>
    /// <param name="server">The Prometheus asked.</param>
    /// <param name="query">The PromQL expression.</param>
    /// <param name="detail">Why, in words.</param>
    /// <param name="innerException">The exception behind it, if any.</param>
    public PrometheusQueryException(PrometheusFailure failure, Uri server, string query, string detail, Exception? innerException = null)
        : base($"{Describe(failure)} (Prometheus at {server}, query '{query}'): {detail}", innerException)
    {
        Failure = failure;
        Server = server;
        Query = query;
    }

    /// <summary>What went wrong.</summary>
    public PrometheusFailure Failure { get; }

    /// <summary>The Prometheus asked.</summary>
    public Uri Server { get; }

    /// <summary>The PromQL expression.</summary>
    public string Query { get; }

    /// <summary>Prometheus's <c>errorType</c> (<c>bad_data</c>, <c>execution</c>, <c>timeout</c>, …) when it answered with an error.</summary>
    public string? ErrorType { get; init; }

    /// <summary>The HTTP status of the answer, when there was one.</summary>
    public HttpStatusCode? StatusCode { get; init; }

    private static string Describe(PrometheusFailure failure) => failure switch
    {
        PrometheusFailure.QueryError => "Prometheus refused the query",
        PrometheusFailure.HttpError => "Prometheus answered with an HTTP error",
        PrometheusFailure.Unreachable => "Prometheus could not be reached",
        PrometheusFailure.Timeout => "Prometheus did not answer in time",
        PrometheusFailure.MalformedAnswer => "Prometheus's answer is malformed",
        PrometheusFailure.UnexpectedResultType => "Prometheus's answer is not of the expected type",
        _ => throw new ArgumentOutOfRangeException(nameof(failure), failure, "unknown failure"),
    };
}

/// <summary>Why an instant query gave no usable answer.</summary>
public enum PrometheusFailure
{
    /// <summary>Prometheus answered <c>{"status":"error"}</c>: a syntax error, a failed evaluation, its own timeout.</summary>
    QueryError,

    /// <summary>An HTTP error status without Prometheus's error body, such as a 401 from a proxy in front of it.</summary>
    HttpError,

    /// <summary>No connection: refused, reset, or a name that does not resolve.</summary>
    Unreachable,

    /// <summary>No answer within the query's timeout.</summary>
    Timeout,

    /// <summary>An answer that is not the JSON of the HTTP API: a missing field or a value that is not a number.</summary>
    MalformedAnswer,

    /// <summary>A well-formed answer of another result type, such as a range vector where an instant vector was expected.</summary>
    UnexpectedResultType,
}
