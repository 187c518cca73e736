using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DeepSeekOperator.DevCluster.Internal.Workloads;

/// <summary>
/// The hashes that name a Deployment's ReplicaSets (<c>pod-template-hash</c>) and a StatefulSet's revisions
/// (<c>controller-revision-hash</c>), as <c>controller.ComputeHash</c> and <c>history.HashControllerRevision</c> make
/// them: FNV-32a over the template, then the collision count (when set) as 8 bytes whose first 4 are its little-endian
/// value, and the decimal value of the sum written in <c>rand.SafeEncodeString</c>'s alphabet.
/// </summary>
/// <remarks>
/// kube-controller-manager hashes a Deployment's template by printing the Go struct with spew
/// (<c>hashutil.DeepHashObject</c>), which has no JSON counterpart; here the template's JSON with keys sorted is hashed
/// instead, so names have the same shape and stability (same template, same name; a template change, a new name) but
/// not the same letters as on a real cluster. A StatefulSet revision hashes the JSON patch
/// <c>{"spec":{"template":{…,"$patch":"replace"}}}</c> that kube-controller-manager stores in the ControllerRevision,
/// written as Go's encoder writes it (sorted keys, HTML characters escaped), so it matches as far as the template's
/// stored form matches kube-apiserver's.
/// </remarks>
internal static class TemplateHash
{
    private const string SafeAlphabet = "bcdfghjklmnpqrstvwxz2456789";

    /// <summary>The <c>pod-template-hash</c> of a Deployment's pod template.</summary>
    public static string PodTemplate(JsonNode? template, long? collisionCount) =>
        Compute(Encoding.UTF8.GetBytes(CanonicalJson(template)), collisionCount);

    /// <summary>The hash of a StatefulSet revision (the part after <c>&lt;set&gt;-</c> in <c>controller-revision-hash</c>).</summary>
    public static string StatefulSetRevision(JsonNode? template, long? collisionCount)
    {
        var copy = template?.DeepClone() as JsonObject ?? [];
        var metadata = copy["metadata"] as JsonObject ?? [];
        if (!metadata.ContainsKey("creationTimestamp"))
        {
            // metav1.Time has no zero form in JSON: an encoded template always carries creationTimestamp: null.
            metadata["creationTimestamp"] = null;
        }

        copy["metadata"] = metadata;
        copy["$patch"] = "replace";
        var patch = new JsonObject { ["spec"] = new JsonObject { ["template"] = copy } };
        return Compute(Encoding.UTF8.GetBytes(CanonicalJson(patch)), collisionCount);
    }

    /// <summary>FNV-32a of <paramref name="data"/> and the collision count, safe-encoded.</summary>
    public static string Compute(ReadOnlySpan<byte> data, long? collisionCount)
    {
        var hash = 2166136261u;
        foreach (var b in data)
        {
            hash = unchecked((hash ^ b) * 16777619u);
        }

        if (collisionCount is { } count)
        {
            Span<byte> bytes = stackalloc byte[8];
            bytes.Clear();
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(bytes, unchecked((uint)count));
            foreach (var b in bytes)
            {
                hash = unchecked((hash ^ b) * 16777619u);
            }
        }

        return SafeEncode(hash.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary><c>rand.SafeEncodeString</c>: each byte mapped onto an alphabet without vowels or look-alike characters.</summary>
    public static string SafeEncode(string text)
    {
        var result = new StringBuilder(text.Length);
        foreach (var c in Encoding.UTF8.GetBytes(text))
        {
            result.Append(SafeAlphabet[c % SafeAlphabet.Length]);
        }

        return result.ToString();
    }

    /// <summary>JSON as Go's <c>json.Marshal</c> writes a decoded map: compact, keys sorted, <c>&lt;</c>, <c>&gt;</c> and <c>&amp;</c> escaped.</summary>
    public static string CanonicalJson(JsonNode? node)
    {
        var text = new StringBuilder();
        Write(node, text);
        return text.ToString();
    }

    private static void Write(JsonNode? node, StringBuilder text)
    {
        switch (node)
        {
            case null:
                text.Append("null");
                break;
            case JsonObject obj:
                text.Append('{');
                var first = true;
                foreach (var (key, value) in obj.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    if (!first)
                    {
                        text.Append(',');
                    }

                    first = false;
                    WriteString(key, text);
                    text.Append(':');
                    Write(value, text);
                }

                text.Append('}');
                break;
            case JsonArray array:
                text.Append('[');
                for (var i = 0; i < array.Count; i++)
                {
                    if (i > 0)
                    {
                        text.Append(',');
                    }

                    Write(array[i], text);
                }

                text.Append(']');
                break;
            case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                WriteString(value.GetValue<string>(), text);
                break;
            default:
                text.Append(node.ToJsonString());
                break;
        }
    }

    private static void WriteString(string value, StringBuilder text)
    {
        text.Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"':
                    text.Append("\\\"");
                    break;
                case '\\':
                    text.Append("\\\\");
                    break;
                case '\n':
                    text.Append("\\n");
                    break;
                case '\r':
                    text.Append("\\r");
                    break;
                case '\t':
                    text.Append("\\t");
                    break;
                case '\b':
                    text.Append("\\b");
                    break;
                case '\f':
                    text.Append("\\f");
                    break;
                case < ' ' or '<' or '>' or '&' or '\u2028' or '\u2029':
                    text.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
                    break;
                default:
                    text.Append(c);
                    break;
            }
        }

        text.Append('"');
    }
}
