using System.Globalization;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal.Admission;
using DeepSeekOperator.DevCluster.Internal.Http;
using DeepSeekOperator.DevCluster.Internal.Patching;
using DeepSeekOperator.DevCluster.Internal.Resources;
using DeepSeekOperator.DevCluster.Internal.Storage;

namespace DeepSeekOperator.DevCluster.Internal;

/// <summary>How a write is made: the query parameters every mutating verb shares.</summary>
/// <param name="DryRun">Validate and answer, but store nothing (<c>dryRun=All</c>).</param>
/// <param name="FieldManager">Who makes the change, for managed fields.</param>
/// <param name="FieldValidation"><c>Strict</c>, <c>Warn</c> or <c>Ignore</c>: what unknown fields do.</param>
internal sealed record WriteOptions(bool DryRun = false, string? FieldManager = null, string FieldValidation = "Warn")
{
    /// <summary>True for server-side apply, whose patcher already set the managed fields.</summary>
    public bool IsApply { get; set; }

    /// <summary>Warnings for the response's <c>Warning</c> headers.</summary>
    public List<string> Warnings { get; } = [];
}

/// <summary>How a delete is made: the fields of <c>metav1.DeleteOptions</c>.</summary>
internal sealed record DeleteOptions(
    string? PropagationPolicy = null,
    long? GracePeriodSeconds = null,
    string? PreconditionUid = null,
    string? PreconditionResourceVersion = null,
    bool DryRun = false,
    bool? OrphanDependents = null);

/// <summary>The outcome of a delete: the object as it now is, and whether it is gone or still held by finalizers or a grace period.</summary>
internal sealed record DeleteResult(JsonObject Object, bool Deleted);

/// <summary>
/// The generic registry of kube-apiserver: create, update, patch and delete with the rules every kind shares
/// (system metadata, resourceVersion preconditions, generation, status subresource, finalizers, graceful deletion),
/// and the kind-specific admission of <see cref="BuiltinAdmission"/> and of CRD schemas.
/// </summary>
internal sealed class ObjectService(ObjectStore store, ResourceRegistry registry, TimeProvider time, BuiltinAdmission builtins, ICustomAdmission custom)
{
    private const string GenerateNameAlphabet = "bcdfghjklmnpqrstvwxz2456789";
    private static readonly ConditionalWeakTable<JsonObject, IFieldSchema> CustomSchemas = [];

    public ObjectStore Store => store;

    public ResourceRegistry Registry => registry;

    public TimeProvider Time => time;

    /// <summary>Tracks managed fields and serves server-side apply.</summary>
    public FieldManager FieldManager { get; } = new(time);

    /// <summary>Where field management of a write happens: the served version, the kind's shape and its reset fields.</summary>
    public static FieldManagerScope FieldScope(ResourceType type, string version, string? subresource)
    {
        IFieldSchema schema = type.Custom?.Version(version)?.Schema is { } openApi
            ? CustomSchemas.GetValue(openApi, CrdSchema.ForVersion)
            : BuiltInSchema.For(type.Group, type.Kind);
        IReadOnlyList<string> reset = !type.HasStatus ? [] : subresource == "status" ? ["spec", "metadata"] : subresource is null ? ["status"] : [];
        return new FieldManagerScope(type.ApiVersion(version), type.Kind, schema) { Subresource = subresource ?? "", ResetFields = reset };
    }

    /// <summary>Raised inside the write lock after an object is stored, for in-process controllers that must react at once.</summary>
    public event Action<ResourceType, StoreEvent>? Committed;

    /// <summary>Creates an object from a request body at <paramref name="version"/> in namespace <paramref name="ns"/>.</summary>
    public JsonObject Create(ResourceType type, string version, string ns, JsonObject body, WriteOptions options)
    {
        CheckTypeMeta(type, version, body);
        if (type.Custom is null)
        {
            BuiltinSchemas.ReportUnknown(type, version, BuiltinSchemas.Decode(type, version, body), options);
        }

        var metadata = Meta.Of(body);
        NormalizeNamespace(type, ns, body);
        if (Meta.Name(body).Length == 0 && Meta.String(body, "generateName") is { Length: > 0 } prefix)
        {
            metadata["name"] = prefix + RandomSuffix();
        }

        return store.Write(writer =>
        {
            if (type.Namespaced)
            {
                CheckNamespaceAcceptsCreate(writer, type, Meta.Namespace(body), Meta.Name(body));
            }

            var name = Meta.Name(body);
            if (name.Length > 0 && writer.Get(type.StorageKey, Meta.Namespace(body), name) is not null)
            {
                throw ApiException.AlreadyExists(type, name);
            }

            var now = time.GetUtcNow();
            metadata["uid"] = Guid.NewGuid().ToString();
            metadata["creationTimestamp"] = Meta.Timestamp(now);
            metadata.Remove("deletionTimestamp");
            metadata.Remove("deletionGracePeriodSeconds");
            metadata.Remove("resourceVersion");
            metadata.Remove("selfLink");
            if (type.HasGeneration)
            {
                metadata["generation"] = 1;
            }
            else
            {
                metadata.Remove("generation");
            }

            var errors = ObjectMetaValidation.Validate(body, type);
            if (type.Custom is null)
            {
                builtins.PrepareForCreate(type, body);
                errors.AddRange(BuiltinAdmission.Validate(type, body, null));
            }
            else
            {
                if (type.HasStatus)
                {
                    body.Remove("status");
                }

                errors.AddRange(custom.Admit(type, version, body, null, options));
            }

            errors.AddRange(AdmitHook?.Invoke(type, body, null) ?? []);

            errors = [.. errors.Distinct()];
            if (errors.Count > 0)
            {
                throw ApiException.Invalid(type, name.Length > 0 ? name : Meta.String(body, "generateName") ?? "", errors);
            }

            DecodedManagedFields? managedFields = null;
            if (!options.IsApply)
            {
                (body, managedFields, _) = FieldManager.Update(null, null, body, options.FieldManager ?? "", FieldScope(type, version, null));
            }

            if (options.DryRun)
            {
                Meta.Of(body)["resourceVersion"] = "";
                return body;
            }

            var change = writer.Put(type.StorageKey, ToStorage(type, body), managedFields);
            Committed?.Invoke(type, change);
            return ToVersion(type, change.Object.Clone(), version);
        });
    }

    /// <summary>
    /// Admits a create (old null) or update of any object after the generic checks: it may change the object
    /// (the CRD controller sets a CRD's status here) and returns errors that reject the write.
    /// </summary>
    public Func<ResourceType, JsonObject, JsonObject?, IReadOnlyList<FieldError>>? AdmitHook { get; set; }

    public JsonObject Get(ResourceType type, string version, string ns, string name)
    {
        var found = store.Get(type.StorageKey, ns, name) ?? throw ApiException.NotFound(type, name);
        return ToVersion(type, found.Clone(), version);
    }

    /// <summary>
    /// Replaces an object (PUT) or its status (PUT on <c>/status</c>). Returns the stored object and whether it was
    /// created (kinds that allow create on update).
    /// </summary>
    public (JsonObject Object, bool Created) Update(ResourceType type, string version, string ns, string name, JsonObject body, WriteOptions options, string? subresource)
    {
        CheckTypeMeta(type, version, body);
        NormalizeNamespace(type, ns, body);
        if (Meta.Name(body) != name)
        {
            throw ApiException.BadRequest($"the name of the object ({Meta.Name(body)}) does not match the name on the URL ({name})");
        }

        return store.Write(writer =>
        {
            var current = writer.Get(type.StorageKey, ns, name);
            if (current is null)
            {
                if (type.CreateOnUpdate && subresource is null)
                {
                    return (Create(type, version, ns, body, options), true);
                }

                throw ApiException.NotFound(type, name);
            }

            return (Replace(writer, type, version, current, body, options, subresource), false);
        });
    }

    /// <summary>
    /// Applies a patch to the current object (or to nothing, for server-side apply creating it) and stores the result
    /// as an update. <paramref name="patch"/> receives the current object at the request's version, or null.
    /// </summary>
    public JsonObject Patch(
        ResourceType type, string version, string ns, string name, Func<JsonObject?, JsonObject> patch, WriteOptions options, string? subresource, bool createIfMissing)
    {
        return store.Write(writer =>
        {
            var current = writer.Get(type.StorageKey, ns, name);
            if (current is null)
            {
                if (!createIfMissing || subresource is not null)
                {
                    throw ApiException.NotFound(type, name);
                }

                var created = patch(null);
                CheckTypeMeta(type, version, created);
                NormalizeNamespace(type, ns, created);
                if (Meta.Name(created) != name)
                {
                    throw ApiException.BadRequest($"the name of the object ({Meta.Name(created)}) does not match the name on the URL ({name})");
                }

                return Create(type, version, ns, created, options);
            }

            var patched = patch(ToVersion(type, current.Clone(), version));
            CheckTypeMeta(type, version, patched);
            NormalizeNamespace(type, ns, patched);
            if (Meta.Name(patched) != name)
            {
                throw ApiException.BadRequest($"the name of the object ({Meta.Name(patched)}) does not match the name on the URL ({name})");
            }

            return Replace(writer, type, version, current, patched, options, subresource);
        });
    }

    /// <summary>Deletes an object: at once, or by marking it when finalizers or a grace period hold it.</summary>
    public DeleteResult Delete(ResourceType type, string version, string ns, string name, DeleteOptions options)
    {
        return store.Write(writer =>
        {
            var current = writer.Get(type.StorageKey, ns, name) ?? throw ApiException.NotFound(type, name);
            if (options.PreconditionUid is { } uid && uid != current.Uid)
            {
                throw ApiException.Conflict(type, name, $"Precondition failed: UID in precondition: {uid}, UID in object meta: {current.Uid}");
            }

            if (options.PreconditionResourceVersion is { } rv && rv != Meta.ResourceVersion(current.Value))
            {
                throw ApiException.Conflict(type, name, $"Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {Meta.ResourceVersion(current.Value)}");
            }

            var obj = current.Clone();
            var metadata = Meta.Of(obj);
            var finalizers = Meta.Finalizers(obj).ToList();
            var policy = options.PropagationPolicy ?? "Background";
            if (policy is not ("Background" or "Foreground" or "Orphan"))
            {
                throw ApiException.Invalid(type, name, [FieldError.NotSupported("propagationPolicy", JsonValue.Create(policy), ["Foreground", "Background", "Orphan"])]);
            }

            var changed = false;
            if (policy == "Orphan" && !finalizers.Contains(Finalizers.Orphan))
            {
                finalizers.Remove(Finalizers.Foreground);
                finalizers.Add(Finalizers.Orphan);
                changed = true;
            }
            else if (policy == "Foreground" && !finalizers.Contains(Finalizers.Foreground))
            {
                finalizers.Remove(Finalizers.Orphan);
                finalizers.Add(Finalizers.Foreground);
                changed = true;
            }
            else if (policy == "Background" && options.PropagationPolicy is not null && (finalizers.Remove(Finalizers.Orphan) | finalizers.Remove(Finalizers.Foreground)))
            {
                changed = true;
            }

            var now = time.GetUtcNow();
            var grace = GracePeriod(type, current.Value, options.GracePeriodSeconds);
            var deleting = Meta.IsDeleting(obj);
            if (finalizers.Count == 0 && grace == 0 && !HeldBySpecFinalizers(type, obj))
            {
                if (options.DryRun)
                {
                    return new DeleteResult(ToVersion(type, obj, version), true);
                }

                var removed = writer.Delete(type.StorageKey, current);
                Committed?.Invoke(type, removed);
                return new DeleteResult(ToVersion(type, removed.Object.Clone(), version), true);
            }

            if (!deleting)
            {
                metadata["deletionTimestamp"] = Meta.Timestamp(now.AddSeconds(grace));
                metadata["deletionGracePeriodSeconds"] = grace;
                if (type is { Group: "", Plural: "namespaces" })
                {
                    obj["status"] = new JsonObject { ["phase"] = "Terminating" };
                }

                changed = true;
            }
            else if (grace < (Json.Int64(metadata["deletionGracePeriodSeconds"]) ?? 0))
            {
                // A second delete may shorten the grace period, never lengthen it.
                metadata["deletionTimestamp"] = Meta.Timestamp(now.AddSeconds(grace));
                metadata["deletionGracePeriodSeconds"] = grace;
                changed = true;
            }

            Meta.SetFinalizers(obj, finalizers);
            if (!changed || options.DryRun)
            {
                return new DeleteResult(ToVersion(type, obj, version), false);
            }

            var change = writer.Put(type.StorageKey, obj);
            Committed?.Invoke(type, change);
            return new DeleteResult(ToVersion(type, change.Object.Clone(), version), false);
        });
    }

    /// <summary>The object at a served version (custom resources are stored at their storage version).</summary>
    public static JsonObject ToVersion(ResourceType type, JsonObject obj, string version)
    {
        if (EventConversion.IsEventsV1(type))
        {
            return EventConversion.ToEventsV1(obj);
        }

        obj["apiVersion"] = type.ApiVersion(version);
        return obj;
    }

    private static JsonObject ToStorage(ResourceType type, JsonObject obj)
    {
        if (EventConversion.IsEventsV1(type))
        {
            return EventConversion.ToCore(obj);
        }

        var storage = type.Custom?.Versions.FirstOrDefault(v => v.Storage)?.Name ?? type.PreferredVersion;
        obj["apiVersion"] = type.ApiVersion(storage);
        obj["kind"] = type.Kind;
        return obj;
    }

    private static long GracePeriod(ResourceType type, JsonObject current, long? requested)
    {
        if (type is not { Group: "", Plural: "pods" })
        {
            return 0;
        }

        // A pod no kubelet runs, or one already finished, goes at once, as kube-apiserver's pod strategy decides.
        var phase = current["status"]?["phase"]?.ToString();
        if (current["spec"]?["nodeName"] is null || phase is "Succeeded" or "Failed")
        {
            return 0;
        }

        var grace = requested ?? Json.Int64(current["spec"]?["terminationGracePeriodSeconds"]) ?? 30;
        return Math.Max(0, grace);
    }

    /// <summary>A namespace is also held by the finalizers of its spec (the namespace controller's <c>kubernetes</c>).</summary>
    private static bool HeldBySpecFinalizers(ResourceType type, JsonObject obj) =>
        type is { Group: "", Plural: "namespaces" } && obj["spec"]?["finalizers"] is JsonArray { Count: > 0 };

    private static void CheckTypeMeta(ResourceType type, string version, JsonObject body)
    {
        var expected = type.ApiVersion(version);
        var apiVersion = body["apiVersion"] is JsonValue av && av.TryGetValue<string>(out var a) ? a : null;
        var kind = body["kind"] is JsonValue k && k.TryGetValue<string>(out var kk) ? kk : null;
        if (type.Custom is not null)
        {
            if (string.IsNullOrEmpty(kind))
            {
                throw ApiException.BadRequest($"Object 'Kind' is missing in '{Truncate(body.ToJsonString())}'");
            }

            if (string.IsNullOrEmpty(apiVersion))
            {
                throw ApiException.BadRequest($"Object 'apiVersion' is missing in '{Truncate(body.ToJsonString())}'");
            }
        }

        if (!string.IsNullOrEmpty(apiVersion) && apiVersion != expected)
        {
            throw ApiException.BadRequest($"the API version in the data ({apiVersion}) does not match the expected API version ({expected})");
        }

        if (!string.IsNullOrEmpty(kind) && kind != type.Kind)
        {
            throw ApiException.BadRequest($"the kind in the data ({kind}) does not match the expected kind ({type.Kind})");
        }

        body["apiVersion"] = expected;
        body["kind"] = type.Kind;
        if (body["metadata"] is not (null or JsonObject))
        {
            throw ApiException.BadRequest("metadata: must be an object");
        }
    }

    private static string Truncate(string text) => text.Length <= 200 ? text : text[..200] + "...";

    private static void NormalizeNamespace(ResourceType type, string ns, JsonObject body)
    {
        var metadata = Meta.Of(body);
        var given = Meta.Namespace(body);
        if (!type.Namespaced)
        {
            metadata.Remove("namespace");
            return;
        }

        if (given.Length > 0 && given != ns)
        {
            throw ApiException.BadRequest("the namespace of the provided object does not match the namespace sent on the request");
        }

        metadata["namespace"] = ns;
    }

    private void CheckNamespaceAcceptsCreate(ObjectStore.StoreWriter writer, ResourceType type, string ns, string name)
    {
        var nsType = registry.Find("", "v1", "namespaces")!;
        var found = writer.Get(nsType.StorageKey, "", ns) ?? throw ApiException.NotFoundResource("", "namespaces", ns);
        if (Meta.IsDeleting(found.Value))
        {
            throw ApiException.Forbidden(type, name, $"unable to create new content in namespace {ns} because it is being terminated");
        }
    }

    private JsonObject Replace(ObjectStore.StoreWriter writer, ResourceType type, string version, StoredObject current, JsonObject body, WriteOptions options, string? subresource)
    {
        var name = current.Name;
        if (type.Custom is null)
        {
            BuiltinSchemas.ReportUnknown(type, version, BuiltinSchemas.Decode(type, version, body), options);
        }

        var rv = Meta.ResourceVersion(body);
        if (string.IsNullOrEmpty(rv))
        {
            if (!type.UnconditionalUpdate)
            {
                throw ApiException.Invalid(type, name, [new FieldError(FieldErrorType.Invalid, "metadata.resourceVersion", "0x0", "must be specified for an update")]);
            }
        }
        else if (rv != Meta.ResourceVersion(current.Value))
        {
            throw ApiException.StaleResourceVersion(type, name);
        }

        var uid = Meta.Uid(body);
        if (uid.Length > 0 && uid != current.Uid)
        {
            throw ApiException.Conflict(type, name, $"Precondition failed: UID in precondition: {uid}, UID in object meta: {current.Uid}");
        }

        var old = current.Clone();
        JsonObject updated;
        if (subresource == "finalize")
        {
            // Only the namespace's spec.finalizers change through /finalize.
            updated = current.Clone();
            updated["spec"] = body["spec"]?.DeepClone() ?? new JsonObject();
        }
        else if (subresource == "binding")
        {
            // The scheduler's binding sets spec.nodeName and the PodScheduled condition, which no update may.
            updated = body;
        }
        else if (subresource == "status")
        {
            // Only status changes through /status; everything else stays as it was.
            updated = current.Clone();
            if (body["status"] is JsonNode status)
            {
                updated["status"] = status.DeepClone();
            }
            else
            {
                updated.Remove("status");
            }
        }
        else
        {
            updated = body;
            if (type.HasStatus)
            {
                if (old["status"] is JsonNode status)
                {
                    updated["status"] = status.DeepClone();
                }
                else
                {
                    updated.Remove("status");
                }
            }
        }

        var metadata = Meta.Of(updated);
        var oldMetadata = Meta.Of(old);
        foreach (var field in new[] { "uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation", "selfLink" })
        {
            if (oldMetadata[field] is JsonNode value)
            {
                metadata[field] = value.DeepClone();
            }
            else
            {
                metadata.Remove(field);
            }
        }

        var errors = ObjectMetaValidation.Validate(updated, type);
        if (subresource is null)
        {
            if (type.Custom is null)
            {
                builtins.PrepareForUpdate(type, updated, old);
                errors.AddRange(BuiltinAdmission.Validate(type, updated, old));
            }
            else
            {
                errors.AddRange(custom.Admit(type, version, updated, ToVersion(type, old.DeepClone().AsObject(), version), options));
            }

            errors.AddRange(AdmitHook?.Invoke(type, updated, old) ?? []);
        }
        else if (type.Custom is not null)
        {
            errors.AddRange(custom.Admit(type, version, updated, ToVersion(type, old.DeepClone().AsObject(), version), options));
        }

        if (Meta.IsDeleting(old))
        {
            var added = Meta.Finalizers(updated).Except(Meta.Finalizers(old)).ToList();
            if (added.Count > 0)
            {
                errors.Add(FieldError.Forbidden("metadata.finalizers", $"no new finalizers can be added if the object is being deleted, found new finalizers []string{{{string.Join(", ", added.Select(GoText.Quote))}}}"));
            }
        }

        errors = [.. errors.Distinct()];
        if (errors.Count > 0)
        {
            throw ApiException.Invalid(type, name, errors);
        }

        DecodedManagedFields? managedFields = null;
        var fieldsChanged = false;
        if (!options.IsApply)
        {
            (updated, managedFields, fieldsChanged) = FieldManager.Update(
                ToVersion(type, current.Clone(), version), current.ManagedFields, updated, options.FieldManager ?? "", FieldScope(type, version, subresource));
            metadata = Meta.Of(updated);
        }

        if (type.HasGeneration && !JsonNode.DeepEquals(WithoutMetaAndStatus(updated), WithoutMetaAndStatus(old)))
        {
            metadata["generation"] = (Json.Int64(oldMetadata["generation"]) ?? 0) + 1;
        }

        updated = ToStorage(type, updated);
        metadata = Meta.Of(updated);
        metadata["resourceVersion"] = Meta.ResourceVersion(current.Value);
        // What the field manager found changed is not a server-owned field, which alone the steps since could set back;
        // a write that changes nothing mostly gives the same bytes, which is quicker to see than comparing the trees.
        if (!fieldsChanged && (StoredObject.Serialize(updated).AsSpan().SequenceEqual(current.Json) || EqualButManagedTimes(updated, current.Clone())))
        {
            // A write that changes nothing is not a write: no new resourceVersion, no watch event.
            return ToVersion(type, current.Clone(), version);
        }

        if (options.DryRun)
        {
            return ToVersion(type, updated, version);
        }

        if (Meta.IsDeleting(updated) && Meta.Finalizers(updated).Count == 0 && !HeldBySpecFinalizers(type, updated) && GracePeriod(type, updated, null) == 0)
        {
            var removed = writer.Delete(type.StorageKey, new StoredObject(updated, current.Revision));
            Committed?.Invoke(type, removed);
            return ToVersion(type, removed.Object.Clone(), version);
        }

        var change = writer.Put(type.StorageKey, updated, managedFields);
        Committed?.Invoke(type, change);
        return ToVersion(type, change.Object.Clone(), version);
    }

    private static JsonObject WithoutMetaAndStatus(JsonObject obj)
    {
        var copy = new JsonObject();
        foreach (var (key, value) in obj)
        {
            if (key is not ("metadata" or "status" or "apiVersion" or "kind"))
            {
                copy[key] = value?.DeepClone();
            }
        }

        return copy;
    }

    /// <summary>
    /// Whether two objects are <see cref="JsonNode.DeepEquals"/> once the times of their managed fields entries are left
    /// out; compared in place rather than on copies without them. Give it a copy of a stored object, not its
    /// <see cref="StoredObject.Value"/>: reading a stored tree through expands it, and every later copy of it costs more.
    /// </summary>
    private static bool EqualButManagedTimes(JsonObject a, JsonObject b)
    {
        var (x, y) = (a["metadata"]?["managedFields"] as JsonArray, b["metadata"]?["managedFields"] as JsonArray);
        if (x is null || y is null)
        {
            return x is null && y is null && JsonNode.DeepEquals(a, b);
        }

        return EqualExcept(a, b, "metadata", (ma, mb) => EqualExcept((JsonObject)ma!, (JsonObject)mb!, "managedFields", (_, _) => EqualEntries(x, y)));

        static bool EqualEntries(JsonArray x, JsonArray y)
        {
            if (x.Count != y.Count)
            {
                return false;
            }

            for (var i = 0; i < x.Count; i++)
            {
                if (!(x[i] is JsonObject ex && y[i] is JsonObject ey ? EqualExcept(ex, ey, "time", (_, _) => true) : JsonNode.DeepEquals(x[i], y[i])))
                {
                    return false;
                }
            }

            return true;
        }
    }

    // JsonNode.DeepEquals of two objects, but for the member named key, which equalAt compares (null where absent).
    private static bool EqualExcept(JsonObject a, JsonObject b, string key, Func<JsonNode?, JsonNode?, bool> equalAt)
    {
        var (aHas, bHas) = (a.TryGetPropertyValue(key, out var aValue), b.TryGetPropertyValue(key, out var bValue));
        if (a.Count - (aHas ? 1 : 0) != b.Count - (bHas ? 1 : 0) || !equalAt(aValue, bValue))
        {
            return false;
        }

        foreach (var (name, value) in a)
        {
            if (name != key && (!b.TryGetPropertyValue(name, out var other) || !JsonNode.DeepEquals(value, other)))
            {
                return false;
            }
        }

        return true;
    }

    private static string RandomSuffix()
    {
        Span<char> chars = stackalloc char[5];
        for (var i = 0; i < chars.Length; i++)
        {
            chars[i] = GenerateNameAlphabet[RandomNumberGenerator.GetInt32(GenerateNameAlphabet.Length)];
        }

        return new string(chars);
    }

    /// <summary>Formats a revision as a resourceVersion string.</summary>
    public static string Rv(long revision) => revision.ToString(CultureInfo.InvariantCulture);
}

/// <summary>The finalizers the garbage collector understands.</summary>
internal static class Finalizers
{
    public const string Orphan = "orphan";
    public const string Foreground = "foregroundDeletion";
}

/// <summary>Admission of custom objects: pruning, defaulting, schema validation and CEL rules of the CRD's version.</summary>
internal interface ICustomAdmission
{
    /// <summary>Prunes and defaults <paramref name="obj"/> in place and returns its validation errors.</summary>
    IReadOnlyList<FieldError> Admit(ResourceType type, string version, JsonObject obj, JsonObject? old, WriteOptions options);
}
