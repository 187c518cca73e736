using DeepSeekOperator.Api.Schema;

namespace DeepSeekOperator.Controller.Children;

/// <summary>
/// A DeepSeekModel whose children cannot be built, such as one with more shards than its model has routed experts,
/// or a name too long for a child's; the reconciler reports it as <c>InvalidSpec</c> and waits for the spec to change.
/// </summary>
/// <param name="error">The rejected field.</param>
public sealed class InvalidModelSpecException(FieldError error) : Exception(error?.ToString())
{
    /// <summary>The rejected field, its value and why.</summary>
    public FieldError Error { get; } = error ?? throw new ArgumentNullException(nameof(error));
}
