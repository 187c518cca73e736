using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal.Admission;
using DeepSeekOperator.DevCluster.Internal.Http;
using DeepSeekOperator.DevCluster.Internal.Resources;
using DeepSeekOperator.DevCluster.Internal.Storage;
using Microsoft.Extensions.Logging;

namespace DeepSeekOperator.DevCluster.Internal.Controllers;

/// <summary>
/// The control loops a real cluster runs beside kube-apiserver that API semantics depend on: the garbage
/// collector (owner references: background, foreground and orphan), the namespace lifecycle (contents deleted
/// before the namespace goes; a <c>default</c> ServiceAccount and the <c>kube-root-ca.crt</c> ConfigMap in each),
/// and CRD establishment and cleanup.
/// </summary>
internal sealed partial class ClusterControllers
{
    private static readonly string[] SystemNamespaces = ["default", "kube-system", "kube-public", "kube-node-lease"];
    private readonly ObjectService objects;
    private readonly IValidationRulesCompiler compiler;
    private readonly ILogger logger;
    private readonly string? rootCa;

    public ClusterControllers(ObjectService objects, IValidationRulesCompiler compiler, ILoggerFactory loggerFactory, string? rootCa = null)
    {
        this.objects = objects;
        this.compiler = compiler;
        this.rootCa = rootCa;
        logger = loggerFactory.CreateLogger("DeepSeekOperator.DevCluster.Controllers");
        objects.AdmitHook = Admit;
        objects.Committed += OnCommitted;
    }

    private ResourceRegistry Registry => objects.Registry;

    private ObjectStore Store => objects.Store;

    /// <summary>Serves the resources of the CRDs already stored (after a restart from a state directory).</summary>
    public void Restore()
    {
        foreach (var (key, stored) in Store.All())
        {
            if (key == "apiextensions.k8s.io/customresourcedefinitions")
            {
                Registry.Register(CustomResources.ToResourceType(stored.Value));
            }
        }
    }

    /// <summary>Creates the namespaces every cluster has.</summary>
    public void EnsureSystemNamespaces()
    {
        var type = Registry.Find("", "v1", "namespaces")!;
        foreach (var name in SystemNamespaces)
        {
            if (Store.Get(type.StorageKey, "", name) is null)
            {
                objects.Create(type, "v1", "", new JsonObject { ["metadata"] = new JsonObject { ["name"] = name } }, new WriteOptions());
            }
        }
    }

    /// <summary>
    /// Publishes the API server itself as the <c>kubernetes</c> Service of the <c>default</c> namespace (cluster IP
    /// 127.96.0.1, the first of the loopback service range, port 443), with Endpoints and an EndpointSlice pointing at the HTTPS listener, as every cluster has.
    /// </summary>
    public void EnsureKubernetesService(int httpsPort)
    {
        var services = Registry.Find("", "v1", "services")!;
        if (Store.Get(services.StorageKey, "default", "kubernetes") is null)
        {
            TryCreate(services, "default", new JsonObject
            {
                ["metadata"] = new JsonObject
                {
                    ["name"] = "kubernetes",
                    ["labels"] = new JsonObject { ["component"] = "apiserver", ["provider"] = "kubernetes" },
                },
                ["spec"] = new JsonObject
                {
                    ["clusterIP"] = ClusterIpAllocator.KubernetesServiceIp,
                    ["ports"] = new JsonArray(new JsonObject { ["name"] = "https", ["port"] = 443, ["protocol"] = "TCP", ["targetPort"] = httpsPort }),
                },
            });
        }

        var endpoints = Registry.Find("", "v1", "endpoints")!;
        var subsets = new JsonArray(new JsonObject
        {
            ["addresses"] = new JsonArray(new JsonObject { ["ip"] = "127.0.0.1" }),
            ["ports"] = new JsonArray(new JsonObject { ["name"] = "https", ["port"] = httpsPort, ["protocol"] = "TCP" }),
        });
        Apply(endpoints, new JsonObject
        {
            ["metadata"] = new JsonObject { ["name"] = "kubernetes", ["labels"] = new JsonObject { ["endpointslice.kubernetes.io/skip-mirror"] = "true" } },
            ["subsets"] = subsets,
        });
        var slices = Registry.Find("discovery.k8s.io", "v1", "endpointslices")!;
        Apply(slices, new JsonObject
        {
            ["metadata"] = new JsonObject
            {
                ["name"] = "kubernetes",
                ["labels"] = new JsonObject { ["kubernetes.io/service-name"] = "kubernetes", ["endpointslice.kubernetes.io/managed-by"] = "endpointslice-controller.k8s.io" },
            },
            ["addressType"] = "IPv4",
            ["endpoints"] = new JsonArray(new JsonObject
            {
                ["addresses"] = new JsonArray("127.0.0.1"),
                ["conditions"] = new JsonObject { ["ready"] = true },
            }),
            ["ports"] = new JsonArray(new JsonObject { ["name"] = "https", ["port"] = httpsPort, ["protocol"] = "TCP" }),
        });

        void Apply(ResourceType type, JsonObject desired)
        {
            var options = new WriteOptions(FieldManager: "kube-apiserver");
            if (Store.Get(type.StorageKey, "default", "kubernetes") is null)
            {
                objects.Create(type, "v1", "default", desired, options);
            }
            else
            {
                objects.Update(type, "v1", "default", "kubernetes", desired, options, null);
            }
        }
    }

    /// <summary>Runs the loops until <paramref name="cancellationToken"/> fires.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var (snapshot, _, subscription) = Store.WatchWithSnapshot(null, null);
        using (subscription)
        {
            foreach (var (key, stored) in Store.All())
            {
                Process(new StoreEvent(stored.Revision, key, StoreEventType.Added, stored, null));
            }

            _ = snapshot;
            var reader = subscription.Reader;
            while (await reader.WaitToReadAsync(cancellationToken))
            {
                while (reader.TryRead(out var change))
                {
                    try
                    {
                        Process(change);
                    }
                    catch (ApiException error) when (error.Code is 404 or 409)
                    {
                        // The world moved on (the object went, or changed under us); a later event brings the work back.
                    }
                    catch (Exception error) when (error is not OperationCanceledException)
                    {
                        Log.ControllerFailed(logger, change.StorageKey, change.Object.Key, error);
                    }
                }
            }
        }
    }

    private List<FieldError> Admit(ResourceType type, JsonObject obj, JsonObject? old) =>
        type is { Group: "apiextensions.k8s.io", Plural: "customresourcedefinitions" }
            ? CustomResources.Admit(obj, old, compiler, objects.Time.GetUtcNow())
            : [];

    private void OnCommitted(ResourceType type, StoreEvent change)
    {
        if (type is not { Group: "apiextensions.k8s.io", Plural: "customresourcedefinitions" })
        {
            return;
        }

        var crd = change.Object.Value;
        if (change.Type == StoreEventType.Deleted)
        {
            var spec = crd["spec"]!;
            Registry.Unregister(spec["group"]!.ToString(), spec["names"]!["plural"]!.ToString());
        }
        else
        {
            Registry.Register(CustomResources.ToResourceType(crd));
        }
    }

    private void Process(StoreEvent change)
    {
        var type = Registry.FindStorage(change.StorageKey);
        var obj = change.Object.Value;
        switch (change.Type)
        {
            case StoreEventType.Added when type is { Group: "", Plural: "namespaces" }:
                PopulateNamespace(change.Object.Name);
                break;
            case StoreEventType.Deleted:
                CollectDependentsOf(change.Object);
                if (change.Object.Namespace.Length > 0)
                {
                    FinishNamespaceIfEmpty(change.Object.Namespace);
                }

                if (type?.Custom is not null)
                {
                    FinishCrdIfEmpty(type.Custom.CrdName);
                }

                ReleaseForegroundOwners(obj);
                break;
            default:
                break;
        }

        if (change.Type == StoreEventType.Deleted || type is null)
        {
            return;
        }

        if (Meta.IsDeleting(obj))
        {
            var finalizers = Meta.Finalizers(obj);
            if (finalizers.Contains(Finalizers.Orphan))
            {
                Orphan(type, change.Object);
            }

            if (finalizers.Contains(Finalizers.Foreground))
            {
                DeleteDependentsInForeground(type, change.Object);
            }

            if (type is { Group: "", Plural: "namespaces" })
            {
                DeleteNamespaceContents(change.Object.Name);
            }

            if (type is { Group: "apiextensions.k8s.io", Plural: "customresourcedefinitions" })
            {
                DeleteCustomObjects(change.Object);
            }
        }

        if (Meta.Owners(obj).Count > 0)
        {
            CheckOwners(type, change.Object);
        }
    }

    private IEnumerable<(ResourceType Type, StoredObject Object)> DependentsOf(string uid)
    {
        foreach (var (key, stored) in Store.ListDependents(uid))
        {
            if (Registry.FindStorage(key) is { } type)
            {
                yield return (type, stored);
            }
        }
    }

    private bool Exists(OwnerReference owner, string ns)
    {
        var type = Registry.FindKind(owner.Group, owner.Kind);
        if (type is null)
        {
            return false;
        }

        var found = Store.Get(type.StorageKey, type.Namespaced ? ns : "", owner.Name);
        return found is not null && found.Uid == owner.Uid;
    }

    /// <summary>A dependent whose owners are all gone is deleted; references to absent owners are dropped.</summary>
    private void CheckOwners(ResourceType type, StoredObject dependent)
    {
        if (Meta.IsDeleting(dependent.Value))
        {
            return;
        }

        var owners = Meta.Owners(dependent.Value);
        var absent = owners.Where(o => !Exists(o, dependent.Namespace)).ToList();
        if (absent.Count == 0)
        {
            return;
        }

        if (absent.Count == owners.Count)
        {
            // Owners in foreground deletion pass it on: the dependent goes first, in the foreground too.
            objects.Delete(type, type.PreferredVersion, dependent.Namespace, dependent.Name, new DeleteOptions("Background", PreconditionUid: dependent.Uid));
            return;
        }

        RemoveOwnerReferences(type, dependent, absent.Select(o => o.Uid).ToHashSet());
    }

    private void CollectDependentsOf(StoredObject owner)
    {
        foreach (var (type, dependent) in DependentsOf(owner.Uid).ToList())
        {
            CheckOwners(type, dependent);
        }
    }

    private void Orphan(ResourceType type, StoredObject owner)
    {
        foreach (var (dependentType, dependent) in DependentsOf(owner.Uid).ToList())
        {
            RemoveOwnerReferences(dependentType, dependent, [owner.Uid]);
        }

        RemoveFinalizer(type, owner, Finalizers.Orphan);
    }

    private void DeleteDependentsInForeground(ResourceType type, StoredObject owner)
    {
        var blocking = 0;
        foreach (var (dependentType, dependent) in DependentsOf(owner.Uid).ToList())
        {
            var reference = Meta.Owners(dependent.Value).First(o => o.Uid == owner.Uid);
            if (reference.BlockOwnerDeletion)
            {
                blocking++;
            }

            if (!Meta.IsDeleting(dependent.Value))
            {
                var others = Meta.Owners(dependent.Value).Where(o => o.Uid != owner.Uid && Exists(o, dependent.Namespace)).ToList();
                if (others.Count > 0)
                {
                    RemoveOwnerReferences(dependentType, dependent, [owner.Uid]);
                    blocking -= reference.BlockOwnerDeletion ? 1 : 0;
                    continue;
                }

                objects.Delete(dependentType, dependentType.PreferredVersion, dependent.Namespace, dependent.Name, new DeleteOptions("Foreground", PreconditionUid: dependent.Uid));
            }
        }

        if (blocking == 0)
        {
            RemoveFinalizer(type, owner, Finalizers.Foreground);
        }
    }

    /// <summary>When a dependent goes, an owner waiting for its blocking dependents may now finish.</summary>
    private void ReleaseForegroundOwners(JsonObject deleted)
    {
        foreach (var reference in Meta.Owners(deleted))
        {
            var type = Registry.FindKind(reference.Group, reference.Kind);
            if (type is null)
            {
                continue;
            }

            var owner = Store.Get(type.StorageKey, type.Namespaced ? Meta.Namespace(deleted) : "", reference.Name);
            if (owner is not null && owner.Uid == reference.Uid && Meta.IsDeleting(owner.Value) && Meta.Finalizers(owner.Value).Contains(Finalizers.Foreground))
            {
                DeleteDependentsInForeground(type, owner);
            }
        }
    }

    private void RemoveOwnerReferences(ResourceType type, StoredObject dependent, HashSet<string> uids)
    {
        objects.Patch(type, type.PreferredVersion, dependent.Namespace, dependent.Name, current =>
        {
            if (current!["metadata"]?["ownerReferences"] is JsonArray refs)
            {
                var kept = refs.OfType<JsonObject>().Where(r => !uids.Contains(r["uid"]?.ToString() ?? "")).Select(r => (JsonNode)r.DeepClone()).ToList();
                if (kept.Count == 0)
                {
                    Meta.Of(current).Remove("ownerReferences");
                }
                else
                {
                    Meta.Of(current)["ownerReferences"] = new JsonArray([.. kept]);
                }
            }

            return current;
        }, new WriteOptions(FieldManager: "generic-garbage-collector"), null, createIfMissing: false);
    }

    private void RemoveFinalizer(ResourceType type, StoredObject obj, string finalizer)
    {
        objects.Patch(type, type.PreferredVersion, obj.Namespace, obj.Name, current =>
        {
            var latest = current!;
            if (Meta.Uid(latest) != obj.Uid)
            {
                throw ApiException.NotFound(type, obj.Name);
            }

            Meta.SetFinalizers(latest, [.. Meta.Finalizers(latest).Where(f => f != finalizer)]);
            return latest;
        }, new WriteOptions(FieldManager: "generic-garbage-collector"), null, createIfMissing: false);
    }

    private void PopulateNamespace(string ns)
    {
        var serviceAccounts = Registry.Find("", "v1", "serviceaccounts")!;
        if (Store.Get(serviceAccounts.StorageKey, ns, "default") is null)
        {
            TryCreate(serviceAccounts, ns, new JsonObject { ["metadata"] = new JsonObject { ["name"] = "default" } });
        }

        var configMaps = Registry.Find("", "v1", "configmaps")!;
        if (rootCa is not null && Store.Get(configMaps.StorageKey, ns, "kube-root-ca.crt") is null)
        {
            TryCreate(configMaps, ns, new JsonObject
            {
                ["metadata"] = new JsonObject { ["name"] = "kube-root-ca.crt" },
                ["data"] = new JsonObject { ["ca.crt"] = rootCa },
            });
        }
    }

    private void TryCreate(ResourceType type, string ns, JsonObject obj)
    {
        try
        {
            objects.Create(type, "v1", ns, obj, new WriteOptions(FieldManager: "kube-controller-manager"));
        }
        catch (ApiException error) when (error.Code is 403 or 404 or 409)
        {
            // The namespace is going away, or someone created the object first.
        }
    }

    private void DeleteNamespaceContents(string ns)
    {
        foreach (var type in Registry.All.Where(t => t.Namespaced).DistinctBy(t => t.StorageKey))
        {
            foreach (var item in Store.List(type.StorageKey, ns).Items.Where(i => !Meta.IsDeleting(i.Value)))
            {
                objects.Delete(type, type.PreferredVersion, ns, item.Name, new DeleteOptions("Background", GracePeriodSeconds: null, PreconditionUid: item.Uid));
            }
        }

        FinishNamespaceIfEmpty(ns);
    }

    private void FinishNamespaceIfEmpty(string ns)
    {
        var namespaces = Registry.Find("", "v1", "namespaces")!;
        var found = Store.Get(namespaces.StorageKey, "", ns);
        if (found is null || !Meta.IsDeleting(found.Value))
        {
            return;
        }

        if (Registry.All.Where(t => t.Namespaced).Any(t => Store.List(t.StorageKey, ns).Items.Count > 0))
        {
            return;
        }

        var finalize = (JsonObject)found.Clone();
        finalize["spec"] = new JsonObject { ["finalizers"] = new JsonArray([.. (found.Value["spec"]?["finalizers"] as JsonArray ?? []).Select(f => f?.ToString()).Where(f => f != "kubernetes").Select(f => (JsonNode?)f)]) };
        objects.Update(namespaces, "v1", "", ns, finalize, new WriteOptions(FieldManager: "namespace-controller"), "finalize");
    }

    private void DeleteCustomObjects(StoredObject crd)
    {
        var type = Registry.All.FirstOrDefault(t => t.Custom?.CrdUid == crd.Uid);
        if (type is null)
        {
            return;
        }

        foreach (var item in Store.List(type.StorageKey, null).Items.Where(i => !Meta.IsDeleting(i.Value)))
        {
            objects.Delete(type, type.PreferredVersion, item.Namespace, item.Name, new DeleteOptions("Background", PreconditionUid: item.Uid));
        }

        FinishCrdIfEmpty(crd.Name);
    }

    private void FinishCrdIfEmpty(string crdName)
    {
        var crds = Registry.Find("apiextensions.k8s.io", "v1", "customresourcedefinitions")!;
        var crd = Store.Get(crds.StorageKey, "", crdName);
        if (crd is null || !Meta.IsDeleting(crd.Value))
        {
            return;
        }

        var type = Registry.All.FirstOrDefault(t => t.Custom?.CrdUid == crd.Uid);
        if (type is not null && Store.List(type.StorageKey, null).Items.Count > 0)
        {
            return;
        }

        RemoveFinalizer(crds, crd, CustomResources.CleanupFinalizer);
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Controller work on {Resource} {Key} failed")]
        public static partial void ControllerFailed(ILogger logger, string resource, string key, Exception error);
    }
}
