namespace DeepSeekOperator.DevCluster.Internal.Http;

/// <summary>One entry of a <c>metav1.Status</c>'s <c>details.causes</c>.</summary>
/// <param name="Reason">The cause type: <c>FieldValueInvalid</c>, <c>FieldManagerConflict</c>, <c>UnexpectedServerResponse</c>, ….</param>
/// <param name="Message">What went wrong.</param>
/// <param name="Field">The field it concerns, empty when none.</param>
internal sealed record StatusCause(string Reason, string Message, string Field = "");
