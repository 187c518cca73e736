using System.Text;

namespace DeepSeekOperator.DevCluster.Internal.Kubelet;

/// <summary>
/// The <c>$(VAR)</c> references of env values, commands and args, expanded as Kubernetes'
/// <c>third_party/forked/golang/expansion</c> does: <c>$$</c> is a literal <c>$</c>, a reference to an undefined
/// variable and an unclosed <c>$(</c> stay as written.
/// </summary>
internal static class Expansion
{
    public static string Expand(string input, Func<string, string?> lookup)
    {
        var output = new StringBuilder();
        var checkpoint = 0;
        for (var cursor = 0; cursor < input.Length; cursor++)
        {
            if (input[cursor] != '$' || cursor + 1 >= input.Length)
            {
                continue;
            }

            output.Append(input, checkpoint, cursor - checkpoint);
            var rest = input.AsSpan(cursor + 1);
            var advance = 1;
            if (rest[0] == '$')
            {
                output.Append('$');
            }
            else if (rest[0] == '(')
            {
                var close = rest.IndexOf(')');
                if (close > 0)
                {
                    var name = rest[1..close].ToString();
                    output.Append(lookup(name) ?? $"$({name})");
                    advance = close + 1;
                }
                else
                {
                    output.Append("$(");
                }
            }
            else
            {
                output.Append('$').Append(rest[0]);
            }

            cursor += advance;
            checkpoint = cursor + 1;
        }

        return output.Append(input, checkpoint, input.Length - checkpoint).ToString();
    }
}
