using System.Text.Json.Nodes;

namespace DeepSeekOperator.DevCluster.Internal.Kubelet;

/// <summary>
/// The ConfigMaps and Secrets a pod's sync reads (its volumes, their projected sources, and its containers'
/// <c>envFrom</c> and <c>valueFrom</c> key references), as storage key and name: a change to any other one in the
/// namespace leaves the pod as it was, so the kubelet only resyncs the pods that name it.
/// </summary>
internal static class PodReferences
{
    /// <summary>Every ConfigMap and Secret the pod's spec names.</summary>
    public static HashSet<(string StorageKey, string Name)> Of(JsonObject pod)
    {
        var references = new HashSet<(string, string)>();
        var spec = pod["spec"] as JsonObject ?? [];
        foreach (var volume in (spec["volumes"] as JsonArray ?? []).OfType<JsonObject>())
        {
            AddSource(references, volume);
            foreach (var source in (volume["projected"]?["sources"] as JsonArray ?? []).OfType<JsonObject>())
            {
                AddSource(references, source);
            }
        }

        foreach (var field in (string[])["initContainers", "containers"])
        {
            foreach (var container in (spec[field] as JsonArray ?? []).OfType<JsonObject>())
            {
                foreach (var source in (container["envFrom"] as JsonArray ?? []).OfType<JsonObject>())
                {
                    Add(references, "configmaps", source["configMapRef"]?["name"]);
                    Add(references, "secrets", source["secretRef"]?["name"]);
                }

                foreach (var variable in (container["env"] as JsonArray ?? []).OfType<JsonObject>())
                {
                    Add(references, "configmaps", variable["valueFrom"]?["configMapKeyRef"]?["name"]);
                    Add(references, "secrets", variable["valueFrom"]?["secretKeyRef"]?["name"]);
                }
            }
        }

        return references;
    }

    private static void AddSource(HashSet<(string, string)> references, JsonObject source)
    {
        // As PodVolumes reads the name of either kind of source.
        Add(references, "configmaps", source["configMap"]?["name"] ?? source["configMap"]?["secretName"]);
        Add(references, "secrets", source["secret"]?["name"] ?? source["secret"]?["secretName"]);
    }

    private static void Add(HashSet<(string, string)> references, string storageKey, JsonNode? name)
    {
        if (Json.String(name) is { } text)
        {
            references.Add((storageKey, text));
        }
    }
}
