using System.Globalization;
using System.Text.Json;

namespace DeepSeekOperator.Controller.Prometheus.Internal;

/// <summary>
/// Reads the body of <c>/api/v1/query</c>: <c>{"status":"success","data":{"resultType","result"},"warnings"}</c> or
/// <c>{"status":"error","errorType","error"}</c>. Every field is checked, and a bad one is named by its JSON path.
/// </summary>
internal static class QueryAnswer
{
    /// <summary>The result of a successful answer, or Prometheus's error.</summary>
    /// <exception cref="MalformedAnswerException">A field is missing or not of its type.</exception>
    public static Parsed Parse(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new MalformedAnswerException($"the body is a JSON {Kind(root)}, not an object");
        }

        var status = String(root, "status", "status");
        switch (status)
        {
            case "error":
                return new Parsed(null, null, new QueryError(String(root, "errorType", "errorType"), String(root, "error", "error")));
            case "success":
                break;
            default:
                throw new MalformedAnswerException($"status is \"{status}\", not \"success\" or \"error\"");
        }

        var warnings = Warnings(root);
        var data = Property(root, "data", "data", JsonValueKind.Object);
        var resultType = String(data, "resultType", "data.resultType");
        var result = Property(data, "result", "data.result", resultType == "vector" ? JsonValueKind.Array : default);
        PrometheusResult? parsed = resultType switch
        {
            "vector" => new PrometheusVector(Samples(result), warnings),
            "scalar" => Scalar(result, warnings),
            "matrix" or "string" => null,
            _ => throw new MalformedAnswerException($"data.resultType is \"{resultType}\", not vector, scalar, matrix or string"),
        };
        return new Parsed(parsed, resultType, null);
    }

    private static List<PrometheusSample> Samples(JsonElement result)
    {
        var samples = new List<PrometheusSample>(result.GetArrayLength());
        var index = 0;
        foreach (var item in result.EnumerateArray())
        {
            var path = $"data.result[{index.ToString(CultureInfo.InvariantCulture)}]";
            if (item.ValueKind != JsonValueKind.Object)
            {
                throw new MalformedAnswerException($"{path} is a JSON {Kind(item)}, not an object");
            }

            var metric = Property(item, "metric", path + ".metric", JsonValueKind.Object);
            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var label in metric.EnumerateObject())
            {
                labels[label.Name] = label.Value.ValueKind == JsonValueKind.String
                    ? label.Value.GetString()!
                    : throw new MalformedAnswerException($"{path}.metric.{label.Name} is a JSON {Kind(label.Value)}, not a string");
            }

            var (timestamp, value) = Value(Property(item, "value", path + ".value", JsonValueKind.Array), path + ".value");
            samples.Add(new PrometheusSample(labels, timestamp, value));
            index++;
        }

        return samples;
    }

    private static PrometheusScalar Scalar(JsonElement result, IReadOnlyList<string> warnings)
    {
        if (result.ValueKind != JsonValueKind.Array)
        {
            throw new MalformedAnswerException($"data.result is a JSON {Kind(result)}, not an array");
        }

        var (timestamp, value) = Value(result, "data.result");
        return new PrometheusScalar(timestamp, value, warnings);
    }

    /// <summary>A <c>[unix seconds, "value"]</c> pair.</summary>
    private static (DateTimeOffset Timestamp, double Value) Value(JsonElement pair, string path)
    {
        if (pair.GetArrayLength() != 2)
        {
            throw new MalformedAnswerException($"{path} has {pair.GetArrayLength().ToString(CultureInfo.InvariantCulture)} elements, not [timestamp, \"value\"]");
        }

        var time = pair[0];
        if (time.ValueKind != JsonValueKind.Number || !time.TryGetDouble(out var seconds) || !double.IsFinite(seconds))
        {
            throw new MalformedAnswerException($"{path}[0] is {time.GetRawText()}, not a timestamp in seconds");
        }

        var text = pair[1];
        if (text.ValueKind != JsonValueKind.String)
        {
            throw new MalformedAnswerException($"{path}[1] is {text.GetRawText()}, not a number in a string");
        }

        var value = Number(text.GetString()!) ?? throw new MalformedAnswerException($"{path}[1] is \"{text.GetString()}\", not a number");
        return (DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Round(seconds * 1000)), value);
    }

    /// <summary>A sample value as Go's <c>strconv.FormatFloat</c> writes it, <c>NaN</c>, <c>+Inf</c> and <c>-Inf</c> included.</summary>
    private static double? Number(string text) => text switch
    {
        "NaN" => double.NaN,
        "+Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        _ when double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value) => value,
        _ => null,
    };

    private static List<string> Warnings(JsonElement root)
    {
        if (!root.TryGetProperty("warnings", out var warnings) || warnings.ValueKind == JsonValueKind.Null)
        {
            return [];
        }

        if (warnings.ValueKind != JsonValueKind.Array)
        {
            throw new MalformedAnswerException($"warnings is a JSON {Kind(warnings)}, not an array");
        }

        return [.. warnings.EnumerateArray().Select((warning, index) => warning.ValueKind == JsonValueKind.String
            ? warning.GetString()!
            : throw new MalformedAnswerException($"warnings[{index.ToString(CultureInfo.InvariantCulture)}] is a JSON {Kind(warning)}, not a string"))];
    }

    private static string String(JsonElement parent, string name, string path) => Property(parent, name, path, JsonValueKind.String).GetString()!;

    /// <summary>A required property, of <paramref name="kind"/> unless that is <see cref="JsonValueKind.Undefined"/>.</summary>
    private static JsonElement Property(JsonElement parent, string name, string path, JsonValueKind kind)
    {
        if (!parent.TryGetProperty(name, out var value))
        {
            throw new MalformedAnswerException($"{path} is missing");
        }

        return kind == JsonValueKind.Undefined || value.ValueKind == kind
            ? value
            : throw new MalformedAnswerException($"{path} is a JSON {Kind(value)}, not {(kind == JsonValueKind.Array ? "an" : "a")} {Kind(kind)}");
    }

    private static string Kind(JsonElement element) => Kind(element.ValueKind);

    private static string Kind(JsonValueKind kind) => kind switch
    {
        JsonValueKind.True or JsonValueKind.False => "boolean",
        _ => kind.ToString().ToLowerInvariant(),
    };

    /// <summary>What an answer held.</summary>
    /// <param name="Result">The vector or scalar, when the status is success and the result is one.</param>
    /// <param name="ResultType">The <c>data.resultType</c>, when the status is success.</param>
    /// <param name="Error">Prometheus's error when the status is error.</param>
    public sealed record Parsed(PrometheusResult? Result, string? ResultType, QueryError? Error);

    /// <summary>Prometheus's <c>errorType</c> and <c>error</c>.</summary>
    public sealed record QueryError(string ErrorType, string Message);
}

/// <summary>A field of an answer missing or not of its type; the message names it by its JSON path.</summary>
internal sealed class MalformedAnswerException(string message) : Exception(message);
