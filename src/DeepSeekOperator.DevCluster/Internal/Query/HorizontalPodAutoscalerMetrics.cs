using System.Text.Json;
using System.Text.Json.Nodes;

namespace DeepSeekOperator.DevCluster.Internal.Query;

/// <summary>
/// The Targets cell of a HorizontalPodAutoscaler (<c>formatHPAMetrics</c>): <c>cpu: 40%/80%</c>, <c>&lt;unknown&gt;/500m</c>, two
/// metrics at most then <c>+ N more...</c>. Reads autoscaling/v2 objects and autoscaling/v1 ones (whose CPU target
/// converts to a Resource metric).
/// </summary>
internal static class HorizontalPodAutoscalerMetrics
{
    private const string Unknown = "<unknown>";

    /// <summary>The Targets cell.</summary>
    public static string Format(JsonObject hpa)
    {
        var (specs, statuses) = Metrics(hpa);
        if (specs.Count == 0)
        {
            return "<none>";
        }

        var list = new List<string>();
        for (var i = 0; i < specs.Count; i++)
        {
            var status = i < statuses.Count ? statuses[i] : null;
            list.Add(Describe(specs[i], status));
        }

        const int max = 2;
        var joined = string.Join(", ", list.Take(max));
        return list.Count > max ? FormattableString.Invariant($"{joined} + {list.Count - max} more...") : joined;
    }

    private static string Describe(JsonNode? spec, JsonNode? status)
    {
        switch (JsonFields.String(spec, "type"))
        {
            case "External":
                return ValueOrAverage(JsonFields.Object(spec, "external", "target"), JsonFields.Object(status, "external"));
            case "Pods":
                var podsCurrent = JsonFields.Object(status, "pods") is { } pods ? Quantity(JsonFields.At(pods, "current", "averageValue")) : Unknown;
                return podsCurrent + "/" + Quantity(JsonFields.At(spec, "pods", "target", "averageValue"));
            case "Object":
                return ValueOrAverage(JsonFields.Object(spec, "object", "target"), JsonFields.Object(status, "object"));
            case "Resource":
                return Resource(JsonFields.Object(spec, "resource"), JsonFields.Object(status, "resource"));
            case "ContainerResource":
                return Resource(JsonFields.Object(spec, "containerResource"), JsonFields.Object(status, "containerResource"));
            default:
                return "<unknown type>";
        }
    }

    private static string ValueOrAverage(JsonObject? target, JsonObject? status)
    {
        if (JsonFields.At(target, "averageValue") is { } averageValue)
        {
            var current = JsonFields.At(status, "current", "averageValue") is { } value ? Quantity(value) : Unknown;
            return current + "/" + Quantity(averageValue) + " (avg)";
        }

        return (status is null ? Unknown : Quantity(JsonFields.At(status, "current", "value"))) + "/" + Quantity(JsonFields.At(target, "value"));
    }

    private static string Resource(JsonObject? spec, JsonObject? status)
    {
        var name = JsonFields.String(spec, "name");
        if (JsonFields.At(spec, "target", "averageValue") is { } averageValue)
        {
            var current = status is null ? Unknown : Quantity(JsonFields.At(status, "current", "averageValue"));
            return name + ": " + current + "/" + Quantity(averageValue);
        }

        var currentUtilization = JsonFields.OptionalInteger(status, "current", "averageUtilization") is { } used
            ? FormattableString.Invariant($"{used}%")
            : Unknown;
        var targetUtilization = JsonFields.OptionalInteger(spec, "target", "averageUtilization") is { } wanted
            ? FormattableString.Invariant($"{wanted}%")
            : "<auto>";
        return name + ": " + currentUtilization + "/" + targetUtilization;
    }

    // A resource.Quantity as stored: its canonical string; an absent one prints as zero.
    private static string Quantity(JsonNode? quantity) => quantity switch
    {
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        JsonValue v when v.GetValueKind() == JsonValueKind.Number => v.ToJsonString(),
        _ => "0",
    };

    private static (IReadOnlyList<JsonNode?> Specs, IReadOnlyList<JsonNode?> Statuses) Metrics(JsonObject hpa)
    {
        if (JsonFields.At(hpa, "spec", "metrics") is JsonArray || JsonFields.OptionalInteger(hpa, "spec", "targetCPUUtilizationPercentage") is not { } target)
        {
            return (JsonFields.Array(hpa, "spec", "metrics"), JsonFields.Array(hpa, "status", "currentMetrics"));
        }

        JsonNode spec = new JsonObject
        {
            ["type"] = "Resource",
            ["resource"] = new JsonObject { ["name"] = "cpu", ["target"] = new JsonObject { ["type"] = "Utilization", ["averageUtilization"] = target } },
        };
        var current = JsonFields.OptionalInteger(hpa, "status", "currentCPUUtilizationPercentage");
        JsonNode? status = current is { } used
            ? new JsonObject
            {
                ["type"] = "Resource",
                ["resource"] = new JsonObject { ["name"] = "cpu", ["current"] = new JsonObject { ["averageUtilization"] = used } },
            }
            : null;
        return ([spec], status is null ? [] : [status]);
    }
}
