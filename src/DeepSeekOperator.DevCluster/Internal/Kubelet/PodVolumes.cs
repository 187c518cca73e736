using System.Text;
using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal.Storage;

namespace DeepSeekOperator.DevCluster.Internal.Kubelet;

/// <summary>
/// A pod's volumes as host directories, laid out as the kubelet lays them out under
/// <c>pods/&lt;uid&gt;/volumes/&lt;plugin&gt;/&lt;volume&gt;</c>: <c>emptyDir</c> (deleted with the pod), <c>hostPath</c>
/// (the path itself), <c>configMap</c>, <c>secret</c>, <c>downwardAPI</c> and <c>projected</c> (their configMap,
/// secret and downwardAPI sources; files written atomically and rewritten when their sources change), and
/// <c>persistentVolumeClaim</c> (a directory per claim under <c>pvc/&lt;ns&gt;/&lt;claim&gt;</c>, kept after the pod).
/// </summary>
internal sealed class PodVolumes(ObjectStore store, string podDirectory, string claimsDirectory)
{
    private const UnixFileMode DefaultMode = (UnixFileMode)420;
    private readonly Dictionary<string, string> hostPaths = new(StringComparer.Ordinal);

    /// <summary>Sets up or refreshes every volume; the first failure as a <c>FailedMount</c> message, or null.</summary>
    public string? Sync(JsonObject pod)
    {
        var ns = Meta.Namespace(pod);
        foreach (var volume in (pod["spec"]?["volumes"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var name = Json.String(volume["name"]) ?? "";
            try
            {
                if (SetUp(pod, ns, name, volume) is { } error)
                {
                    return $"MountVolume.SetUp failed for volume \"{name}\" : {error}";
                }
            }
            catch (IOException error)
            {
                return $"MountVolume.SetUp failed for volume \"{name}\" : {error.Message}";
            }
        }

        return null;
    }

    /// <summary>The host directory of a volume set up by <see cref="Sync"/>.</summary>
    public string? HostPath(string volume) => hostPaths.GetValueOrDefault(volume);

    /// <summary>A container's mounts as host paths (with <c>subPath</c>, created when missing, as the kubelet does).</summary>
    public ContainerMounts MountsOf(JsonObject container)
    {
        var mounts = new List<(string, string)>();
        foreach (var mount in (container["volumeMounts"] as JsonArray ?? []).OfType<JsonObject>())
        {
            if (HostPath(Json.String(mount["name"]) ?? "") is not { } host)
            {
                continue;
            }

            if (Json.String(mount["subPath"]) is { Length: > 0 } subPath)
            {
                host = Path.Combine(host, subPath);
                if (!Path.Exists(host))
                {
                    Directory.CreateDirectory(host);
                }
            }

            mounts.Add((Json.String(mount["mountPath"]) ?? "", host));
        }

        return new ContainerMounts(mounts);
    }

    /// <summary>Removes the pod's own volumes (emptyDir and the projected ones); hostPath and claim directories stay.</summary>
    public void TearDown()
    {
        if (Directory.Exists(podDirectory))
        {
            Directory.Delete(podDirectory, recursive: true);
        }
    }

    private string? SetUp(JsonObject pod, string ns, string name, JsonObject volume)
    {
        string Plugin(string plugin) => Path.Combine(podDirectory, "volumes", plugin, name);
        if (volume.ContainsKey("emptyDir"))
        {
            hostPaths[name] = Directory.CreateDirectory(Plugin("kubernetes.io~empty-dir")).FullName;
        }
        else if (volume["hostPath"] is JsonObject hostPath)
        {
            var path = Json.String(hostPath["path"]) ?? "";
            var error = (Json.String(hostPath["type"]) ?? "") switch
            {
                "DirectoryOrCreate" => Create(() => Directory.CreateDirectory(path)),
                "FileOrCreate" => Create(() => File.AppendAllText(path, "")),
                "Directory" when !Directory.Exists(path) => $"hostPath type check failed: {path} is not a directory",
                "File" when !File.Exists(path) => $"hostPath type check failed: {path} is not a file",
                _ => null,
            };
            if (error is not null)
            {
                return error;
            }

            hostPaths[name] = path;
        }
        else if (volume["persistentVolumeClaim"] is JsonObject claim)
        {
            hostPaths[name] = Directory.CreateDirectory(Path.Combine(claimsDirectory, ns, Json.String(claim["claimName"]) ?? "")).FullName;
        }
        else if ((volume["configMap"] ?? volume["secret"] ?? volume["downwardAPI"] ?? volume["projected"]) is JsonObject)
        {
            var (plugin, sources) = volume switch
            {
                _ when volume["configMap"] is JsonObject c => ("kubernetes.io~configmap", new JsonArray(new JsonObject { ["configMap"] = c.DeepClone() })),
                _ when volume["secret"] is JsonObject s => ("kubernetes.io~secret", new JsonArray(new JsonObject { ["secret"] = s.DeepClone() })),
                _ when volume["downwardAPI"] is JsonObject d => ("kubernetes.io~downward-api", new JsonArray(new JsonObject { ["downwardAPI"] = d.DeepClone() })),
                _ => ("kubernetes.io~projected", volume["projected"]?["sources"]?.DeepClone() as JsonArray ?? []),
            };
            var defaultMode = Json.Int64(volume.First(p => p.Value is JsonObject).Value?["defaultMode"]) is { } mode ? (UnixFileMode)mode : DefaultMode;
            var payload = new Dictionary<string, FileProjection>(StringComparer.Ordinal);
            foreach (var source in sources.OfType<JsonObject>())
            {
                if (Project(pod, ns, source, defaultMode, payload) is { } error)
                {
                    return error;
                }
            }

            var directory = Plugin(plugin);
            AtomicWriter.Write(directory, payload);
            hostPaths[name] = directory;
        }

        return null;
    }

    private string? Project(JsonObject pod, string ns, JsonObject source, UnixFileMode defaultMode, Dictionary<string, FileProjection> payload)
    {
        if (source["downwardAPI"] is JsonObject downward)
        {
            foreach (var item in (downward["items"] as JsonArray ?? []).OfType<JsonObject>())
            {
                var value = item["fieldRef"] is JsonObject field
                    ? ContainerEnvironment.FieldValue(pod, Json.String(field["fieldPath"]) ?? "") ?? ""
                    : item["resourceFieldRef"] is JsonObject resource
                        ? ContainerEnvironment.ResourceValue(
                            (pod["spec"]?["containers"] as JsonArray ?? []).OfType<JsonObject>().FirstOrDefault(c => Json.String(c["name"]) == Json.String(resource["containerName"])) ?? [],
                            Json.String(resource["resource"]) ?? "",
                            Json.String(resource["divisor"]))
                        : "";
                payload[Json.String(item["path"]) ?? ""] = new FileProjection(Encoding.UTF8.GetBytes(value), ModeOf(item, defaultMode));
            }

            return null;
        }

        var (reference, kind) = source["configMap"] is JsonObject c ? (c, "configmap") : (source["secret"] as JsonObject, "secret");
        if (reference is null)
        {
            // serviceAccountToken and clusterTrustBundle sources: the dev cluster issues no tokens.
            return null;
        }

        var name = Json.String(reference["name"] ?? reference["secretName"]) ?? "";
        var optional = Json.Bool(reference["optional"]) == true;
        var found = store.Get(kind == "configmap" ? "configmaps" : "secrets", ns, name)?.Value;
        if (found is null)
        {
            return optional ? null : $"{kind} \"{name}\" not found";
        }

        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var (key, value) in found["data"] as JsonObject ?? [])
        {
            var text = Json.String(value) ?? "";
            files[key] = kind == "configmap" ? Encoding.UTF8.GetBytes(text) : Convert.FromBase64String(text);
        }

        foreach (var (key, value) in found["binaryData"] as JsonObject ?? [])
        {
            files[key] = Convert.FromBase64String(Json.String(value) ?? "");
        }

        if (reference["items"] is JsonArray { Count: > 0 } items)
        {
            foreach (var item in items.OfType<JsonObject>())
            {
                var key = Json.String(item["key"]) ?? "";
                if (!files.TryGetValue(key, out var data))
                {
                    if (optional)
                    {
                        continue;
                    }

                    return $"{kind} references non-existent config key: {key}";
                }

                payload[Json.String(item["path"]) ?? key] = new FileProjection(data, ModeOf(item, defaultMode));
            }
        }
        else
        {
            foreach (var (key, data) in files)
            {
                payload[key] = new FileProjection(data, defaultMode);
            }
        }

        return null;
    }

    private static UnixFileMode ModeOf(JsonObject item, UnixFileMode defaultMode) =>
        Json.Int64(item["mode"]) is { } mode ? (UnixFileMode)mode : defaultMode;

    private static string? Create(Action create)
    {
        create();
        return null;
    }
}
