using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DeepSeekOperator.DevCluster.Internal;

/// <summary>The kinds of field error kube-apiserver reports, with the reason strings of <c>metav1.StatusCause</c>.</summary>
internal enum FieldErrorType
{
    NotFound,
    Required,
    Duplicate,
    Invalid,
    NotSupported,
    Forbidden,
    TooLong,
    TooMany,
    Internal,
    TypeInvalid,
}

/// <summary>
/// One validation failure at a field path, formatted exactly as Kubernetes' <c>field.Error</c> does
/// (<c>spec.replicas: Invalid value: 5: must be less than or equal to 3</c>).
/// </summary>
/// <param name="Type">What is wrong.</param>
/// <param name="Field">The path in Kubernetes notation: <c>spec.containers[0].name</c>, <c>metadata.labels[app]</c>.</param>
/// <param name="Value">The offending value, already formatted (<see cref="FormatValue"/>); null when the kind of error shows none.</param>
/// <param name="Detail">Why it is wrong; may be empty.</param>
internal sealed record FieldError(FieldErrorType Type, string Field, string? Value, string Detail)
{
    /// <summary>The <c>reason</c> of the status cause: <c>FieldValueInvalid</c>, <c>FieldValueRequired</c>, ….</summary>
    public string Reason => Type switch
    {
        FieldErrorType.NotFound => "FieldValueNotFound",
        FieldErrorType.Required => "FieldValueRequired",
        FieldErrorType.Duplicate => "FieldValueDuplicate",
        FieldErrorType.Invalid => "FieldValueInvalid",
        FieldErrorType.NotSupported => "FieldValueNotSupported",
        FieldErrorType.Forbidden => "FieldValueForbidden",
        FieldErrorType.TooLong => "FieldValueTooLong",
        FieldErrorType.TooMany => "FieldValueTooMany",
        FieldErrorType.Internal => "InternalError",
        FieldErrorType.TypeInvalid => "FieldValueTypeInvalid",
        _ => throw new ArgumentOutOfRangeException(nameof(Type), Type, null),
    };

    /// <summary>The message without the field path, as the status cause's <c>message</c> carries it.</summary>
    public string Body
    {
        get
        {
            var head = Type switch
            {
                FieldErrorType.NotFound => "Not found",
                FieldErrorType.Required => "Required value",
                FieldErrorType.Duplicate => "Duplicate value",
                FieldErrorType.Invalid or FieldErrorType.TypeInvalid => "Invalid value",
                FieldErrorType.NotSupported => "Unsupported value",
                FieldErrorType.Forbidden => "Forbidden",
                FieldErrorType.TooLong => "Too long",
                FieldErrorType.TooMany => "Too many",
                FieldErrorType.Internal => "Internal error",
                _ => throw new ArgumentOutOfRangeException(nameof(Type), Type, null),
            };
            var text = new StringBuilder(head);
            if (Value is not null)
            {
                text.Append(": ").Append(Value);
            }

            if (Detail.Length > 0)
            {
                text.Append(": ").Append(Detail);
            }

            return text.ToString();
        }
    }

    /// <inheritdoc/>
    public override string ToString() => Field.Length == 0 ? Body : $"{Field}: {Body}";

    public static FieldError Required(string field, string detail = "") => new(FieldErrorType.Required, field, null, detail);

    public static FieldError Invalid(string field, JsonNode? value, string detail) => new(FieldErrorType.Invalid, field, FormatValue(value), detail);

    public static FieldError Invalid(string field, string value, string detail) => new(FieldErrorType.Invalid, field, GoText.Quote(value), detail);

    public static FieldError Forbidden(string field, string detail) => new(FieldErrorType.Forbidden, field, null, detail);

    public static FieldError Duplicate(string field, JsonNode? value) => new(FieldErrorType.Duplicate, field, FormatValue(value), "");

    public static FieldError NotSupported(string field, JsonNode? value, IEnumerable<string> supported) =>
        new(FieldErrorType.NotSupported, field, FormatValue(value), "supported values: " + string.Join(", ", supported.Select(GoText.Quote)));

    /// <summary>
    /// Formats a value the way Go's <c>%#v</c>-ish rendering in <c>field.Error</c> does for JSON values:
    /// strings quoted, numbers and booleans bare, <c>null</c>, and <c>"object"</c> / <c>"array"</c> for containers.
    /// </summary>
    public static string FormatValue(JsonNode? value) => value switch
    {
        null => "null",
        JsonObject => "\"object\"",
        JsonArray => "\"array\"",
        JsonValue v when v.GetValueKind() == JsonValueKind.String => GoText.Quote(v.GetValue<string>()),
        JsonValue v when v.GetValueKind() == JsonValueKind.Number => v.ToJsonString(),
        JsonValue v when v.GetValueKind() == JsonValueKind.True => "true",
        JsonValue v when v.GetValueKind() == JsonValueKind.False => "false",
        _ => value.ToJsonString(),
    };
}
