using System.Numerics;
using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal.Cel;

namespace DeepSeekOperator.DevCluster.Internal.Scheduling;

/// <summary>
/// Resource lists as kube-scheduler's <c>framework.Resource</c> holds them: CPU in millicores, every other resource
/// in whole units (bytes, counts) rounded up, as <c>Quantity.Value()</c> does.
/// </summary>
internal static class ResourceAmounts
{
    public const string Cpu = "cpu";
    public const string Memory = "memory";
    public const string EphemeralStorage = "ephemeral-storage";
    public const string Pods = "pods";

    /// <summary>The CPU a container without a CPU request counts as, for scoring only (<c>DefaultMilliCPURequest</c>).</summary>
    public const long DefaultMilliCpu = 100;

    /// <summary>The memory a container without a memory request counts as, for scoring only (<c>DefaultMemoryRequest</c>).</summary>
    public const long DefaultMemory = 200L * 1024 * 1024;

    /// <summary>The amount of <paramref name="quantity"/> in the unit the scheduler counts <paramref name="resource"/> in; 0 when it does not parse.</summary>
    public static long Amount(string resource, string quantity)
    {
        if (CelQuantity.Parse(quantity, out _) is not { } parsed)
        {
            return 0;
        }

        var perUnit = resource == Cpu ? 1_000_000 : 1_000_000_000;
        var (whole, remainder) = BigInteger.DivRem(parsed.Nanos, perUnit);
        if (remainder > 0)
        {
            whole += 1;
        }

        return whole > long.MaxValue ? long.MaxValue : whole < long.MinValue ? long.MinValue : (long)whole;
    }

    /// <summary>A <c>v1.ResourceList</c> (name to quantity string or number) in scheduler units.</summary>
    public static Dictionary<string, long> Parse(JsonNode? list)
    {
        var amounts = new Dictionary<string, long>(StringComparer.Ordinal);
        if (list is JsonObject entries)
        {
            foreach (var (name, value) in entries)
            {
                if (value is JsonValue v)
                {
                    amounts[name] = Amount(name, v.ToString());
                }
            }
        }

        return amounts;
    }

    /// <summary>
    /// Whether the scheduler checks <paramref name="resource"/> as a scalar resource (<c>IsScalarResourceName</c>):
    /// extended resources such as <c>nvidia.com/gpu</c>, <c>kubernetes.io/</c>-prefixed ones and huge pages.
    /// </summary>
    public static bool IsScalar(string resource) =>
        resource.Contains('/', StringComparison.Ordinal) && !resource.StartsWith("requests.", StringComparison.Ordinal)
        || resource.StartsWith("hugepages-", StringComparison.Ordinal);

    /// <summary>Adds <paramref name="amounts"/> into <paramref name="total"/>.</summary>
    public static void Add(Dictionary<string, long> total, IReadOnlyDictionary<string, long> amounts)
    {
        foreach (var (name, amount) in amounts)
        {
            total[name] = total.GetValueOrDefault(name) + amount;
        }
    }

    /// <summary>Raises each resource of <paramref name="total"/> to at least its amount in <paramref name="amounts"/>.</summary>
    public static void Max(Dictionary<string, long> total, IReadOnlyDictionary<string, long> amounts)
    {
        foreach (var (name, amount) in amounts)
        {
            if (!total.TryGetValue(name, out var current) || amount > current)
            {
                total[name] = amount;
            }
        }
    }
}
