using System.Collections.Frozen;
using System.Text.Json.Nodes;

namespace DeepSeekOperator.DevCluster.Internal.Patching;

/// <summary>
/// How one list of a built-in kind patches and applies, from the Go API types' struct tags and markers.
/// </summary>
/// <param name="MergeKey">
/// <c>patchMergeKey</c>: the item field a strategic merge patch matches items by; null for a primitive list or no merge.
/// </param>
/// <param name="Merge">Whether the tag says <c>patchStrategy:"merge"</c>; otherwise a strategic merge patch replaces the list.</param>
/// <param name="ListType">The list type server-side apply uses (<c>+listType</c>, or derived from the merge tags).</param>
/// <param name="MapKeys">The <c>+listMapKey</c>s of an associative list.</param>
/// <param name="KeyDefaults">Defaults of key fields that items may omit (ports' <c>protocol</c>).</param>
internal sealed record ListRule(
    string? MergeKey,
    bool Merge,
    ListType ListType,
    IReadOnlyList<string> MapKeys,
    IReadOnlyDictionary<string, string>? KeyDefaults = null);

/// <summary>
/// Patch metadata for the built-in kinds the emulator serves, as a compact table per kind: JSON path (list items add no
/// segment) → <see cref="ListRule"/>, plus the maps that are atomic and the free-form maps (labels, data) whose entries
/// are not struct fields. Everything not in the table is a struct (maps) or an atomic list that a strategic merge
/// patch replaces. A node of the table is the <see cref="IFieldSchema"/> of one place in an object.
/// </summary>
internal sealed class BuiltInSchema : IFieldSchema
{
    private static readonly Dictionary<string, string> Tcp = new() { ["protocol"] = "TCP" };
    private static readonly FrozenDictionary<string, KindTable> Kinds = BuildKinds();
    private static readonly KindTable Generic = new KindBuilder().ObjectMeta("metadata").Build();

    private readonly KindTable table;
    private readonly string path;
    private readonly bool item;

    private BuiltInSchema(KindTable table, string path, bool item)
    {
        this.table = table;
        this.path = path;
        this.item = item;
    }

    /// <summary>The schema of <c>metadata</c> (ObjectMeta), which custom resources share with built-in kinds.</summary>
    public static BuiltInSchema ObjectMeta { get; } = new(Generic, "metadata", false);

    /// <summary>Where this node is in the object: field names joined by dots, list items adding nothing.</summary>
    public string Path => path;

    /// <summary>The list rule here, when the value here is a list the table describes.</summary>
    public ListRule? Rule => item ? null : table.Lists.GetValueOrDefault(path);

    public ListType ListType => Rule?.ListType ?? ListType.Atomic;

    public IReadOnlyList<string> ListMapKeys => Rule?.MapKeys ?? [];

    public bool IsAtomicMap => !item && table.AtomicMaps.Contains(path);

    public IFieldSchema Items => new BuiltInSchema(table, path, true);

    /// <summary>
    /// The root schema of a built-in kind; a kind the table does not list gets only ObjectMeta's rules, so that
    /// everything else in it is a struct or an atomic list.
    /// </summary>
    public static BuiltInSchema For(string group, string kind) =>
        new(Kinds.GetValueOrDefault(group + "/" + kind, Generic), "", false);

    public IFieldSchema Field(string name) => new BuiltInSchema(table, path.Length == 0 ? name : path + "." + name, false);

    /// <summary>The schema of a member, typed for callers that also need the strategic merge rules.</summary>
    public BuiltInSchema Member(string name) => (BuiltInSchema)Field(name);

    public bool IsNamedField(string name) => !table.FreeMaps.Contains(path);

    public JsonNode? ListMapKeyDefault(string key) =>
        Rule?.KeyDefaults?.GetValueOrDefault(key) is { } value ? JsonValue.Create(value) : null;

    private static FrozenDictionary<string, KindTable> BuildKinds()
    {
        var kinds = new Dictionary<string, KindTable>
        {
            ["/Pod"] = Kind().PodSpec("spec").PodStatus("status").Build(),
            ["/PodTemplate"] = Kind().PodTemplate("template").Build(),
            ["/Service"] = Kind()
                .Merge("spec.ports", "port", ["port", "protocol"], Tcp)
                .AtomicMap("spec.selector").FreeMap("spec.selector")
                .Conditions("status.conditions")
                .Build(),
            ["/Endpoints"] = Kind().Build(),
            ["/ConfigMap"] = Kind().FreeMap("data").FreeMap("binaryData").Build(),
            ["/Secret"] = Kind().FreeMap("data").FreeMap("stringData").Build(),
            ["/Namespace"] = Kind().Conditions("status.conditions").Build(),
            ["/ServiceAccount"] = Kind().Merge("secrets", "name").Build(),
            ["/Event"] = Kind().Build(),
            ["/Node"] = Kind()
                .Set("spec.podCIDRs")
                .Conditions("status.conditions")
                .MergeAtomic("status.addresses", "type")
                .FreeMap("status.capacity").FreeMap("status.allocatable")
                .Build(),
            ["/PersistentVolumeClaim"] = Kind()
                .Conditions("status.conditions")
                .FreeMap("spec.resources.requests").FreeMap("spec.resources.limits").FreeMap("status.capacity")
                .Build(),
            ["apps/Deployment"] = Workload().Build(),
            ["apps/StatefulSet"] = Workload().Build(),
            ["apps/ReplicaSet"] = Workload().Build(),
            ["apps/DaemonSet"] = Workload().Build(),
            ["batch/Job"] = Kind()
                .PodTemplate("spec.template")
                .AtomicMap("spec.selector")
                .MergeAtomic("status.conditions", "type")
                .Build(),
            ["batch/CronJob"] = Kind().PodTemplate("spec.jobTemplate.spec.template").ObjectMeta("spec.jobTemplate.metadata").Build(),
            ["discovery.k8s.io/EndpointSlice"] = Kind().Build(),
            ["events.k8s.io/Event"] = Kind().Build(),
            ["policy/PodDisruptionBudget"] = Kind()
                .AtomicMap("spec.selector")
                .Conditions("status.conditions")
                .FreeMap("status.disruptedPods")
                .Build(),
            ["networking.k8s.io/NetworkPolicy"] = Kind().AtomicMap("spec.podSelector").Build(),
            ["coordination.k8s.io/Lease"] = Kind().Build(),
            ["rbac.authorization.k8s.io/Role"] = Kind().Build(),
            ["rbac.authorization.k8s.io/ClusterRole"] = Kind().Build(),
            ["rbac.authorization.k8s.io/RoleBinding"] = Kind().AtomicMap("roleRef").Build(),
            ["rbac.authorization.k8s.io/ClusterRoleBinding"] = Kind().AtomicMap("roleRef").Build(),
            ["autoscaling/HorizontalPodAutoscaler"] = Kind().Conditions("status.conditions").Build(),
            ["apiextensions.k8s.io/CustomResourceDefinition"] = Kind().MapOnly("status.conditions", "type").Build(),
        };
        return kinds.ToFrozenDictionary();

        static KindBuilder Kind() => new KindBuilder().ObjectMeta("metadata");

        static KindBuilder Workload() => Kind()
            .PodTemplate("spec.template")
            .AtomicMap("spec.selector")
            .Conditions("status.conditions");
    }

    /// <summary>The rules of one kind.</summary>
    private sealed record KindTable(
        FrozenDictionary<string, ListRule> Lists,
        FrozenSet<string> AtomicMaps,
        FrozenSet<string> FreeMaps);

    /// <summary>Assembles a kind's table from the fragments Go types share (ObjectMeta, PodSpec, Container).</summary>
    private sealed class KindBuilder
    {
        private readonly Dictionary<string, ListRule> lists = [];
        private readonly HashSet<string> atomicMaps = [];
        private readonly HashSet<string> freeMaps = [];

        public KindTable Build() => new(lists.ToFrozenDictionary(), atomicMaps.ToFrozenSet(), freeMaps.ToFrozenSet());

        /// <summary><c>patchStrategy:"merge" patchMergeKey:key</c> with <c>+listType=map</c> on <paramref name="mapKeys"/> (default: the merge key).</summary>
        public KindBuilder Merge(string at, string key, string[]? mapKeys = null, Dictionary<string, string>? defaults = null)
        {
            lists[at] = new ListRule(key, true, ListType.Map, mapKeys ?? [key], defaults);
            return this;
        }

        /// <summary><c>patchStrategy:"merge" patchMergeKey:key</c> with <c>+listType=atomic</c>.</summary>
        public KindBuilder MergeAtomic(string at, string key)
        {
            lists[at] = new ListRule(key, true, ListType.Atomic, []);
            return this;
        }

        /// <summary>A list of scalars with <c>patchStrategy:"merge"</c> and <c>+listType=set</c>.</summary>
        public KindBuilder Set(string at)
        {
            lists[at] = new ListRule(null, true, ListType.Set, []);
            return this;
        }

        /// <summary><c>+listType=map</c> without a patch strategy: a strategic merge patch replaces it.</summary>
        public KindBuilder MapOnly(string at, string key)
        {
            lists[at] = new ListRule(null, false, ListType.Map, [key]);
            return this;
        }

        public KindBuilder Conditions(string at) => Merge(at, "type");

        public KindBuilder AtomicMap(string at)
        {
            atomicMaps.Add(at);
            return this;
        }

        public KindBuilder FreeMap(string at)
        {
            freeMaps.Add(at);
            return this;
        }

        public KindBuilder ObjectMeta(string at) => Set(at + ".finalizers")
            .Merge(at + ".ownerReferences", "uid")
            .FreeMap(at + ".labels")
            .FreeMap(at + ".annotations");

        public KindBuilder PodTemplate(string at) => ObjectMeta(at + ".metadata").PodSpec(at + ".spec");

        public KindBuilder PodSpec(string at) => Merge(at + ".volumes", "name")
            .Merge(at + ".initContainers", "name").Container(at + ".initContainers")
            .Merge(at + ".containers", "name").Container(at + ".containers")
            .Merge(at + ".ephemeralContainers", "name").Container(at + ".ephemeralContainers")
            .Merge(at + ".imagePullSecrets", "name")
            .Merge(at + ".hostAliases", "ip")
            .Merge(at + ".topologySpreadConstraints", "topologyKey", ["topologyKey", "whenUnsatisfiable"])
            .Merge(at + ".resourceClaims", "name")
            .Merge(at + ".schedulingGates", "name")
            .AtomicMap(at + ".nodeSelector").FreeMap(at + ".nodeSelector")
            .FreeMap(at + ".overhead");

        public KindBuilder PodStatus(string at) => Conditions(at + ".conditions")
            .Merge(at + ".podIPs", "ip")
            .Merge(at + ".hostIPs", "ip")
            .Merge(at + ".resourceClaimStatuses", "name");

        private KindBuilder Container(string at) => Merge(at + ".ports", "containerPort", ["containerPort", "protocol"], Tcp)
            .Merge(at + ".env", "name")
            .Merge(at + ".volumeMounts", "mountPath")
            .Merge(at + ".volumeDevices", "devicePath")
            .MapOnly(at + ".resources.claims", "name")
            .FreeMap(at + ".resources.limits")
            .FreeMap(at + ".resources.requests");
    }
}
