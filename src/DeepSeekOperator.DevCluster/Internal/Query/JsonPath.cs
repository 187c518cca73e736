using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DeepSeekOperator.DevCluster.Internal.Query;

/// <summary>
/// A JSONPath template as client-go's <c>util/jsonpath</c> reads and evaluates it — the language of CRD
/// <c>additionalPrinterColumns</c> and of <c>kubectl -o jsonpath</c>: <c>{.a.b}</c>, <c>['a']</c>, <c>[0]</c>, <c>[-1]</c>,
/// <c>[1:3]</c>, <c>[*]</c>, <c>..name</c>, <c>[?(@.type=="Ready")]</c>, unions <c>[a,b]</c>, <c>{range}…{end}</c> and literal
/// text around actions.
/// </summary>
internal sealed class JsonPath
{
    private readonly JsonPathList _root;

    private JsonPath(string template, JsonPathList root)
    {
        Template = template;
        _root = root;
    }

    /// <summary>The template parsed, braces included (<c>{.status.phase}</c>).</summary>
    public string Template { get; }

    /// <summary>
    /// Parses a template. Text without any <c>{</c> is taken as one expression and wrapped in braces, so <c>.status.phase</c>
    /// and <c>{.status.phase}</c> mean the same, as a CRD printer column's <c>jsonPath</c> does.
    /// </summary>
    public static bool TryParse(string text, [NotNullWhen(true)] out JsonPath? path, [NotNullWhen(false)] out JsonPathError? error)
    {
        var template = text.Contains('{', StringComparison.Ordinal) ? text : "{" + text + "}";
        var root = JsonPathParser.Parse(template, out error);
        path = root is null ? null : new JsonPath(template, root);
        return path is not null;
    }

    /// <summary>
    /// Evaluates the template: one list of values per top-level node (each action and each piece of literal text), as
    /// <c>FindResults</c> returns them. A member that is absent is an error (<c>name is not found</c>) unless
    /// <paramref name="allowMissingKeys"/>; indexing out of range or comparing mismatched types is always one.
    /// </summary>
    public bool TryFindResults(
        JsonNode? data,
        bool allowMissingKeys,
        [NotNullWhen(true)] out IReadOnlyList<IReadOnlyList<JsonNode?>>? results,
        [NotNullWhen(false)] out string? error)
    {
        var evaluator = new Evaluator(allowMissingKeys);
        var found = new List<IReadOnlyList<JsonNode?>>();
        error = evaluator.FindResults(data, _root.Nodes, 0, found);
        results = error is null ? found : null;
        return error is null;
    }

    /// <summary>
    /// All the values the template selects from <paramref name="root"/>, in order, with absent members simply selecting
    /// nothing. Throws <see cref="InvalidOperationException"/> with client-go's message when evaluation fails.
    /// </summary>
    public IReadOnlyList<JsonNode?> Evaluate(JsonNode? root) =>
        TryFindResults(root, allowMissingKeys: true, out var results, out var error)
            ? [.. results.SelectMany(values => values)]
            : throw new InvalidOperationException(error);

    /// <summary>The text <c>kubectl -o jsonpath</c> writes: each node's results printed by <see cref="PrintResults"/>, concatenated.</summary>
    public bool TryExecute(JsonNode? data, bool allowMissingKeys, [NotNullWhen(true)] out string? output, [NotNullWhen(false)] out string? error)
    {
        output = null;
        if (!TryFindResults(data, allowMissingKeys, out var results, out error))
        {
            return false;
        }

        output = string.Concat(results.Select(PrintResults));
        return true;
    }

    /// <summary>
    /// <c>JSONPath.PrintResults</c>: values separated by a space, objects and arrays as compact JSON, scalars as Go prints them
    /// (JSON null as <c>null</c>).
    /// </summary>
    public static string PrintResults(IReadOnlyList<JsonNode?> results) =>
        string.Join(' ', results.Select(value => value is JsonObject or JsonArray ? GoText.Marshal(value) : GoText.PrintScalar(value)));

    /// <inheritdoc/>
    public override string ToString() => Template;

    private sealed class Evaluator(bool allowMissingKeys)
    {
        private int _beginRange;
        private int _inRange;
        private int _endRange;
        private int _lastEndNode = -1;

        // FindResults of client-go, nodes[start..] standing for the sub-slice the Go code recurses on.
        public string? FindResults(JsonNode? data, List<JsonPathNode> nodes, int start, List<IReadOnlyList<JsonNode?>> full)
        {
            for (var i = start; i < nodes.Count; i++)
            {
                var error = Walk([data], nodes[i], out var results);
                if (error is not null)
                {
                    return error;
                }

                if (_endRange > 0 && _endRange <= _inRange)
                {
                    _endRange--;
                    _lastEndNode = i;
                    break;
                }

                if (_beginRange > 0)
                {
                    _beginRange--;
                    _inRange++;
                    if (results.Count > 0)
                    {
                        foreach (var value in results)
                        {
                            error = FindResults(value, nodes, i + 1, full);
                            if (error is not null)
                            {
                                return error;
                            }
                        }
                    }
                    else
                    {
                        error = FindResults(null, nodes, i + 1, []);
                        if (error is not null)
                        {
                            return error;
                        }
                    }

                    _inRange--;
                    for (var k = i + 1; k < nodes.Count; k++)
                    {
                        if (k == _lastEndNode)
                        {
                            i = k;
                            break;
                        }
                    }

                    continue;
                }

                full.Add(results);
            }

            return null;
        }

        private string? Walk(List<JsonNode?> input, JsonPathNode node, out List<JsonNode?> results)
        {
            results = [];
            switch (node)
            {
                case JsonPathList list:
                    return EvalList(input, list, out results);
                case JsonPathText text:
                    results = [JsonValue.Create(text.Text)];
                    return null;
                case JsonPathField field:
                    return EvalField(input, field.Name, results);
                case JsonPathArray array:
                    return EvalArray(input, array, results);
                case JsonPathFilter filter:
                    return EvalFilter(input, filter, results);
                case JsonPathInt integer:
                    results = [.. input.Select(_ => (JsonNode?)JsonValue.Create((long)integer.Value))];
                    return null;
                case JsonPathFloat number:
                    results = [.. input.Select(_ => FloatLiteral(number.Value))];
                    return null;
                case JsonPathBool boolean:
                    results = [.. input.Select(_ => (JsonNode?)JsonValue.Create(boolean.Value))];
                    return null;
                case JsonPathWildcard:
                    foreach (var value in input)
                    {
                        results.AddRange(Children(value));
                    }

                    return null;
                case JsonPathRecursive:
                    Recurse(input, results);
                    return null;
                case JsonPathUnion union:
                    foreach (var branch in union.Branches)
                    {
                        var error = EvalList(input, branch, out var part);
                        if (error is not null)
                        {
                            return error;
                        }

                        results.AddRange(part);
                    }

                    return null;
                case JsonPathIdentifier { Name: "range" }:
                    _beginRange++;
                    results = input;
                    return null;
                case JsonPathIdentifier { Name: "end" }:
                    if (_inRange > 0)
                    {
                        _endRange++;
                        return null;
                    }

                    return "not in range, nothing to end";
                case JsonPathIdentifier identifier:
                    return "unrecognized identifier " + identifier.Name;
                default:
                    return "unexpected Node " + node;
            }
        }

        private string? EvalList(List<JsonNode?> input, JsonPathList list, out List<JsonNode?> current)
        {
            current = input;
            foreach (var node in list.Nodes)
            {
                var error = Walk(current, node, out current);
                if (error is not null)
                {
                    return error;
                }
            }

            return null;
        }

        private string? EvalField(List<JsonNode?> input, string name, List<JsonNode?> results)
        {
            if (input.Count == 0)
            {
                return null;
            }

            foreach (var value in input)
            {
                if (value is JsonObject o && o.TryGetPropertyValue(name, out var member))
                {
                    results.Add(member);
                }
            }

            return results.Count == 0 && !allowMissingKeys ? name + " is not found" : null;
        }

        private static string? EvalArray(List<JsonNode?> input, JsonPathArray node, List<JsonNode?> results)
        {
            foreach (var value in input)
            {
                if (value is null)
                {
                    continue;
                }

                if (value is not JsonArray array)
                {
                    return GoText.TypeName(value) + " is not array or slice";
                }

                var length = array.Count;
                var start = node.Start.Known ? node.Start.Value : 0;
                if (start < 0)
                {
                    start += length;
                }

                var end = node.End.Known ? node.End.Value : length;
                if (end < 0 || (end == 0 && node.End.Derived))
                {
                    end += length;
                }

                if (end == start)
                {
                    return null;
                }

                if (start >= length || start < 0)
                {
                    return string.Create(CultureInfo.InvariantCulture, $"array index out of bounds: index {start}, length {length}");
                }

                if (end > length || end < 0)
                {
                    return string.Create(CultureInfo.InvariantCulture, $"array index out of bounds: index {end - 1}, length {length}");
                }

                if (start > end)
                {
                    return string.Create(CultureInfo.InvariantCulture, $"starting index {start} is greater than ending index {end}");
                }

                var step = 1;
                if (node.Step.Known)
                {
                    if (node.Step.Value <= 0)
                    {
                        return "step must be > 0";
                    }

                    step = node.Step.Value;
                }

                for (var i = start; i < end; i += step)
                {
                    results.Add(array[i]);
                }
            }

            return null;
        }

        private string? EvalFilter(List<JsonNode?> input, JsonPathFilter node, List<JsonNode?> results)
        {
            foreach (var value in input)
            {
                if (value is not JsonArray array)
                {
                    return GoText.Sprint(value) + " is not array or slice and cannot be filtered";
                }

                foreach (var element in array)
                {
                    var error = EvalList([element], node.Left, out var lefts);
                    if (node.Operator == "exists")
                    {
                        if (lefts.Count > 0)
                        {
                            results.Add(element);
                        }

                        continue;
                    }

                    if (error is not null)
                    {
                        return error;
                    }

                    if (lefts.Count == 0)
                    {
                        continue;
                    }

                    if (lefts.Count > 1)
                    {
                        return "can only compare one element at a time";
                    }

                    error = EvalList([element], node.Right, out var rights);
                    if (error is not null)
                    {
                        return error;
                    }

                    if (rights.Count == 0)
                    {
                        continue;
                    }

                    if (rights.Count > 1)
                    {
                        return "can only compare one element at a time";
                    }

                    error = GoComparison.Compare(node.Operator, lefts[0], rights[0], out var pass);
                    if (error is not null)
                    {
                        return error;
                    }

                    if (pass)
                    {
                        results.Add(element);
                    }
                }
            }

            return null;
        }

        // Members of an object, elements of an array, and the bytes of a string (Go indexes strings bytewise).
        private static IEnumerable<JsonNode?> Children(JsonNode? value) => value switch
        {
            JsonObject o => o.Select(pair => pair.Value),
            JsonArray a => a,
            JsonValue v when v.GetValueKind() == JsonValueKind.String =>
                Encoding.UTF8.GetBytes(v.GetValue<string>()).Select(b => (JsonNode?)JsonValue.Create((long)b)),
            _ => [],
        };

        private static void Recurse(IEnumerable<JsonNode?> input, List<JsonNode?> results)
        {
            foreach (var value in input)
            {
                var children = Children(value).ToList();
                if (children.Count > 0)
                {
                    results.Add(value);
                    Recurse(children, results);
                }
            }
        }

        // A decimal literal stays a float64 even when it is whole (1.0), so it compares as Go compares it.
        private static JsonNode FloatLiteral(double value)
        {
            var text = value.ToString("R", CultureInfo.InvariantCulture);
            return JsonNode.Parse(text.Contains('.', StringComparison.Ordinal) || text.Contains('E', StringComparison.Ordinal) ? text : text + ".0")!;
        }
    }
}
