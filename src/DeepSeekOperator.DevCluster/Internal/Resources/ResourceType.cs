using System.Text.Json.Nodes;

namespace DeepSeekOperator.DevCluster.Internal.Resources;

/// <summary>Where a kind's replica count lives, for its <c>/scale</c> subresource.</summary>
/// <param name="SpecReplicasPath">JSON path of the desired replicas, e.g. <c>.spec.replicas</c>.</param>
/// <param name="StatusReplicasPath">JSON path of the observed replicas, e.g. <c>.status.replicas</c>.</param>
/// <param name="LabelSelectorPath">JSON path of the selector string in status, or null.</param>
internal sealed record ScaleSpec(string SpecReplicasPath, string StatusReplicasPath, string? LabelSelectorPath);

/// <summary>The schema of one served version of a custom resource, with its printer columns.</summary>
/// <param name="Name">The version, e.g. <c>v1alpha1</c>.</param>
/// <param name="Served">Whether the version is served.</param>
/// <param name="Storage">Whether objects are stored at this version.</param>
/// <param name="Schema">The <c>openAPIV3Schema</c>, or null when the CRD gives none.</param>
/// <param name="PrinterColumns">The <c>additionalPrinterColumns</c>, or null.</param>
internal sealed record CustomVersion(string Name, bool Served, bool Storage, JsonObject? Schema, JsonArray? PrinterColumns);

/// <summary>
/// One resource the server serves: its names, its scope, its subresources and the rules its objects follow.
/// Built-in resources come from <see cref="BuiltinResources"/>; custom ones from a CustomResourceDefinition.
/// </summary>
internal sealed record ResourceType
{
    public required string Group { get; init; }

    /// <summary>Every served version, the preferred (storage) version first.</summary>
    public required IReadOnlyList<string> Versions { get; init; }

    public required string Kind { get; init; }

    public required string Plural { get; init; }

    public required string Singular { get; init; }

    public required bool Namespaced { get; init; }

    public IReadOnlyList<string> ShortNames { get; init; } = [];

    public IReadOnlyList<string> Categories { get; init; } = [];

    /// <summary>The list kind, e.g. <c>PodList</c>.</summary>
    public string ListKind => Kind + "List";

    /// <summary>True when a <c>/status</c> subresource exists: the main resource then ignores status and vice versa.</summary>
    public bool HasStatus { get; init; }

    /// <summary>The scale subresource, if any.</summary>
    public ScaleSpec? Scale { get; init; }

    /// <summary>True for kinds whose <c>metadata.generation</c> counts spec changes.</summary>
    public bool HasGeneration { get; init; }

    /// <summary>True for kinds a PUT may create (kube-apiserver's <c>AllowCreateOnUpdate</c>).</summary>
    public bool CreateOnUpdate { get; init; }

    /// <summary>True for kinds a PUT may update without naming a resourceVersion (<c>AllowUnconditionalUpdate</c>).</summary>
    public bool UnconditionalUpdate { get; init; } = true;

    /// <summary>The name rule: DNS-1123 subdomain by default, label for namespaces and services.</summary>
    public NameRule NameRule { get; init; } = NameRule.Subdomain;

    /// <summary>The verbs the resource supports.</summary>
    public IReadOnlyList<string> Verbs { get; init; } = AllVerbs;

    /// <summary>For a custom resource: the CRD's name and its versions' schemas.</summary>
    public CustomDefinition? Custom { get; init; }

    /// <summary>Extra subresources served besides status and scale (e.g. <c>log</c>, <c>binding</c> for pods).</summary>
    public IReadOnlyList<string> ExtraSubresources { get; init; } = [];

    public string PreferredVersion => Versions[0];

    /// <summary>The API group/version string, e.g. <c>apps/v1</c> or <c>v1</c>.</summary>
    public string ApiVersion(string version) => Group.Length == 0 ? version : $"{Group}/{version}";

    /// <summary>The qualified resource as Kubernetes prints it in messages: <c>deployments.apps</c>, <c>pods</c>.</summary>
    public string QualifiedResource => Group.Length == 0 ? Plural : $"{Plural}.{Group}";

    /// <summary>The qualified kind as Kubernetes prints it in Invalid messages: <c>Deployment.apps</c>, <c>Pod</c>.</summary>
    public string QualifiedKind => Group.Length == 0 ? Kind : $"{Kind}.{Group}";

    /// <summary>The key objects of this resource are stored under.</summary>
    public string StorageKey => StorageOverride ?? (Group.Length == 0 ? Plural : $"{Group}/{Plural}");

    /// <summary>The storage key of another resource whose objects this one serves converted (events.k8s.io Events).</summary>
    public string? StorageOverride { get; init; }

    public static readonly IReadOnlyList<string> AllVerbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];
}

/// <summary>What a CRD adds to a resource type.</summary>
/// <param name="CrdName">The CRD's name, <c>plural.group</c>.</param>
/// <param name="CrdUid">The CRD's uid (its objects belong to this incarnation of it).</param>
/// <param name="Versions">Every version of the CRD.</param>
internal sealed record CustomDefinition(string CrdName, string CrdUid, IReadOnlyList<CustomVersion> Versions)
{
    public CustomVersion? Version(string name) => Versions.FirstOrDefault(v => v.Name == name);
}

/// <summary>Which Kubernetes name rule a kind's <c>metadata.name</c> follows.</summary>
internal enum NameRule
{
    /// <summary>DNS-1123 subdomain: lower-case alphanumerics, '-' and '.', at most 253 characters.</summary>
    Subdomain,

    /// <summary>DNS-1123 label: lower-case alphanumerics and '-', at most 63 characters.</summary>
    Label,

    /// <summary>DNS-1035 label (services): like a label but starting with a letter.</summary>
    Dns1035Label,

    /// <summary>Any path segment: not '.', '..', and no '/' or '%' (RBAC objects).</summary>
    PathSegment,
}
