using System.Text;
using System.Text.Json.Nodes;

namespace DeepSeekOperator.DevCluster.Internal.Cel;

/// <summary>
/// The <c>fieldPath</c> of a validation rule (<c>.spec.replicas</c>, <c>['a.b']</c>), checked against the schema and written
/// as a field path, as Kubernetes' <c>ValidFieldPath</c> does: properties are named children, map entries keys.
/// </summary>
internal static class CelFieldPath
{
    /// <summary>The path in field-error notation (<c>spec.replicas</c>, <c>labels[app]</c>), or null when it does not name a field of the schema.</summary>
    public static string? Normalize(string jsonPath, JsonObject schema)
    {
        var tokens = Tokenize(jsonPath);
        var result = new StringBuilder();
        var current = schema;
        for (var i = 0; i < tokens.Count; i++)
        {
            string name;
            switch (tokens[i])
            {
                case "[":
                    if (i + 2 >= tokens.Count || tokens[i + 2] != "]" || tokens[i + 1].Length < 2 || tokens[i + 1][0] != '\'' || tokens[i + 1][^1] != '\'')
                    {
                        return null;
                    }

                    var unescaped = Unescape(tokens[i + 1][1..^1]);
                    if (unescaped is null)
                    {
                        return null;
                    }

                    name = unescaped;
                    i += 2;
                    break;
                case ".":
                    if (i + 1 >= tokens.Count)
                    {
                        return null;
                    }

                    name = tokens[++i];
                    break;
                default:
                    return null;
            }

            if (current["properties"] is JsonObject properties)
            {
                if (properties[name] is not JsonObject property)
                {
                    return null;
                }

                if (result.Length > 0)
                {
                    result.Append('.');
                }

                result.Append(name);
                current = property;
            }
            else if (current["additionalProperties"] is JsonObject additional)
            {
                result.Append('[').Append(name).Append(']');
                current = additional;
            }
            else
            {
                return null;
            }
        }

        return result.ToString();
    }

    /// <summary>Splits on <c>.</c>, <c>[</c> and <c>]</c>, keeping single-quoted strings whole.</summary>
    private static List<string> Tokenize(string path)
    {
        var tokens = new List<string>();
        var i = 0;
        while (i < path.Length)
        {
            if (path[i] == '\'')
            {
                var end = i + 1;
                while (end < path.Length && !(path[end] == '\'' && path[end - 1] != '\\'))
                {
                    end++;
                }

                tokens.Add(path[i..Math.Min(end + 1, path.Length)]);
                i = end + 1;
            }
            else if (path[i] is '.' or '[' or ']')
            {
                tokens.Add(path[i].ToString());
                i++;
            }
            else
            {
                var end = i;
                while (end < path.Length && path[end] is not ('.' or '[' or ']'))
                {
                    end++;
                }

                tokens.Add(path[i..end]);
                i = end;
            }
        }

        return tokens;
    }

    private static string? Unescape(string quoted)
    {
        var result = new StringBuilder();
        for (var i = 0; i < quoted.Length; i++)
        {
            if (quoted[i] != '\\')
            {
                result.Append(quoted[i]);
                continue;
            }

            if (++i >= quoted.Length)
            {
                return null;
            }

            char? c = quoted[i] switch
            {
                'a' => '\a',
                'b' => '\b',
                'f' => '\f',
                'n' => '\n',
                'r' => '\r',
                't' => '\t',
                'v' => '\v',
                '\'' => '\'',
                '\\' => '\\',
                _ => null,
            };
            if (c is null)
            {
                return null;
            }

            result.Append(c.Value);
        }

        return result.ToString();
    }
}
