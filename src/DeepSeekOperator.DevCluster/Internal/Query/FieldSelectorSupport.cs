using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DeepSeekOperator.DevCluster.Internal.Query;

/// <summary>
/// Which fields a resource can be selected on, and their values for one object: the field label conversion functions
/// kube-apiserver registers per kind (<c>AddFieldLabelConversionFunc</c>, or <c>DefaultMetaV1FieldSelectorConversion</c>
/// when a kind registers none) and the matching <c>ToSelectableFields</c> of its storage strategy.
/// </summary>
internal sealed class FieldSelectorSupport
{
    private readonly Func<string, string?> _convert;
    private readonly Func<string, string> _reject;
    private readonly Func<JsonObject, Dictionary<string, string>> _fields;

    private FieldSelectorSupport(Func<string, string?> convert, Func<string, string> reject, Func<JsonObject, Dictionary<string, string>> fields)
    {
        _convert = convert;
        _reject = reject;
        _fields = fields;
    }

    /// <summary>The rules of a built-in resource (<paramref name="group"/> "" for the core group, plural <paramref name="resource"/>).</summary>
    public static FieldSelectorSupport For(string group, string resource, bool namespaced) => (group, resource) switch
    {
        ("", "pods") => Listed(
            ["metadata.name", "metadata.namespace", "spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
             "spec.hostNetwork", "status.phase", "status.podIP", "status.podIPs", "status.nominatedNodeName"],
            NotSupported,
            PodFields,
            ("spec.host", "spec.nodeName")),
        ("", "nodes") => Listed(["metadata.name", "spec.unschedulable"], NotSupported, node => Meta(node, namespaced: false, new()
        {
            ["spec.unschedulable"] = GoBool(JsonFields.OptionalBoolean(node, "spec", "unschedulable") ?? false),
        })),
        ("", "replicationcontrollers") => Listed(["metadata.name", "metadata.namespace", "status.replicas"], NotSupported, rc => Meta(rc, namespaced: true, new()
        {
            ["status.replicas"] = Int(JsonFields.Integer(rc, "status", "replicas")),
        })),
        ("", "events") => Listed(
            ["involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid", "involvedObject.apiVersion",
             "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type",
             "metadata.namespace", "metadata.name"],
            NotSupported,
            CoreEventFields),
        ("events.k8s.io", "events") => Listed(
            ["reason", "regarding.kind", "regarding.namespace", "regarding.name", "regarding.uid", "regarding.apiVersion",
             "regarding.resourceVersion", "regarding.fieldPath", "reportingController", "type", "metadata.namespace", "metadata.name"],
            NotSupported,
            EventsApiFields,
            ("regarding.kind", "involvedObject.kind"),
            ("regarding.namespace", "involvedObject.namespace"),
            ("regarding.name", "involvedObject.name"),
            ("regarding.uid", "involvedObject.uid"),
            ("regarding.apiVersion", "involvedObject.apiVersion"),
            ("regarding.resourceVersion", "involvedObject.resourceVersion"),
            ("regarding.fieldPath", "involvedObject.fieldPath"),
            ("reportingController", "reportingComponent")),
        ("", "namespaces") => Listed(["status.phase", "metadata.name"], NotSupported, ns => Meta(ns, namespaced: false, new()
        {
            ["status.phase"] = JsonFields.String(ns, "status", "phase"),
        })),
        ("", "secrets") => Listed(["type", "metadata.namespace", "metadata.name"], NotSupported, secret => Meta(secret, namespaced: true, new()
        {
            ["type"] = JsonFields.String(secret, "type"),
        })),
        ("", "services") => Listed(["metadata.namespace", "metadata.name", "spec.clusterIP", "spec.type"], NotSupported, service => Meta(service, namespaced: true, new()
        {
            ["spec.clusterIP"] = JsonFields.String(service, "spec", "clusterIP"),
            ["spec.type"] = JsonFields.String(service, "spec", "type"),
        })),
        ("batch", "jobs") => Listed(["metadata.name", "metadata.namespace", "status.successful"],
            label => $"field label {GoText.Quote(label)} not supported for batchv1.Job",
            job => Meta(job, namespaced: true, new()
            {
                ["status.successful"] = Int(JsonFields.Integer(job, "status", "succeeded")),
            })),
        _ => Listed(["metadata.name", "metadata.namespace"],
            label => $"{GoText.Quote(label)} is not a known field selector: only \"metadata.name\", \"metadata.namespace\"",
            obj => Meta(obj, namespaced, [])),
    };

    /// <summary>
    /// The rules of a custom resource: <c>metadata.name</c>, <c>metadata.namespace</c> when it is namespaced, and the CRD
    /// version's <c>selectableFields</c> (their <c>jsonPath</c>s, such as <c>.spec.color</c>).
    /// </summary>
    public static FieldSelectorSupport ForCustomResource(bool namespaced, IReadOnlyList<string> selectableFieldPaths)
    {
        var selectable = selectableFieldPaths.Select(path => path.TrimStart('.')).ToList();
        var labels = new List<string>(selectable) { "metadata.name" };
        if (namespaced)
        {
            labels.Add("metadata.namespace");
        }

        return Listed(labels, NotSupported, obj =>
        {
            var fields = Meta(obj, namespaced, []);
            foreach (var label in selectable)
            {
                fields[label] = JsonFields.At(obj, label.Split('.')) switch
                {
                    JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
                    JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => GoBool(v.GetValue<bool>()),
                    JsonValue v when v.GetValueKind() == JsonValueKind.Number => v.ToJsonString(),
                    _ => "",
                };
            }

            return fields;
        });
    }

    /// <summary>
    /// Checks every field of <paramref name="selector"/> against the resource and renames the ones Kubernetes renames
    /// (<c>spec.host</c> → <c>spec.nodeName</c>). On failure <paramref name="error"/> is the message the server answers with
    /// 400 BadRequest: <c>field label not supported: spec.foo</c> for pods, <c>"spec.foo" is not a known field selector:
    /// only "metadata.name", "metadata.namespace"</c> for kinds without their own fields.
    /// </summary>
    public bool TryConvert(FieldSelector selector, [NotNullWhen(true)] out FieldSelector? converted, [NotNullWhen(false)] out string? error)
    {
        foreach (var requirement in selector.Requirements)
        {
            if (_convert(requirement.Field) is null)
            {
                converted = null;
                error = _reject(requirement.Field);
                return false;
            }
        }

        converted = selector.WithFields(field => _convert(field)!);
        error = null;
        return true;
    }

    /// <summary>The object's selectable fields and their values, as its storage strategy computes them.</summary>
    public IReadOnlyDictionary<string, string> FieldsOf(JsonObject obj) => _fields(obj);

    /// <summary>Whether the object matches a selector that <see cref="TryConvert"/> produced.</summary>
    public bool Matches(FieldSelector converted, JsonObject obj) => converted.IsEmpty || converted.Matches(FieldsOf(obj));

    private static FieldSelectorSupport Listed(
        IReadOnlyCollection<string> labels,
        Func<string, string> reject,
        Func<JsonObject, Dictionary<string, string>> fields,
        params (string From, string To)[] renames)
    {
        var known = labels.ToHashSet(StringComparer.Ordinal);
        var renamed = renames.ToDictionary(rename => rename.From, rename => rename.To, StringComparer.Ordinal);
        return new FieldSelectorSupport(
            label => renamed.TryGetValue(label, out var to) ? to : known.Contains(label) ? label : null,
            reject,
            fields);
    }

    private static string NotSupported(string label) => "field label not supported: " + label;

    private static Dictionary<string, string> Meta(JsonObject obj, bool namespaced, Dictionary<string, string> fields)
    {
        fields["metadata.name"] = JsonFields.String(obj, "metadata", "name");
        if (namespaced)
        {
            fields["metadata.namespace"] = JsonFields.String(obj, "metadata", "namespace");
        }

        return fields;
    }

    private static Dictionary<string, string> PodFields(JsonObject pod)
    {
        var podIPs = JsonFields.Array(pod, "status", "podIPs");
        var podIP = podIPs.Count > 0 ? JsonFields.String(podIPs[0], "ip") : JsonFields.String(pod, "status", "podIP");
        return Meta(pod, namespaced: true, new()
        {
            ["spec.nodeName"] = JsonFields.String(pod, "spec", "nodeName"),
            ["spec.restartPolicy"] = JsonFields.String(pod, "spec", "restartPolicy"),
            ["spec.schedulerName"] = JsonFields.String(pod, "spec", "schedulerName"),
            ["spec.serviceAccountName"] = JsonFields.String(pod, "spec", "serviceAccountName"),
            ["spec.hostNetwork"] = GoBool(JsonFields.OptionalBoolean(pod, "spec", "hostNetwork") ?? false),
            ["status.phase"] = JsonFields.String(pod, "status", "phase"),
            ["status.podIP"] = podIP,
            ["status.nominatedNodeName"] = JsonFields.String(pod, "status", "nominatedNodeName"),
        });
    }

    private static Dictionary<string, string> CoreEventFields(JsonObject e)
    {
        var source = JsonFields.String(e, "source", "component");
        return Meta(e, namespaced: true, new()
        {
            ["involvedObject.kind"] = JsonFields.String(e, "involvedObject", "kind"),
            ["involvedObject.namespace"] = JsonFields.String(e, "involvedObject", "namespace"),
            ["involvedObject.name"] = JsonFields.String(e, "involvedObject", "name"),
            ["involvedObject.uid"] = JsonFields.String(e, "involvedObject", "uid"),
            ["involvedObject.apiVersion"] = JsonFields.String(e, "involvedObject", "apiVersion"),
            ["involvedObject.resourceVersion"] = JsonFields.String(e, "involvedObject", "resourceVersion"),
            ["involvedObject.fieldPath"] = JsonFields.String(e, "involvedObject", "fieldPath"),
            ["reason"] = JsonFields.String(e, "reason"),
            ["reportingComponent"] = JsonFields.String(e, "reportingComponent"),
            ["source"] = source.Length > 0 ? source : JsonFields.String(e, "reportingComponent"),
            ["type"] = JsonFields.String(e, "type"),
        });
    }

    // An events.k8s.io/v1 Event holds the same fields under other names; the field set uses the core names.
    private static Dictionary<string, string> EventsApiFields(JsonObject e)
    {
        var source = JsonFields.String(e, "deprecatedSource", "component");
        return Meta(e, namespaced: true, new()
        {
            ["involvedObject.kind"] = JsonFields.String(e, "regarding", "kind"),
            ["involvedObject.namespace"] = JsonFields.String(e, "regarding", "namespace"),
            ["involvedObject.name"] = JsonFields.String(e, "regarding", "name"),
            ["involvedObject.uid"] = JsonFields.String(e, "regarding", "uid"),
            ["involvedObject.apiVersion"] = JsonFields.String(e, "regarding", "apiVersion"),
            ["involvedObject.resourceVersion"] = JsonFields.String(e, "regarding", "resourceVersion"),
            ["involvedObject.fieldPath"] = JsonFields.String(e, "regarding", "fieldPath"),
            ["reason"] = JsonFields.String(e, "reason"),
            ["reportingComponent"] = JsonFields.String(e, "reportingController"),
            ["source"] = source.Length > 0 ? source : JsonFields.String(e, "reportingController"),
            ["type"] = JsonFields.String(e, "type"),
        });
    }

    private static string GoBool(bool value) => value ? "true" : "false";

    private static string Int(long value) => value.ToString(CultureInfo.InvariantCulture);
}
