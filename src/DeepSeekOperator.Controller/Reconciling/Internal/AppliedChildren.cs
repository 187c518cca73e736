using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using DeepSeekOperator.Controller.Runtime;
using k8s;
using k8s.Models;

namespace DeepSeekOperator.Controller.Reconciling.Internal;

/// <summary>
/// What each model's children last matched: per child, the resourceVersion of the live object that held every owned
/// field of the desired one (found so, created or replaced), and a hash of that desired object. While the cache still
/// holds that version and the desired object hashes the same, the child matches without reading or comparing it again:
/// a reconcile with nothing to change costs one serialization of each desired child, not a read, two serializations
/// and two parses of each.
/// </summary>
internal sealed class AppliedChildren
{
    private readonly ConcurrentDictionary<ObjectKey, ConcurrentDictionary<string, (string ResourceVersion, UInt128 Hash)>> models = new();

    /// <summary>A hash of the desired object's JSON (the first 128 bits of its SHA-256).</summary>
    public static UInt128 Hash(IKubernetesObject<V1ObjectMeta> desired)
    {
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(KubernetesJson.Serialize(desired)), digest);
        return new UInt128(BitConverter.ToUInt64(digest), BitConverter.ToUInt64(digest[8..]));
    }

    /// <summary>Whether the child <paramref name="child"/> of <paramref name="model"/> matched <paramref name="hash"/> at <paramref name="resourceVersion"/>.</summary>
    public bool Matches(ObjectKey model, string child, string? resourceVersion, UInt128 hash) =>
        resourceVersion is not null
        && models.TryGetValue(model, out var children)
        && children.TryGetValue(child, out var last)
        && last.ResourceVersion == resourceVersion
        && last.Hash == hash;

    /// <summary>Records that the child at <paramref name="resourceVersion"/> holds every owned field of the desired object hashed <paramref name="hash"/>.</summary>
    public void Record(ObjectKey model, string child, string? resourceVersion, UInt128 hash)
    {
        if (resourceVersion is not null)
        {
            models.GetOrAdd(model, _ => new ConcurrentDictionary<string, (string, UInt128)>(StringComparer.Ordinal))[child] = (resourceVersion, hash);
        }
    }

    /// <summary>Forgets a model that is gone.</summary>
    public void Forget(ObjectKey model) => models.TryRemove(model, out _);
}
