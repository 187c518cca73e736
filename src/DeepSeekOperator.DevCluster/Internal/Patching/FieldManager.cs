using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal.Http;
using DeepSeekOperator.DevCluster.Internal.Storage;

namespace DeepSeekOperator.DevCluster.Internal.Patching;

/// <summary>
/// Where field management happens: the version and kind a request is served at, the shape of its objects, and, for a
/// resource with a status subresource, the fields a write through this endpoint does not own.
/// </summary>
/// <param name="ApiVersion">The group/version of the URL: <c>apps/v1</c>, <c>v1</c>.</param>
/// <param name="Kind">The kind served there.</param>
/// <param name="Schema">The shape of its objects: <see cref="BuiltInSchema.For"/> or <see cref="CrdSchema.ForVersion"/>.</param>
internal sealed record FieldManagerScope(string ApiVersion, string Kind, IFieldSchema Schema)
{
    /// <summary>The subresource written (<c>status</c>), empty for the main resource; recorded in the entries.</summary>
    public string Subresource { get; init; } = "";

    /// <summary>
    /// Dotted field paths a write here does not take ownership of (kube-apiserver's reset fields): <c>status</c> for the
    /// main resource of a kind with a status subresource; <c>spec</c> and <c>metadata</c> for its <c>/status</c>.
    /// </summary>
    public IReadOnlyList<string> ResetFields { get; init; } = [];
}

/// <summary>One manager's entry of <c>metadata.managedFields</c>.</summary>
/// <param name="Manager">The field manager's name.</param>
/// <param name="Operation"><c>Apply</c> or <c>Update</c>.</param>
/// <param name="ApiVersion">The version the fields were written at.</param>
/// <param name="Time">When the entry last changed the object, RFC 3339, or null.</param>
/// <param name="Fields">The fields it owns.</param>
/// <param name="Subresource">The subresource it wrote through, or empty.</param>
internal sealed record ManagedFieldsEntry(string Manager, string Operation, string ApiVersion, string? Time, FieldSet Fields, string Subresource)
{
    /// <summary>
    /// What makes two entries the same manager (<c>BuildManagerIdentifier</c>): the name, operation and subresource,
    /// and the version too for updaters, so that an applier keeps one entry across versions.
    /// </summary>
    public (string, string, string, string) Identity => (Manager, Operation, Operation == FieldManager.Apply ? "" : ApiVersion, Subresource);
}

/// <summary>
/// An object's <c>metadata.managedFields</c> decoded into entries by identity, or marked as not decoding. Never changed
/// once built: a stored object keeps its own (<see cref="StoredObject.ManagedFields"/>), so that the write after it
/// starts from these entries instead of parsing the FieldsV1 JSON again.
/// </summary>
internal sealed class DecodedManagedFields
{
    private readonly Dictionary<(string, string, string, string), ManagedFieldsEntry>? entries;

    /// <summary>The entries by identity, or null for managed fields that do not decode.</summary>
    public DecodedManagedFields(Dictionary<(string, string, string, string), ManagedFieldsEntry>? entries) => this.entries = entries;

    /// <summary>The entries the field manager wrote, in their order in the list; null for managed fields read from JSON.</summary>
    public IReadOnlyList<ManagedFieldsEntry>? Written { get; private init; }

    /// <summary>An object without managed fields.</summary>
    public static DecodedManagedFields None { get; } = new([]);

    /// <summary>Decodes the managed fields of <paramref name="obj"/>.</summary>
    public static DecodedManagedFields Of(JsonObject obj)
    {
        try
        {
            return new(FieldManager.Decode(obj, ""));
        }
        catch (PatchException)
        {
            return new(null);
        }
    }

    /// <summary>The entries <see cref="FieldManager"/> wrote as the list <c>metadata.managedFields</c>, in that order.</summary>
    public static DecodedManagedFields Wrote(List<ManagedFieldsEntry> written) => new(written.ToDictionary(e => e.Identity)) { Written = written };

    /// <summary>A copy of the entries by identity that the caller may change, or null when they do not decode.</summary>
    public Dictionary<(string, string, string, string), ManagedFieldsEntry>? Entries() => entries is null ? null : new(entries);
}

/// <summary>
/// Server-side apply and managed-fields tracking, as kube-apiserver's field manager (structured-merge-diff) does them.
/// <see cref="ApplyPatch"/> merges an applied configuration (<c>application/apply-patch+yaml</c>) into the live object,
/// makes the manager own exactly the fields it applied, removes the fields it applied before and no longer applies
/// unless another manager owns them, and reports a 409 for values owned by another manager that it would change,
/// unless forced (then ownership moves). <see cref="Update"/> records which fields a create, update or non-apply patch
/// changed as an <c>Update</c> entry of its manager and takes them away from the other managers.
/// </summary>
internal sealed class FieldManager(TimeProvider time)
{
    public const string Apply = "Apply";
    public const string UpdateOperation = "Update";

    /// <summary>The manager that owns what an object held before its first apply.</summary>
    public const string BeforeFirstApply = "before-first-apply";

    /// <summary>The longest field manager name kube-apiserver accepts (<c>FieldManagerMaxLength</c>).</summary>
    public const int MaxManagerLength = 128;

    /// <summary>Fields nobody owns: identity and bookkeeping that the server itself sets.</summary>
    private static readonly FieldSet Stripped = StrippedFields();

    /// <summary>
    /// The manager of a non-apply write: the <c>fieldManager</c> query parameter when given, else the User-Agent up to
    /// its first <c>/</c> without unprintable characters, cut at 128 bytes (<c>kubectl/v1.32.0 (linux/amd64) …</c> is
    /// <c>kubectl</c>).
    /// </summary>
    public static string ManagerOrUserAgent(string? fieldManager, string? userAgent)
    {
        if (!string.IsNullOrEmpty(fieldManager))
        {
            return fieldManager;
        }

        var prefix = (userAgent ?? "").Split('/')[0];
        var text = new StringBuilder();
        var bytes = 0;
        foreach (var rune in prefix.EnumerateRunes())
        {
            if (Rune.IsControl(rune) || Rune.GetUnicodeCategory(rune) is UnicodeCategory.Format or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator ||
                (Rune.IsWhiteSpace(rune) && rune.Value != ' '))
            {
                continue;
            }

            if (bytes + rune.Utf8SequenceLength > MaxManagerLength)
            {
                break;
            }

            bytes += rune.Utf8SequenceLength;
            text.Append(rune.ToString());
        }

        return text.ToString();
    }

    /// <summary>
    /// Serves an apply patch: <paramref name="live"/> is the stored object, or null when there is none (the apply then
    /// creates it); <paramref name="applied"/> is the decoded body (<see cref="ApplyPatchBody.Parse"/>);
    /// <paramref name="name"/> is the name in the URL. Returns the object to store, with its managed fields.
    /// Throws <see cref="PatchException"/>: 400 for a body naming another version, carrying managed fields, or naming
    /// another object; 409 with one <c>FieldManagerConflict</c> cause per conflicting field; 500 for a body of
    /// another kind or that does not fit the schema.
    /// </summary>
    public JsonObject ApplyPatch(JsonObject? live, JsonNode? applied, string name, string manager, bool force, FieldManagerScope scope)
    {
        if (applied is not JsonObject config)
        {
            throw PatchException.BadRequest(
                "error decoding YAML: error unmarshaling JSON: while decoding JSON: " + JsonValues.CannotUnmarshal(applied, "map[string]interface {}"));
        }

        var apiVersion = Json.String(config["apiVersion"]) ?? "";
        if (apiVersion != scope.ApiVersion)
        {
            throw PatchException.BadRequest(
                $"Incorrect version specified in apply patch. Specified patch version: {apiVersion}, expected: {scope.ApiVersion}");
        }

        if (!JsonValues.IsNull(config["metadata"]?["managedFields"]))
        {
            throw PatchException.BadRequest("metadata.managedFields must be nil");
        }

        var kind = Json.String(config["kind"]) ?? "";
        if (kind != scope.Kind)
        {
            var gvk = GroupVersionKind(apiVersion, kind);
            throw PatchException.Internal($"failed to create typed patch object ({ObjectName(config)}; {gvk}): no corresponding type for {gvk}");
        }

        var now = Now();
        var liveObject = live is null ? [] : (JsonObject)live.DeepClone();
        var managers = Decode(live, "failed to decode managed fields: ");
        RemoveManagedFields(liveObject);

        if (live is not null && managers.Count == 0)
        {
            var before = Typed(() => StructuredMerge.Compare(new JsonObject(), liveObject, scope.Schema), liveObject, "live");
            var owned = Filter(before.Added.Union(before.Modified), scope);
            if (!owned.IsEmpty)
            {
                Put(managers, new ManagedFieldsEntry(BeforeFirstApply, UpdateOperation, scope.ApiVersion, now, owned, ""));
            }
        }

        var applySet = Filter(Typed(() => StructuredMerge.ToFieldSet(config, scope.Schema), config, "patch"), scope, strip: false);
        var key = new ManagedFieldsEntry(manager, Apply, apiVersion, null, new FieldSet(), scope.Subresource).Identity;
        var previous = managers.GetValueOrDefault(key);
        var merged = (JsonObject)Typed(() => StructuredMerge.Merge(liveObject, config, scope.Schema), config, "patch");
        managers[key] = new ManagedFieldsEntry(manager, Apply, apiVersion, previous?.Time, applySet, scope.Subresource);

        if (previous is not null && !previous.Fields.IsEmpty)
        {
            var owned = managers.Values.Aggregate(new FieldSet(), (all, entry) => all.Union(entry.Fields)).EnsureNamedFieldsAreMembers(scope.Schema);
            var noLongerApplied = previous.Fields.EnsureNamedFieldsAreMembers(scope.Schema).Difference(owned);
            merged = (JsonObject)StructuredMerge.RemoveItems(merged, noLongerApplied, scope.Schema);
        }

        var comparison = Typed(() => StructuredMerge.Compare(liveObject, merged, scope.Schema), merged, "merged");
        var changed = Filter(comparison.Modified.Union(comparison.Added), scope, strip: false);
        var removed = Filter(comparison.Removed, scope, strip: false);
        var conflicts = new List<(ManagedFieldsEntry Entry, FieldSet Fields)>();
        foreach (var (identity, entry) in managers)
        {
            if (identity == key)
            {
                continue;
            }

            var conflict = entry.Fields.Intersection(changed);
            if (!conflict.IsEmpty)
            {
                conflicts.Add((entry, conflict));
            }
        }

        if (conflicts.Count > 0 && !force)
        {
            throw ConflictError(conflicts);
        }

        foreach (var identity in managers.Keys.Where(k => k != key).ToList())
        {
            var entry = managers[identity];
            managers[identity] = entry with { Fields = entry.Fields.Difference(changed).Difference(removed) };
        }

        var objectChanged = !JsonValues.DeepEquals(liveObject, merged);
        var mine = managers[key];
        managers[key] = mine with { Time = objectChanged || mine.Time is null ? now : mine.Time };
        Store(merged, managers);

        var objectName = Json.String(merged["metadata"]?["name"]) ?? "";
        if (objectName != name)
        {
            throw PatchException.BadRequest($"the name of the object ({objectName}) does not match the name on the URL ({name})");
        }

        return merged;
    }

    /// <summary>
    /// Records a create, update or non-apply patch by <paramref name="manager"/> (see <see cref="ManagerOrUserAgent"/>):
    /// <paramref name="live"/> is the stored object (null for a create), <paramref name="liveFields"/> its managed fields
    /// as decoded before (<see cref="StoredObject.ManagedFields"/>, null to decode them here), and
    /// <paramref name="updated"/> the object about to be stored, which this changes. Managed fields the request itself
    /// carries replace the stored ones (on the main resource), and a list holding one empty entry clears them; otherwise
    /// the stored ones are kept and brought up to date. Returns <paramref name="updated"/> with its managed fields, those
    /// managed fields decoded, for the object stored from it, and whether a field that is not the server's own (as
    /// <c>apiVersion</c>, <c>kind</c>, <c>metadata.resourceVersion</c>) was found changed, added or removed: false
    /// where none was or the comparison failed.
    /// </summary>
    public (JsonObject Object, DecodedManagedFields ManagedFields, bool Changed) Update(
        JsonObject? live, DecodedManagedFields? liveFields, JsonObject updated, string manager, FieldManagerScope scope)
    {
        var result = updated;
        if (result["metadata"]?["managedFields"] is JsonArray { Count: 1 } reset && reset[0] is JsonObject { Count: 0 })
        {
            RemoveManagedFields(result);
            return (result, DecodedManagedFields.None, false);
        }

        Dictionary<(string, string, string, string), ManagedFieldsEntry>? managers = null;
        if (scope.Subresource.Length == 0 && result["metadata"]?["managedFields"] is JsonArray { Count: > 0 } sent)
        {
            // A client sends back the managed fields it read: those are the stored ones, already decoded.
            managers = live?["metadata"]?["managedFields"] is JsonArray stored && JsonNode.DeepEquals(sent, stored)
                ? LiveEntries()
                : DecodedManagedFields.Of(result).Entries();
        }

        if (managers is null || managers.Count == 0)
        {
            managers = LiveEntries() ?? [];
        }

        RemoveManagedFields(result);

        // The live object keeps its managed fields: the comparison finds them removed, which changes nothing stored,
        // as no entry keeps server-owned fields.
        Comparison comparison;
        try
        {
            comparison = StructuredMerge.Compare(live ?? [], result, scope.Schema);
        }
        catch (StructureException)
        {
            return (result, DecodedManagedFields.None, false);
        }

        var changed = Filter(comparison.Modified.Union(comparison.Added), scope, strip: false);
        var removed = Filter(comparison.Removed, scope, strip: false);
        foreach (var identity in managers.Keys.ToList())
        {
            var entry = managers[identity];
            managers[identity] = entry with { Fields = entry.Fields.Difference(changed).Difference(removed) };
        }

        var written = Strip(changed);
        if (!written.IsEmpty)
        {
            var entry = new ManagedFieldsEntry(manager, UpdateOperation, scope.ApiVersion, Now(), written, scope.Subresource);
            var fields = managers.TryGetValue(entry.Identity, out var previous) ? previous.Fields.Union(written) : written;
            managers[entry.Identity] = entry with { Fields = fields };
        }

        var objectChanged = !Strip(comparison.Added).IsEmpty || !Strip(comparison.Modified).IsEmpty || !Strip(comparison.Removed).IsEmpty;
        return (result, Store(result, managers, Previous()), objectChanged);

        Dictionary<(string, string, string, string), ManagedFieldsEntry>? LiveEntries() =>
            (liveFields ?? (live is null ? DecodedManagedFields.None : DecodedManagedFields.Of(live))).Entries();

        // The FieldsV1 objects of the live entries, by the set each was written from, when this field manager wrote them.
        Dictionary<FieldSet, JsonNode>? Previous()
        {
            if (liveFields?.Written is not { } sets || live?["metadata"]?["managedFields"] is not JsonArray list || list.Count != sets.Count)
            {
                return null;
            }

            var previous = new Dictionary<FieldSet, JsonNode>(ReferenceEqualityComparer.Instance);
            for (var i = 0; i < list.Count; i++)
            {
                if (list[i]?["fieldsV1"] is JsonObject fieldsV1)
                {
                    previous.TryAdd(sets[i].Fields, fieldsV1);
                }
            }

            return previous;
        }
    }

    /// <summary>Reads <c>metadata.managedFields</c> of an object into entries by identity.</summary>
    public static List<ManagedFieldsEntry> ReadManagedFields(JsonObject obj) => [.. Decode(obj, "").Values];

    private string Now() => time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static T Typed<T>(Func<T> operation, JsonObject obj, string what)
    {
        try
        {
            return operation();
        }
        catch (StructureException e)
        {
            var gvk = GroupVersionKind(Json.String(obj["apiVersion"]) ?? "", Json.String(obj["kind"]) ?? "");
            throw PatchException.Internal($"failed to create typed {what} object ({ObjectName(obj)}; {gvk}): {e.Message}");
        }
    }

    private static string ObjectName(JsonObject obj) =>
        $"{Json.String(obj["metadata"]?["namespace"])}/{Json.String(obj["metadata"]?["name"])}";

    /// <summary>Go's <c>GroupVersionKind.String()</c>: <c>apps/v1, Kind=Deployment</c>, <c>/v1, Kind=Pod</c>.</summary>
    private static string GroupVersionKind(string apiVersion, string kind)
    {
        var slash = apiVersion.IndexOf('/', StringComparison.Ordinal);
        var (group, version) = slash < 0 ? ("", apiVersion) : (apiVersion[..slash], apiVersion[(slash + 1)..]);
        return $"{group}/{version}, Kind={kind}";
    }

    private static FieldSet Strip(FieldSet set) => set.Difference(Stripped);

    private static FieldSet StrippedFields()
    {
        var set = new FieldSet();
        set.Insert([PathElement.Field("apiVersion")]);
        set.Insert([PathElement.Field("kind")]);
        set.Insert([PathElement.Field("metadata")]);
        foreach (var field in new[] { "name", "namespace", "creationTimestamp", "selfLink", "uid", "clusterName", "generation", "managedFields", "resourceVersion" })
        {
            set.Insert([PathElement.Field("metadata"), PathElement.Field(field)]);
        }

        return set;
    }

    private static FieldSet Filter(FieldSet set, FieldManagerScope scope, bool strip = true)
    {
        var filtered = scope.ResetFields.Aggregate(set, (s, path) => s.Without([.. path.Split('.').Select(PathElement.Field)]));
        return strip ? Strip(filtered) : filtered;
    }

    private static void Put(Dictionary<(string, string, string, string), ManagedFieldsEntry> managers, ManagedFieldsEntry entry) =>
        managers[entry.Identity] = managers.TryGetValue(entry.Identity, out var existing)
            ? existing with { Fields = existing.Fields.Union(entry.Fields) }
            : entry;

    internal static Dictionary<(string, string, string, string), ManagedFieldsEntry> Decode(JsonObject? obj, string prefix)
    {
        var managers = new Dictionary<(string, string, string, string), ManagedFieldsEntry>();
        if (obj?["metadata"]?["managedFields"] is not JsonArray entries)
        {
            return managers;
        }

        for (var i = 0; i < entries.Count; i++)
        {
            if (entries[i] is not JsonObject entry)
            {
                throw PatchException.Internal($"{prefix}managed fields entry {i} is not an object");
            }

            var operation = Json.String(entry["operation"]);
            if (operation is not (Apply or UpdateOperation))
            {
                throw PatchException.Internal(prefix + "operation must be `Apply` or `Update`");
            }

            var apiVersion = Json.String(entry["apiVersion"]) ?? "";
            if (apiVersion.Length == 0)
            {
                throw PatchException.Internal(prefix + "apiVersion must not be empty");
            }

            var fieldsType = Json.String(entry["fieldsType"]) ?? "";
            if (fieldsType != "FieldsV1")
            {
                throw PatchException.Internal(fieldsType.Length == 0
                    ? $"{prefix}missing fieldsType in managed fields entry {i}"
                    : $"{prefix}invalid fieldsType {GoText.Quote(fieldsType)} in managed fields entry {i}");
            }

            FieldSet fields;
            try
            {
                fields = entry["fieldsV1"] is JsonObject v1 ? FieldSet.FromFieldsV1(v1) : new FieldSet();
            }
            catch (FormatException e)
            {
                throw PatchException.Internal($"{prefix}error decoding fieldsV1 of managed fields entry {i}: {e.Message}");
            }

            Put(managers, new ManagedFieldsEntry(
                Json.String(entry["manager"]) ?? "",
                operation,
                apiVersion,
                Json.String(entry["time"]),
                fields,
                Json.String(entry["subresource"]) ?? ""));
        }

        return managers;
    }

    /// <summary>
    /// Writes the non-empty entries, stripped of server-owned fields, sorted as kube-apiserver sorts them; returns
    /// them as a decoding of what it wrote would give them. A set found in <paramref name="previous"/> is written as a
    /// copy of the FieldsV1 object written for it before rather than emitted again.
    /// </summary>
    private static DecodedManagedFields Store(
        JsonObject obj, Dictionary<(string, string, string, string), ManagedFieldsEntry> managers, Dictionary<FieldSet, JsonNode>? previous = null)
    {
        var entries = managers.Values
            .Select(e => e with { Fields = Strip(e.Fields) })
            .Where(e => !e.Fields.IsEmpty)
            .OrderBy(e => e.Operation, StringComparer.Ordinal)
            .ThenBy(e => e.Time is null ? DateTimeOffset.MinValue : DateTimeOffset.Parse(e.Time, CultureInfo.InvariantCulture))
            .ThenBy(e => e.Manager, StringComparer.Ordinal)
            .ThenBy(e => e.ApiVersion, StringComparer.Ordinal)
            .ThenBy(e => e.Subresource, StringComparer.Ordinal)
            .ToList();
        if (entries.Count == 0)
        {
            RemoveManagedFields(obj);
            return DecodedManagedFields.None;
        }

        var list = new JsonArray();
        foreach (var entry in entries)
        {
            var json = new JsonObject
            {
                ["manager"] = entry.Manager,
                ["operation"] = entry.Operation,
                ["apiVersion"] = entry.ApiVersion,
            };
            if (entry.Time is not null)
            {
                json["time"] = entry.Time;
            }

            json["fieldsType"] = "FieldsV1";
            json["fieldsV1"] = previous?.GetValueOrDefault(entry.Fields)?.DeepClone() ?? entry.Fields.ToFieldsV1();
            if (entry.Subresource.Length > 0)
            {
                json["subresource"] = entry.Subresource;
            }

            list.Add(json);
        }

        if (obj["metadata"] is not JsonObject metadata)
        {
            metadata = [];
            obj["metadata"] = metadata;
        }

        metadata["managedFields"] = list;
        return DecodedManagedFields.Wrote(entries);
    }

    private static void RemoveManagedFields(JsonObject obj)
    {
        if (obj["metadata"] is JsonObject metadata)
        {
            metadata.Remove("managedFields");
        }
    }

    /// <summary>
    /// The 409 of <c>internal.NewConflictError</c>: one <c>FieldManagerConflict</c> cause per field, and the message
    /// <c>Apply failed with 1 conflict: conflict with "m" using apps/v1: .spec.replicas</c> (grouped by manager when several).
    /// </summary>
    private static PatchException ConflictError(List<(ManagedFieldsEntry Entry, FieldSet Fields)> conflicts)
    {
        var ordered = conflicts.OrderBy(c => c.Entry.Manager, StringComparer.Ordinal).ThenBy(c => c.Entry.Operation, StringComparer.Ordinal).ToList();
        var causes = new List<StatusCause>();
        var lines = new List<string>();
        foreach (var (entry, fields) in ordered)
        {
            var who = PrintManager(entry);
            lines.Add($"conflicts with {who}:");
            foreach (var path in fields.Paths())
            {
                var field = PathElement.Format(path);
                causes.Add(new StatusCause("FieldManagerConflict", $"conflict with {who}", field));
                lines.Add("- " + field);
            }
        }

        var message = causes.Count == 1
            ? $"Apply failed with 1 conflict: {causes[0].Message}: {causes[0].Field}"
            : $"Apply failed with {causes.Count} conflicts: {string.Join('\n', lines)}";
        return new PatchException(409, "Conflict", message, causes);
    }

    /// <summary><c>printManager</c>: the quoted name, its subresource, and for an updater the version it wrote at.</summary>
    private static string PrintManager(ManagedFieldsEntry entry)
    {
        var text = GoText.Quote(entry.Manager);
        if (entry.Subresource.Length > 0)
        {
            text += $" with subresource {GoText.Quote(entry.Subresource)}";
        }

        return entry.Operation == UpdateOperation ? $"{text} using {entry.ApiVersion}" : text;
    }
}
