using System.Text.Json.Nodes;
using static DeepSeekOperator.DevCluster.Internal.Schema.SchemaJson;

namespace DeepSeekOperator.DevCluster.Internal.Schema;

/// <summary>
/// The <c>fieldPath</c> of a validation rule, as apiextensions' <c>cel.ValidFieldPath</c> reads it: a sequence of
/// <c>.name</c>, <c>['key']</c> and <c>[index]</c> steps, each of which must exist in the schema.
/// </summary>
internal static class RuleFieldPath
{
    /// <summary>Whether <paramref name="path"/> names a field of <paramref name="schema"/>.</summary>
    public static bool IsValid(JsonObject schema, string path)
    {
        var current = schema;
        var i = 0;
        while (i < path.Length)
        {
            if (path[i] == '.')
            {
                var end = path.IndexOfAny(['.', '['], i + 1);
                end = end < 0 ? path.Length : end;
                var name = path[(i + 1)..end];
                if (name.Length == 0 || Property(current, name) is not { } property)
                {
                    return false;
                }

                current = property;
                i = end;
            }
            else if (path[i] == '[')
            {
                var close = path.IndexOf(']', i + 1);
                if (close < 0)
                {
                    return false;
                }

                var token = path[(i + 1)..close];
                if (token.Length >= 2 && token[0] == '\'' && token[^1] == '\'')
                {
                    var key = token[1..^1].Replace("\\'", "'", StringComparison.Ordinal);
                    var next = current["additionalProperties"] as JsonObject ?? Property(current, key);
                    if (next is null)
                    {
                        return false;
                    }

                    current = next;
                }
                else if (token.Length > 0 && token.All(char.IsAsciiDigit) && current["items"] is JsonObject items)
                {
                    current = items;
                }
                else
                {
                    return false;
                }

                i = close + 1;
            }
            else
            {
                return false;
            }
        }

        return true;
    }
}
