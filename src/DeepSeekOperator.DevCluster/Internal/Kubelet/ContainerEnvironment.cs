using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal.Cel;
using DeepSeekOperator.DevCluster.Internal.Storage;

namespace DeepSeekOperator.DevCluster.Internal.Kubelet;

/// <summary>
/// A container's environment, built as the kubelet's <c>makeEnvironmentVariables</c> builds it: the service variables
/// of the API server, then <c>envFrom</c> in order, then <c>env</c> in order with <c>$(VAR)</c> references to variables
/// defined before; <c>fieldRef</c>, <c>resourceFieldRef</c>, <c>configMapKeyRef</c> and <c>secretKeyRef</c> resolved.
/// </summary>
internal static class ContainerEnvironment
{
    /// <summary>The environment, or the error that keeps the container from being created (<c>CreateContainerConfigError</c>).</summary>
    public static (List<KeyValuePair<string, string>> Variables, string? Error) Build(
        ObjectStore store, JsonObject pod, JsonObject container, IReadOnlyList<KeyValuePair<string, string>> serviceVariables)
    {
        var ns = Meta.Namespace(pod);
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        var order = new List<string>();
        void Set(string name, string value)
        {
            if (!variables.ContainsKey(name))
            {
                order.Add(name);
            }

            variables[name] = value;
        }

        foreach (var source in (container["envFrom"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var prefix = Json.String(source["prefix"]) ?? "";
            var (reference, kind) = source["configMapRef"] is JsonObject c ? (c, "configmap") : (source["secretRef"] as JsonObject, "secret");
            if (reference is null)
            {
                continue;
            }

            var name = Json.String(reference["name"]) ?? "";
            var values = Values(store, kind, ns, name);
            if (values is null)
            {
                if (Json.Bool(reference["optional"]) == true)
                {
                    continue;
                }

                return ([], $"{kind} \"{name}\" not found");
            }

            foreach (var (key, value) in values)
            {
                Set(prefix + key, value);
            }
        }

        var services = serviceVariables.ToDictionary(v => v.Key, v => v.Value, StringComparer.Ordinal);
        string? Lookup(string name) => variables.TryGetValue(name, out var value) ? value : services.GetValueOrDefault(name);
        foreach (var variable in (container["env"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var name = Json.String(variable["name"]) ?? "";
            if (variable["valueFrom"] is not JsonObject from)
            {
                Set(name, Expansion.Expand(Json.String(variable["value"]) ?? "", Lookup));
                continue;
            }

            if (from["fieldRef"] is JsonObject field)
            {
                Set(name, FieldValue(pod, Json.String(field["fieldPath"]) ?? "") ?? "");
            }
            else if (from["resourceFieldRef"] is JsonObject resource)
            {
                var target = Json.String(resource["containerName"]) is { Length: > 0 } containerName
                    ? (pod["spec"]?["containers"] as JsonArray ?? []).OfType<JsonObject>().FirstOrDefault(c => Json.String(c["name"]) == containerName) ?? container
                    : container;
                Set(name, ResourceValue(target, Json.String(resource["resource"]) ?? "", Json.String(resource["divisor"])));
            }
            else if ((from["configMapKeyRef"] ?? from["secretKeyRef"]) is JsonObject keyRef)
            {
                var kind = from["configMapKeyRef"] is not null ? "configmap" : "secret";
                var objectName = Json.String(keyRef["name"]) ?? "";
                var key = Json.String(keyRef["key"]) ?? "";
                var optional = Json.Bool(keyRef["optional"]) == true;
                var values = Values(store, kind, ns, objectName);
                if (values is null)
                {
                    if (optional)
                    {
                        continue;
                    }

                    return ([], $"{kind} \"{objectName}\" not found");
                }

                if (!values.TryGetValue(key, out var value))
                {
                    if (optional)
                    {
                        continue;
                    }

                    return ([], $"couldn't find key {key} in {(kind == "configmap" ? "ConfigMap" : "Secret")} {ns}/{objectName}");
                }

                Set(name, value);
            }
        }

        var result = serviceVariables.Where(v => !variables.ContainsKey(v.Key)).ToList();
        result.AddRange(order.Select(name => KeyValuePair.Create(name, variables[name])));
        return (result, null);
    }

    /// <summary>The string of a downward API <c>fieldRef</c>, as the kubelet's <c>podFieldSelectorRuntimeValue</c> gives it; null for an unsupported path.</summary>
    public static string? FieldValue(JsonObject pod, string fieldPath)
    {
        var metadata = pod["metadata"] as JsonObject ?? [];
        var status = pod["status"] as JsonObject ?? [];
        switch (fieldPath)
        {
            case "metadata.name":
                return Meta.Name(pod);
            case "metadata.namespace":
                return Meta.Namespace(pod);
            case "metadata.uid":
                return Meta.Uid(pod);
            case "metadata.labels":
                return FormatMap(metadata["labels"] as JsonObject);
            case "metadata.annotations":
                return FormatMap(metadata["annotations"] as JsonObject);
            case "spec.nodeName":
                return Json.String(pod["spec"]?["nodeName"]) ?? "";
            case "spec.serviceAccountName":
                return Json.String(pod["spec"]?["serviceAccountName"]) ?? "";
            case "status.hostIP":
                return Json.String(status["hostIP"]) ?? "";
            case "status.podIP":
                return Json.String(status["podIP"]) ?? "";
            case "status.hostIPs":
                return string.Join(",", (status["hostIPs"] as JsonArray ?? []).Select(ip => Json.String(ip?["ip"])));
            case "status.podIPs":
                return string.Join(",", (status["podIPs"] as JsonArray ?? []).Select(ip => Json.String(ip?["ip"])));
        }

        foreach (var map in (string[])["labels", "annotations"])
        {
            var prefix = $"metadata.{map}['";
            if (fieldPath.StartsWith(prefix, StringComparison.Ordinal) && fieldPath.EndsWith("']", StringComparison.Ordinal))
            {
                return Json.String(metadata[map]?[fieldPath[prefix.Length..^2]]) ?? "";
            }
        }

        return null;
    }

    /// <summary>
    /// The string of a <c>resourceFieldRef</c>: the container's limit or request divided by the divisor and rounded up;
    /// an unset limit is the node's allocatable (this machine's CPUs and memory).
    /// </summary>
    public static string ResourceValue(JsonObject container, string resource, string? divisor)
    {
        var parts = resource.Split('.', 2);
        if (parts.Length != 2)
        {
            return "";
        }

        var given = Json.String(container["resources"]?[parts[0]]?[parts[1]]);
        if (given is null && parts[0] == "limits")
        {
            given = parts[1] switch
            {
                "cpu" => Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture),
                "memory" => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes.ToString(CultureInfo.InvariantCulture),
                _ => null,
            };
        }

        var value = CelQuantity.Parse(given ?? "0", out _)?.Nanos ?? BigInteger.Zero;
        var unit = CelQuantity.Parse(string.IsNullOrEmpty(divisor) ? "1" : divisor, out _)?.Nanos ?? BigInteger.Zero;
        if (unit <= 0)
        {
            unit = CelQuantity.FromInteger(1).Nanos;
        }

        var quotient = BigInteger.DivRem(value, unit, out var remainder);
        return (remainder > 0 ? quotient + 1 : quotient).ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>The values of a ConfigMap's <c>data</c> or a Secret's decoded <c>data</c>; null when the object does not exist.</summary>
    public static Dictionary<string, string>? Values(ObjectStore store, string kind, string ns, string name)
    {
        var found = store.Get(kind == "configmap" ? "configmaps" : "secrets", ns, name)?.Value;
        if (found is null)
        {
            return null;
        }

        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in found["data"] as JsonObject ?? [])
        {
            var text = Json.String(value) ?? "";
            values[key] = kind == "configmap" ? text : Encoding.UTF8.GetString(Convert.FromBase64String(text));
        }

        return values;
    }

    private static string FormatMap(JsonObject? map) =>
        string.Join("\n", (map ?? []).OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}=\"{Json.String(p.Value)}\""));
}
