using System.Text.Json.Nodes;

namespace DeepSeekOperator.DevCluster.Internal.Patching;

/// <summary>One entry of a <c>metav1.Status</c>'s <c>details.causes</c>.</summary>
/// <param name="Reason">The cause type: <c>FieldManagerConflict</c>, <c>UnexpectedServerResponse</c>, ….</param>
/// <param name="Message">What went wrong.</param>
/// <param name="Field">The field it concerns, empty when none.</param>
internal sealed record StatusCause(string Reason, string Message, string Field = "");

/// <summary>
/// A patch that kube-apiserver refuses, with the HTTP status it answers and the <c>metav1.Status</c> it sends:
/// 400 <c>BadRequest</c> for a body it cannot decode, 422 <c>Invalid</c> for a JSON patch operation that does not apply,
/// 409 <c>Conflict</c> for an apply that conflicts with other managers, 415 <c>UnsupportedMediaType</c> for a patch type
/// the resource does not take, and 500 with no reason where kube-apiserver passes a plain Go error through.
/// </summary>
internal sealed class PatchException : Exception
{
    public PatchException(int code, string reason, string message, IReadOnlyList<StatusCause>? causes = null)
        : base(message)
    {
        Code = code;
        Reason = reason;
        Causes = causes ?? [];
    }

    /// <summary>The HTTP status code.</summary>
    public int Code { get; }

    /// <summary>The status reason (<c>BadRequest</c>, <c>Invalid</c>, …); empty for <c>StatusReasonUnknown</c>.</summary>
    public string Reason { get; }

    /// <summary>The <c>details.causes</c> of the status; empty when it has none.</summary>
    public IReadOnlyList<StatusCause> Causes { get; }

    /// <summary><c>errors.NewBadRequest</c>: 400, reason <c>BadRequest</c>.</summary>
    public static PatchException BadRequest(string message) => new(400, "BadRequest", message);

    /// <summary>
    /// <c>errors.NewGenericServerResponse(422, …)</c>, which is how kube-apiserver reports a JSON patch that does not apply:
    /// the message is fixed and the library's error travels as an <c>UnexpectedServerResponse</c> cause.
    /// </summary>
    public static PatchException Unprocessable(string detail) => new(
        422,
        "Invalid",
        "the server rejected our request due to an error in our request",
        [new StatusCause("UnexpectedServerResponse", detail)]);

    /// <summary>A plain error that kube-apiserver answers with 500 and no reason (<c>StatusReasonUnknown</c>).</summary>
    public static PatchException Internal(string message) => new(500, "", message);

    /// <summary><c>negotiation.NewUnsupportedMediaTypeError</c>: the patch type is not one the resource accepts.</summary>
    public static PatchException UnsupportedMediaType(IEnumerable<string> accepted) => new(
        415,
        "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media types include: " + string.Join(", ", accepted));

    /// <summary>The <c>metav1.Status</c> object kube-apiserver writes for this error.</summary>
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

        if (Causes.Count > 0)
        {
            var causes = new JsonArray();
            foreach (var cause in Causes)
            {
                var item = new JsonObject { ["reason"] = cause.Reason, ["message"] = cause.Message };
                if (cause.Field.Length > 0)
                {
                    item["field"] = cause.Field;
                }

                causes.Add(item);
            }

            status["details"] = new JsonObject { ["causes"] = causes };
        }

        status["code"] = Code;
        return status;
    }
}
