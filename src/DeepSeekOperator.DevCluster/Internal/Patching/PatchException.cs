using DeepSeekOperator.DevCluster.Internal.Http;

namespace DeepSeekOperator.DevCluster.Internal.Patching;

/// <summary>
/// A patch that kube-apiserver refuses, with the HTTP status it answers and the <c>metav1.Status</c> it sends:
/// 400 <c>BadRequest</c> for a body it cannot decode, 422 <c>Invalid</c> for a JSON patch operation that does not apply,
/// 409 <c>Conflict</c> for an apply that conflicts with other managers, 415 <c>UnsupportedMediaType</c> for a patch type
/// the resource does not take, and 500 with no reason where kube-apiserver passes a plain Go error through.
/// </summary>
internal sealed class PatchException(int code, string reason, string message, IReadOnlyList<StatusCause>? causes = null)
    : ApiException(code, reason, message, causes: causes)
{
    /// <summary><c>errors.NewBadRequest</c>: 400, reason <c>BadRequest</c>.</summary>
    public static new PatchException BadRequest(string message) => new(400, "BadRequest", message);

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
}
