namespace DeepSeekOperator.DevCluster.Internal.Resources;

/// <summary>
/// The resources the server currently serves: the built-in ones and those of established CRDs. Readers get an
/// immutable view; registering or removing a CRD swaps it.
/// </summary>
internal sealed class ResourceRegistry
{
    private readonly Lock gate = new();
    private View view;

    public ResourceRegistry()
    {
        view = new View(BuiltinResources.All);
    }

    /// <summary>Raised after the set of served resources changes.</summary>
    public event Action? Changed;

    /// <summary>Every served resource.</summary>
    public IReadOnlyList<ResourceType> All => view.Types;

    /// <summary>The resource served at <c>group/version/plural</c>, or null.</summary>
    public ResourceType? Find(string group, string version, string plural) =>
        view.ByPath.TryGetValue((group, version, plural), out var type) ? type : null;

    /// <summary>The resource of a kind in a group (any version), or null.</summary>
    public ResourceType? FindKind(string group, string kind) =>
        view.ByKind.TryGetValue((group, kind), out var type) ? type : null;

    /// <summary>The resource whose objects live under a storage key, or null.</summary>
    public ResourceType? FindStorage(string storageKey) =>
        view.ByStorage.TryGetValue(storageKey, out var type) ? type : null;

    /// <summary>Every group with its served versions, in discovery order (legacy core group excluded).</summary>
    public IReadOnlyList<(string Group, IReadOnlyList<string> Versions)> Groups => view.Groups;

    /// <summary>The resources served in one group version.</summary>
    public IReadOnlyList<ResourceType> InGroupVersion(string group, string version) =>
        view.ByGroupVersion.TryGetValue((group, version), out var types) ? types : [];

    /// <summary>Serves (or re-serves with new settings) the resource of a CRD.</summary>
    public void Register(ResourceType type)
    {
        lock (gate)
        {
            var types = view.Types.Where(t => !(t.Group == type.Group && t.Plural == type.Plural)).Append(type);
            view = new View([.. types]);
        }

        Changed?.Invoke();
    }

    /// <summary>Stops serving a custom resource.</summary>
    public void Unregister(string group, string plural)
    {
        lock (gate)
        {
            view = new View([.. view.Types.Where(t => !(t.Group == group && t.Plural == plural && t.Custom is not null))]);
        }

        Changed?.Invoke();
    }

    private sealed class View
    {
        public View(IReadOnlyList<ResourceType> types)
        {
            Types = types;
            foreach (var type in types)
            {
                foreach (var version in type.Versions)
                {
                    ByPath[(type.Group, version, type.Plural)] = type;
                    if (!ByGroupVersion.TryGetValue((type.Group, version), out var list))
                    {
                        list = [];
                        ByGroupVersion[(type.Group, version)] = list;
                    }

                    list.Add(type);
                }

                ByKind.TryAdd((type.Group, type.Kind), type);
                ByStorage.TryAdd(type.StorageKey, type);
            }

            Groups = [.. ByGroupVersion.Keys.Where(k => k.Group.Length > 0).GroupBy(k => k.Group)
                .OrderBy(g => GroupRank(g.Key)).ThenBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => (g.Key, (IReadOnlyList<string>)[.. g.Select(k => k.Version).OrderBy(v => v, VersionComparer.Instance)]))];
        }

        public IReadOnlyList<ResourceType> Types { get; }

        public Dictionary<(string Group, string Version, string Plural), ResourceType> ByPath { get; } = [];

        public Dictionary<(string Group, string Kind), ResourceType> ByKind { get; } = [];

        public Dictionary<string, ResourceType> ByStorage { get; } = new(StringComparer.Ordinal);

        public Dictionary<(string Group, string Version), List<ResourceType>> ByGroupVersion { get; } = [];

        public IReadOnlyList<(string Group, IReadOnlyList<string> Versions)> Groups { get; }

        // Built-in groups first, in the order kube-apiserver lists them; CRD groups after, alphabetically.
        private static int GroupRank(string group) => group switch
        {
            "apps" => 0,
            "events.k8s.io" => 1,
            "autoscaling" => 2,
            "policy" => 3,
            "rbac.authorization.k8s.io" => 4,
            "networking.k8s.io" => 5,
            "apiextensions.k8s.io" => 6,
            "coordination.k8s.io" => 7,
            "discovery.k8s.io" => 8,
            _ => 100,
        };
    }
}

/// <summary>Kubernetes version priority: GA before beta before alpha, higher numbers first (<c>v2, v1, v1beta2, v1beta1, v1alpha1</c>).</summary>
internal sealed class VersionComparer : IComparer<string>
{
    public static readonly VersionComparer Instance = new();

    public int Compare(string? x, string? y)
    {
        var a = Parse(x ?? "");
        var b = Parse(y ?? "");
        if (a is null || b is null)
        {
            return a is null && b is null ? string.CompareOrdinal(x, y) : a is null ? 1 : -1;
        }

        var stage = a.Value.Stage.CompareTo(b.Value.Stage);
        if (stage != 0)
        {
            return stage;
        }

        var major = b.Value.Major.CompareTo(a.Value.Major);
        return major != 0 ? major : b.Value.Minor.CompareTo(a.Value.Minor);
    }

    private static (int Major, int Stage, int Minor)? Parse(string version)
    {
        var match = System.Text.RegularExpressions.Regex.Match(version, "^v([1-9][0-9]*)(?:(alpha|beta)([1-9][0-9]*))?$");
        if (!match.Success)
        {
            return null;
        }

        var major = int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        if (!match.Groups[2].Success)
        {
            return (major, 0, 0);
        }

        return (major, match.Groups[2].Value == "beta" ? 1 : 2, int.Parse(match.Groups[3].Value, System.Globalization.CultureInfo.InvariantCulture));
    }
}
