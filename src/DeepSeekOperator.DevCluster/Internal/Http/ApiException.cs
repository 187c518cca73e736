using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal.Resources;

namespace DeepSeekOperator.DevCluster.Internal.Http;

/// <summary>
/// A request the server refuses, carried to the response as a <c>metav1.Status</c> with the code, reason and
/// details kube-apiserver gives the same failure.
/// </summary>
internal class ApiException : Exception
{
    public ApiException(int code, string reason, string message, JsonObject? details = null, IReadOnlyList<StatusCause>? causes = null)
        : base(message)
    {
        Code = code;
        Reason = reason;
        Details = details;
        Causes = causes ?? [];
    }

    public ApiException()
        : this(500, "InternalError", "internal error")
    {
    }

    public ApiException(string message)
        : this(500, "InternalError", message)
    {
    }

    public ApiException(string message, Exception innerException)
        : base(message, innerException)
    {
        Code = 500;
        Reason = "InternalError";
    }

    /// <summary>The HTTP status code.</summary>
    public int Code { get; }

    /// <summary>The status reason (<c>NotFound</c>, <c>Invalid</c>, …); empty for <c>StatusReasonUnknown</c>.</summary>
    public string Reason { get; } = "InternalError";

    /// <summary>The <c>details</c> of the status other than its causes; null when it has none.</summary>
    public JsonObject? Details { get; }

    /// <summary>The <c>details.causes</c> of the status; empty when it has none.</summary>
    public IReadOnlyList<StatusCause> Causes { get; } = [];

    /// <summary>The <c>metav1.Status</c> object for this failure.</summary>
    public JsonObject ToStatus()
    {
        var status = new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Failure",
            ["message"] = Message,
        };
        if (Reason.Length > 0)
        {
            status["reason"] = Reason;
        }

        if (Details is not null || Causes.Count > 0)
        {
            var details = Details?.DeepClone().AsObject() ?? [];
            if (Causes.Count > 0)
            {
                details["causes"] = new JsonArray([.. Causes.Select(CauseJson)]);
            }

            status["details"] = details;
        }

        status["code"] = Code;
        return status;
    }

    public static ApiException NotFound(ResourceType type, string name) =>
        new(404, "NotFound", $"{type.QualifiedResource} \"{name}\" not found", ResourceDetails(type, name));

    public static ApiException NotFoundResource(string group, string plural, string name) =>
        new(404, "NotFound", $"{(group.Length == 0 ? plural : $"{plural}.{group}")} \"{name}\" not found", NameDetails(group, plural, name));

    /// <summary>The answer for a path no resource serves.</summary>
    public static ApiException UnknownPath() => new(404, "NotFound", "the server could not find the requested resource", new JsonObject());

    public static ApiException AlreadyExists(ResourceType type, string name) =>
        new(409, "AlreadyExists", $"{type.QualifiedResource} \"{name}\" already exists", ResourceDetails(type, name));

    public static ApiException Conflict(ResourceType type, string name, string detail) =>
        new(409, "Conflict", $"Operation cannot be fulfilled on {type.QualifiedResource} \"{name}\": {detail}", ResourceDetails(type, name));

    public static ApiException StaleResourceVersion(ResourceType type, string name) =>
        Conflict(type, name, "the object has been modified; please apply your changes to the latest version and try again");

    public static ApiException Invalid(ResourceType type, string name, IReadOnlyList<FieldError> errors)
    {
        var list = errors.Count == 1 ? errors[0].ToString() : "[" + string.Join(", ", errors) + "]";
        return new ApiException(
            422,
            "Invalid",
            $"{type.QualifiedKind} \"{name}\" is invalid: {list}",
            NameDetails(type.Group, type.Kind, name),
            [.. errors.Select(error => new StatusCause(error.Reason, error.Body, error.Field))]);
    }

    public static ApiException BadRequest(string message) => new(400, "BadRequest", message);

    public static ApiException Forbidden(ResourceType type, string name, string detail) =>
        new(403, "Forbidden", $"{type.QualifiedResource} \"{name}\" is forbidden: {detail}", ResourceDetails(type, name));

    public static ApiException MethodNotAllowed() =>
        new(405, "MethodNotAllowed", "the server does not allow this method on the requested resource", new JsonObject());

    public static ApiException Expired(string message) => new(410, "Expired", message);

    public static ApiException UnsupportedMediaType(string contentType) =>
        new(415, "UnsupportedMediaType", $"the body of the request was in an unknown format - accepted media types include: {contentType}");

    public static ApiException NotAcceptable(string accepted) =>
        new(406, "NotAcceptable", $"only the following media types are accepted: {accepted}");

    public static ApiException TooLarge(long limit) => new(413, "RequestEntityTooLarge", $"Request entity too large: limit is {limit}");

    private static JsonObject ResourceDetails(ResourceType type, string name) => NameDetails(type.Group, type.Plural, name);

    private static JsonObject NameDetails(string group, string kind, string name)
    {
        var details = new JsonObject { ["name"] = name };
        if (group.Length > 0)
        {
            details["group"] = group;
        }

        details["kind"] = kind;
        return details;
    }

    private static JsonObject CauseJson(StatusCause cause)
    {
        var item = new JsonObject { ["reason"] = cause.Reason, ["message"] = cause.Message };
        if (cause.Field.Length > 0)
        {
            item["field"] = cause.Field;
        }

        return item;
    }
}
