using System.Globalization;
using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal.Controllers;
using DeepSeekOperator.DevCluster.Internal.Http;
using DeepSeekOperator.DevCluster.Internal.Query;
using DeepSeekOperator.DevCluster.Internal.Storage;
using Microsoft.Extensions.Logging;

namespace DeepSeekOperator.DevCluster.Internal.Policy;

/// <summary>
/// The status half of kube-controller-manager's disruption controller: for each PodDisruptionBudget, the pods its
/// selector matches, how many are healthy (Ready and not being deleted), how many must be, and so how many
/// disruptions are allowed, with the <c>DisruptionAllowed</c> condition (<c>SufficientPods</c> or
/// <c>InsufficientPods</c>; <c>SyncFailed</c> when a selected pod's controller cannot be found). With an integer
/// <c>minAvailable</c> the expected count is the number of selected pods; with a percentage, or with
/// <c>maxUnavailable</c>, it is the sum of the scales of the pods' controllers (a Deployment through its
/// ReplicaSet, a ReplicaSet, a StatefulSet, or any resource with a scale subresource). Pods are never tracked as
/// disrupted: the dev cluster serves no eviction API.
/// </summary>
internal sealed class DisruptionController(ObjectService objects, ILoggerFactory loggerFactory)
    : ControllerLoop(objects, loggerFactory, "disruption-controller")
{
    private const string BudgetsKey = "policy/poddisruptionbudgets";
    private static readonly TimeSpan SyncFailedRetry = TimeSpan.FromSeconds(10);
    private readonly SelectorIndex budgets = new();

    /// <summary>
    /// The controllers (as <c>storageKey|ns/name</c>) each budget's last sync read a scale from, and the budgets by
    /// controller: a controller's new scale resyncs only the budgets that count it. A budget whose pods gain another
    /// controller hears of it through the pods.
    /// </summary>
    private readonly Dictionary<string, HashSet<string>> readBy = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<string>> controllersOf = new(StringComparer.Ordinal);
    private readonly Lock readGate = new();

    protected override bool Watches(string storageKey) =>
        storageKey is BudgetsKey or "pods" or "apps/deployments" or "apps/replicasets" or "apps/statefulsets";

    protected override IEnumerable<string> KeysFor(StoreEvent change)
    {
        switch (change.StorageKey)
        {
            case BudgetsKey:
                File(change.Object, change.Type == StoreEventType.Deleted);
                if (change.Type == StoreEventType.Deleted)
                {
                    Settle(change.Object.Key, []);
                }

                return [change.Object.Key];
            case "pods":
                return budgets.Matching(
                    change.Object.Namespace,
                    new[] { change.Object.Value, change.Previous?.Value }.OfType<JsonObject>().Select(p => p["metadata"]?["labels"] as JsonObject));
            default:
                // A controller's scale is the expected count of budgets given as a percentage or as maxUnavailable.
                var scaled = change.Previous is null || !JsonNode.DeepEquals(change.Previous.Value["spec"]?["replicas"], change.Object.Value["spec"]?["replicas"]);
                return scaled ? Readers(ControllerKey(change.StorageKey, change.Object.Namespace, change.Object.Name)) : [];
        }
    }

    protected override IEnumerable<string> InitialKeys()
    {
        var all = Store.List(BudgetsKey, null).Items;
        foreach (var budget in all)
        {
            File(budget, deleted: false);
        }

        return [.. all.Select(b => b.Key)];
    }

    protected override Task ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        var stored = Store.Get(BudgetsKey, key[..slash], key[(slash + 1)..]);
        if (stored is null)
        {
            return Task.CompletedTask;
        }

        var read = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            Sync(key, stored, read);
        }
        finally
        {
            Settle(key, read);
        }

        return Task.CompletedTask;
    }

    private void Sync(string key, StoredObject stored, HashSet<string> read)
    {
        var budget = stored.Value;
        var selector = Selector(budget);
        var pods = Store.ListMatching("pods", stored.Namespace, selector).Select(p => p.Value).ToList();
        var generation = Json.Int64(budget["metadata"]?["generation"]) ?? 0;
        var events = new List<(string Type, string Reason, string Message)>();
        if (pods.Count == 0)
        {
            events.Add(("Normal", "NoPods", "No matching pods found"));
        }

        JsonObject status;
        try
        {
            var (expected, desired, unmanaged) = ExpectedCount(key, budget, pods, read);
            if (unmanaged.Count > 0)
            {
                events.Add(("Warning", "UnmanagedPods",
                    $"Pods selected by this PodDisruptionBudget (selector: {LabelSelector.Format(budget["spec"]?["selector"])}) were found to be unmanaged. " +
                    "As a result, the status of the PDB cannot be calculated correctly, which may result in undefined behavior. " +
                    "To account for these pods please set \".spec.minAvailable\" field of the PDB to an integer value."));
            }

            var healthy = pods.Count(p => !Meta.IsDeleting(p) && IsReady(p));
            var allowed = expected <= 0 || healthy - desired <= 0 ? 0 : healthy - desired;
            status = new JsonObject
            {
                ["observedGeneration"] = generation,
                ["disruptionsAllowed"] = allowed,
                ["currentHealthy"] = healthy,
                ["desiredHealthy"] = desired,
                ["expectedPods"] = expected,
            };
            status["conditions"] = Condition(
                budget, allowed > 0 ? "True" : "False", allowed > 0 ? "SufficientPods" : "InsufficientPods", "", generation);
        }
        catch (ExpectedCountException error)
        {
            events.Add(("Warning", "CalculateExpectedPodCountFailed", $"Failed to calculate the number of expected pods: {error.Message}"));
            status = budget["status"]?.DeepClone() as JsonObject ?? [];
            status["disruptionsAllowed"] = 0;
            status["conditions"] = Condition(budget, "False", "SyncFailed", error.Message, Json.Int64(status["observedGeneration"]) ?? 0);
            Enqueue(key, SyncFailedRetry);
        }

        if (JsonNode.DeepEquals(status, budget["status"]))
        {
            return;
        }

        var budgets = Type("policy", "poddisruptionbudgets");
        Objects.Patch(budgets, "v1", stored.Namespace, stored.Name, current =>
        {
            var latest = current!;
            if (Meta.Uid(latest) != stored.Uid)
            {
                throw ApiException.NotFound(budgets, stored.Name);
            }

            latest["status"] = status;
            return latest;
        }, Writes, "status", createIfMissing: false);
        foreach (var (type, reason, message) in events)
        {
            RecordEvent(budget, type, reason, message);
        }
    }

    private static string ControllerKey(string storageKey, string ns, string name) => $"{storageKey}|{ns}/{name}";

    /// <summary>The budgets whose last sync read the scale of the controller <paramref name="controller"/>.</summary>
    private List<string> Readers(string controller)
    {
        lock (readGate)
        {
            return readBy.TryGetValue(controller, out var budgetKeys) ? [.. budgetKeys] : [];
        }
    }

    /// <summary>Notes, before the read, that the budget reads the controller: a change committed after the read finds the budget.</summary>
    private void Reads(string budget, string controller, HashSet<string> read)
    {
        if (!read.Add(controller))
        {
            return;
        }

        lock (readGate)
        {
            if (!readBy.TryGetValue(controller, out var budgetKeys))
            {
                budgetKeys = new HashSet<string>(StringComparer.Ordinal);
                readBy[controller] = budgetKeys;
            }

            budgetKeys.Add(budget);
        }
    }

    /// <summary>Forgets what the budget read before its last sync and did not read again.</summary>
    private void Settle(string budget, HashSet<string> read)
    {
        lock (readGate)
        {
            foreach (var controller in controllersOf.GetValueOrDefault(budget) ?? [])
            {
                if (!read.Contains(controller) && readBy.TryGetValue(controller, out var budgetKeys) && budgetKeys.Remove(budget) && budgetKeys.Count == 0)
                {
                    readBy.Remove(controller);
                }
            }

            if (read.Count == 0)
            {
                controllersOf.Remove(budget);
            }
            else
            {
                controllersOf[budget] = read;
            }
        }
    }

    private void File(StoredObject budget, bool deleted)
    {
        if (deleted)
        {
            budgets.Remove(budget.Key);
        }
        else
        {
            budgets.Put(budget, Selector(budget.Value));
        }
    }

    /// <summary>The budget's selector; policy/v1 selects nothing when it is null.</summary>
    private static LabelSelector Selector(JsonObject budget) => LabelSelector.FromLabelSelector(budget["spec"]?["selector"], "spec.selector").Selector;

    private static bool IsReady(JsonObject pod) =>
        (pod["status"]?["conditions"] as JsonArray ?? []).OfType<JsonObject>().Any(c => c["type"]?.ToString() == "Ready" && c["status"]?.ToString() == "True");

    /// <summary>
    /// <c>getExpectedPodCount</c>: the expected and desired healthy counts, and the selected pods no controller owns.
    /// </summary>
    private (long Expected, long Desired, List<string> Unmanaged) ExpectedCount(string key, JsonObject budget, List<JsonObject> pods, HashSet<string> read)
    {
        var spec = budget["spec"];
        if (spec?["maxUnavailable"] is { } maxUnavailable)
        {
            var (expected, unmanaged) = ExpectedScale(key, pods, read);
            var desired = expected - Scaled(maxUnavailable, expected);
            return (expected, Math.Max(0, desired), unmanaged);
        }

        if (spec?["minAvailable"] is not { } minAvailable)
        {
            return (0, 0, []);
        }

        if (Json.Int64(minAvailable) is { } count)
        {
            return (pods.Count, count, []);
        }

        var (scale, unmanagedPods) = ExpectedScale(key, pods, read);
        return (scale, Scaled(minAvailable, scale), unmanagedPods);
    }

    /// <summary><c>getExpectedScale</c>: the sum of the scales of the controllers of the selected pods.</summary>
    private (long Expected, List<string> Unmanaged) ExpectedScale(string key, List<JsonObject> pods, HashSet<string> read)
    {
        var scales = new Dictionary<string, long>(StringComparer.Ordinal);
        var unmanaged = new List<string>();
        foreach (var pod in pods)
        {
            var owner = Meta.Owners(pod).FirstOrDefault(o => o.Controller);
            if (owner is null)
            {
                unmanaged.Add(Meta.Name(pod));
                continue;
            }

            if (scales.ContainsKey(owner.Uid))
            {
                continue;
            }

            var (uid, scale) = ControllerScale(owner, Meta.Namespace(pod), key, read)
                ?? throw new ExpectedCountException($"found no controllers for pod \"{Meta.Name(pod)}\"");
            scales[uid] = scale;
        }

        return (scales.Values.Sum(), unmanaged);
    }

    /// <summary>The finders of the disruption controller: a Deployment behind a ReplicaSet, a ReplicaSet, a StatefulSet, or any scale subresource.</summary>
    private (string Uid, long Scale)? ControllerScale(OwnerReference owner, string ns, string budget, HashSet<string> read)
    {
        var type = Registry.FindKind(owner.Group, owner.Kind);
        if (type is not null)
        {
            Reads(budget, ControllerKey(type.StorageKey, ns, owner.Name), read);
        }

        var found = type is null ? null : Store.Get(type.StorageKey, ns, owner.Name);
        if (type?.Scale is null || found is null || found.Uid != owner.Uid)
        {
            return null;
        }

        if (type is { Group: "apps", Plural: "replicasets" }
            && Meta.Owners(found.Value).FirstOrDefault(o => o is { Controller: true, Kind: "Deployment", Group: "apps" }) is { } deploymentRef)
        {
            Reads(budget, ControllerKey("apps/deployments", ns, deploymentRef.Name), read);
            if (Store.Get("apps/deployments", ns, deploymentRef.Name) is { } deployment && deployment.Uid == deploymentRef.Uid)
            {
                return (deployment.Uid, Json.Int64(deployment.Value["spec"]?["replicas"]) ?? 0);
            }
        }

        JsonNode? replicas = found.Value;
        foreach (var field in type.Scale.SpecReplicasPath.TrimStart('.').Split('.'))
        {
            replicas = replicas?[field];
        }

        return (found.Uid, Json.Int64(replicas) ?? 0);
    }

    /// <summary><c>intstr.GetScaledValueFromIntOrPercent</c> rounding up.</summary>
    private static long Scaled(JsonNode value, long total)
    {
        if (Json.Int64(value) is { } count)
        {
            return count;
        }

        var text = Json.String(value) ?? "";
        if (!text.EndsWith('%'))
        {
            throw new ExpectedCountException("invalid type: string is not a percentage");
        }

        var number = text[..^1];
        if (!long.TryParse(number, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var percent))
        {
            throw new ExpectedCountException($"invalid value for IntOrString: invalid value \"{text}\": strconv.Atoi: parsing \"{number}\": invalid syntax");
        }

        return (long)Math.Ceiling(percent * total / 100.0);
    }

    /// <summary>The conditions with <c>DisruptionAllowed</c> set as <c>meta.SetStatusCondition</c> does.</summary>
    private JsonArray Condition(JsonObject budget, string status, string reason, string message, long observedGeneration)
    {
        var conditions = (budget["status"]?["conditions"] as JsonArray)?.DeepClone() as JsonArray ?? [];
        var existing = conditions.OfType<JsonObject>().FirstOrDefault(c => c["type"]?.ToString() == "DisruptionAllowed");
        var condition = new JsonObject
        {
            ["type"] = "DisruptionAllowed",
            ["status"] = status,
            ["observedGeneration"] = observedGeneration,
            ["lastTransitionTime"] = existing?["status"]?.ToString() == status
                ? existing["lastTransitionTime"]?.DeepClone()
                : Meta.Timestamp(Time.GetUtcNow()),
            ["reason"] = reason,
            ["message"] = message,
        };
        if (existing is null)
        {
            conditions.Add(condition);
        }
        else
        {
            conditions[conditions.IndexOf(existing)] = condition;
        }

        return conditions;
    }

    /// <summary>Why the expected pod count cannot be computed; the budget then allows no disruption.</summary>
    private sealed class ExpectedCountException(string message) : Exception(message);
}
