using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DeepSeekOperator.DevCluster.Internal.Workloads;

/// <summary>
/// The numbers a Deployment's spec stands for (<c>pkg/controller/deployment/util</c>): replicas, the rolling update's
/// surge and unavailability resolved from ints or percentages (<c>ResolveFenceposts</c>: surge rounds up,
/// unavailability down, and both zero means one unavailable), the progress deadline and the history limit.
/// </summary>
internal static class DeploymentStrategy
{
    public static long Replicas(JsonObject obj) => Json.Int64(obj["spec"]?["replicas"]) ?? 1;

    public static long MinReadySeconds(JsonObject obj) => Json.Int64(obj["spec"]?["minReadySeconds"]) ?? 0;

    public static bool IsRollingUpdate(JsonObject d) => Json.String(d["spec"]?["strategy"]?["type"]) is null or "RollingUpdate";

    public static bool IsPaused(JsonObject d) => Json.Bool(d["spec"]?["paused"]) == true;

    /// <summary>How many pods above <c>replicas</c> a rolling update may run.</summary>
    public static long MaxSurge(JsonObject d) => IsRollingUpdate(d) ? ResolveFenceposts(d).Surge : 0;

    /// <summary>How many of <c>replicas</c> may be unavailable during a rolling update, at most <c>replicas</c>.</summary>
    public static long MaxUnavailable(JsonObject d)
    {
        var replicas = Replicas(d);
        if (!IsRollingUpdate(d) || replicas == 0)
        {
            return 0;
        }

        return Math.Min(ResolveFenceposts(d).Unavailable, replicas);
    }

    /// <summary><c>spec.progressDeadlineSeconds</c> when it sets a deadline (absent or MaxInt32 means none).</summary>
    public static long? ProgressDeadlineSeconds(JsonObject d) =>
        Json.Int64(d["spec"]?["progressDeadlineSeconds"]) is { } seconds && seconds != int.MaxValue ? seconds : null;

    public static long? RevisionHistoryLimit(JsonObject d) => Json.Int64(d["spec"]?["revisionHistoryLimit"]);

    /// <summary>An int, or a percentage of <paramref name="total"/> rounded up or down (<c>intstr.GetScaledValueFromIntOrPercent</c>).</summary>
    public static long Scaled(JsonNode? value, long total, bool roundUp)
    {
        if (Json.Int64(value) is { } number)
        {
            return number;
        }

        var text = Json.String(value);
        if (text is null || !text.EndsWith('%') || !long.TryParse(text[..^1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var percent))
        {
            throw new FormatException($"invalid value for IntOrString: invalid type: string is not a percentage: {value?.ToJsonString(JsonSerializerOptions.Default)}");
        }

        var scaled = percent * (double)total / 100;
        return (long)(roundUp ? Math.Ceiling(scaled) : Math.Floor(scaled));
    }

    private static (long Surge, long Unavailable) ResolveFenceposts(JsonObject d)
    {
        var rolling = d["spec"]?["strategy"]?["rollingUpdate"];
        var replicas = Replicas(d);
        var surge = rolling?["maxSurge"] is { } s ? Scaled(s, replicas, roundUp: true) : 0;
        var unavailable = rolling?["maxUnavailable"] is { } u ? Scaled(u, replicas, roundUp: false) : 0;
        return surge == 0 && unavailable == 0 ? (0, 1) : (surge, unavailable);
    }
}
