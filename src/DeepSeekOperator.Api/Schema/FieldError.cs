using System.Text.Json.Nodes;

namespace DeepSeekOperator.Api.Schema;

/// <summary>The kinds of field error, as the Kubernetes API server names them.</summary>
public enum FieldErrorType
{
    /// <summary>A required field is missing.</summary>
    Required,

    /// <summary>A value breaks a rule (type, range, pattern, CEL rule).</summary>
    Invalid,

    /// <summary>A value is not one of the allowed values.</summary>
    NotSupported,

    /// <summary>A string is longer than allowed.</summary>
    TooLong,

    /// <summary>A list has more items than allowed.</summary>
    TooMany,

    /// <summary>A list item repeats the key of another.</summary>
    Duplicate,

    /// <summary>A field the schema does not declare (a typo, or a field of another version).</summary>
    Unknown,
}

/// <summary>
/// One rejected field, formatted as the Kubernetes API server formats field errors, for example
/// <c>spec.experts.shards: Invalid value: 2000: spec.experts.shards in body should be less than or equal to 1024</c>.
/// </summary>
/// <param name="Field">The path of the field, such as <c>spec.autoscaling.routers.minReplicas</c> or <c>spec.router.tolerations[0].key</c>.</param>
/// <param name="Type">What is wrong.</param>
/// <param name="BadValue">The rejected value, as shown in the message; null where the type does not show one.</param>
/// <param name="Detail">The explanation.</param>
public sealed record FieldError(string Field, FieldErrorType Type, string? BadValue, string Detail)
{
    /// <summary>Formats a JSON value the way the API server shows a bad value: strings quoted, objects and lists by type.</summary>
    public static string Show(JsonNode? value) => value switch
    {
        null => "null",
        JsonObject => "\"object\"",
        JsonArray => "\"array\"",
        _ => value.ToJsonString(),
    };

    /// <inheritdoc />
    public override string ToString() => Type switch
    {
        FieldErrorType.Required => $"{Field}: Required value{Suffix(Detail)}",
        FieldErrorType.NotSupported => $"{Field}: Unsupported value: {BadValue}{Suffix(Detail)}",
        FieldErrorType.TooLong => $"{Field}: Too long: {Detail}",
        FieldErrorType.TooMany => $"{Field}: Too many: {BadValue}: {Detail}",
        FieldErrorType.Duplicate => $"{Field}: Duplicate value: {BadValue}",
        FieldErrorType.Unknown => $"unknown field \"{Field}\"",
        _ => $"{Field}: Invalid value: {BadValue}{Suffix(Detail)}",
    };

    private static string Suffix(string detail) => detail.Length == 0 ? string.Empty : ": " + detail;
}
