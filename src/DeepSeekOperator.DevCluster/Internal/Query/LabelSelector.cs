using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DeepSeekOperator.DevCluster.Internal.Query;

/// <summary>The operators of a label requirement (apimachinery <c>selection.Operator</c>).</summary>
internal enum LabelOperator
{
    Equals,
    DoubleEquals,
    NotEquals,
    In,
    NotIn,
    Exists,
    DoesNotExist,
    GreaterThan,
    LessThan,
}

/// <summary>One requirement of a label selector: a key, an operator and its values (kept in the order given).</summary>
internal sealed record LabelRequirement(string Key, LabelOperator Operator, IReadOnlyList<string> Values)
{
    /// <summary>Whether a set of labels satisfies the requirement, exactly as <c>labels.Requirement.Matches</c> decides.</summary>
    public bool Matches(JsonObject? labels)
    {
        var found = TryGetLabel(labels, Key, out var value);
        switch (Operator)
        {
            case LabelOperator.In or LabelOperator.Equals or LabelOperator.DoubleEquals:
                return found && Values.Contains(value);
            case LabelOperator.NotIn or LabelOperator.NotEquals:
                return !found || !Values.Contains(value);
            case LabelOperator.Exists:
                return found;
            case LabelOperator.DoesNotExist:
                return !found;
            default:
                if (!found || !TryParseInt64(value, out var actual) || Values.Count != 1 || !TryParseInt64(Values[0], out var bound))
                {
                    return false;
                }

                return Operator == LabelOperator.GreaterThan ? actual > bound : actual < bound;
        }
    }

    /// <summary>The requirement in selector syntax (<c>a in (x,y)</c>, <c>!a</c>, <c>a!=b</c>), values sorted as Kubernetes prints them.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        if (Operator == LabelOperator.DoesNotExist)
        {
            text.Append('!');
        }

        text.Append(Key);
        switch (Operator)
        {
            case LabelOperator.Exists or LabelOperator.DoesNotExist:
                return text.ToString();
            case LabelOperator.In or LabelOperator.NotIn:
                text.Append(Operator == LabelOperator.In ? " in (" : " notin (");
                break;
            default:
                text.Append(Symbol(Operator));
                break;
        }

        IEnumerable<string> values = Values.Count == 1 ? Values : Values.Order(StringComparer.Ordinal);
        text.AppendJoin(',', values);
        if (Operator is LabelOperator.In or LabelOperator.NotIn)
        {
            text.Append(')');
        }

        return text.ToString();
    }

    /// <summary>Go's <c>strconv.ParseInt(s, 10, 64)</c>: an optional sign and decimal digits, nothing else.</summary>
    internal static bool TryParseInt64(string text, out long value) =>
        long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);

    private static string Symbol(LabelOperator op) => op switch
    {
        LabelOperator.Equals => "=",
        LabelOperator.DoubleEquals => "==",
        LabelOperator.NotEquals => "!=",
        LabelOperator.GreaterThan => ">",
        _ => "<",
    };

    private static bool TryGetLabel(JsonObject? labels, string key, out string value)
    {
        value = "";
        if (labels is null || !labels.TryGetPropertyValue(key, out var node))
        {
            return false;
        }

        value = node is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : node?.ToJsonString() ?? "";
        return true;
    }
}

/// <summary>
/// A label selector as apimachinery's <c>labels.Selector</c>: requirements ANDed together, sorted by key.
/// <see cref="Everything"/> (no requirements) matches every object; <see cref="Nothing"/> matches none — it is what a
/// null <c>metav1.LabelSelector</c> turns into (<c>LabelSelectorAsSelector(nil)</c>), as for a Deployment or
/// PodDisruptionBudget whose selector is missing.
/// </summary>
internal sealed class LabelSelector
{
    private readonly bool _matchesNothing;

    private LabelSelector(IReadOnlyList<LabelRequirement> requirements, bool matchesNothing)
    {
        Requirements = requirements;
        _matchesNothing = matchesNothing;
    }

    /// <summary>The selector without requirements: it matches every set of labels.</summary>
    public static LabelSelector Everything { get; } = new([], matchesNothing: false);

    /// <summary>The selector that matches no set of labels.</summary>
    public static LabelSelector Nothing { get; } = new([], matchesNothing: true);

    /// <summary>The requirements, sorted by key.</summary>
    public IReadOnlyList<LabelRequirement> Requirements { get; }

    /// <summary>True when the selector does not restrict anything (<c>Selector.Empty()</c>); false for <see cref="Nothing"/>.</summary>
    public bool IsEmpty => !_matchesNothing && Requirements.Count == 0;

    /// <summary>Whether the labels (an object's <c>metadata.labels</c>, possibly absent) satisfy every requirement.</summary>
    public bool Matches(JsonObject? labels) => !_matchesNothing && Requirements.All(requirement => requirement.Matches(labels));

    /// <summary>The selector in the syntax <see cref="TryParse"/> reads; empty for <see cref="Everything"/> and <see cref="Nothing"/>.</summary>
    public override string ToString() => string.Join(',', Requirements);

    /// <summary>
    /// Parses a <c>labelSelector</c> query parameter with the grammar and messages of <c>labels.Parse</c>
    /// (<c>unable to parse requirement: …</c>, <c>found ',', expected: identifier after ','</c>); the server answers a failure
    /// with 400 BadRequest carrying <paramref name="error"/>.
    /// </summary>
    public static bool TryParse(string text, [NotNullWhen(true)] out LabelSelector? selector, [NotNullWhen(false)] out string? error)
    {
        if (LabelSelectorParser.TryParse(text, out var requirements, out error))
        {
            selector = new LabelSelector(SortByKey(requirements), matchesNothing: false);
            return true;
        }

        selector = null;
        return false;
    }

    /// <summary>
    /// Builds the selector a <c>metav1.LabelSelector</c> (<c>matchLabels</c>, <c>matchExpressions</c>) stands for, with the
    /// field errors <c>ValidateLabelSelector</c> reports under <paramref name="path"/> (e.g. <c>spec.selector</c>). A null or
    /// JSON-null selector gives <see cref="Nothing"/>; an empty one gives <see cref="Everything"/>. When there are errors the
    /// selector returned is <see cref="Nothing"/>.
    /// </summary>
    public static (LabelSelector Selector, IReadOnlyList<FieldError> Errors) FromLabelSelector(JsonNode? selector, string path)
    {
        if (selector is null)
        {
            return (Nothing, []);
        }

        if (selector is not JsonObject body)
        {
            return (Nothing, [FieldError.Invalid(path, selector, "must be an object")]);
        }

        var errors = new List<FieldError>();
        var requirements = new List<LabelRequirement>();
        var matchLabelsPath = path + ".matchLabels";
        switch (body["matchLabels"])
        {
            case null:
                break;
            case JsonObject matchLabels:
                foreach (var (key, value) in matchLabels)
                {
                    errors.AddRange(NameValidation.IsQualifiedName(key).Select(message => FieldError.Invalid(matchLabelsPath, key, message)));
                    if (value is JsonValue v && v.GetValueKind() == JsonValueKind.String)
                    {
                        var text = v.GetValue<string>();
                        errors.AddRange(NameValidation.IsValidLabelValue(text).Select(message => FieldError.Invalid(matchLabelsPath, text, message)));
                        requirements.Add(new LabelRequirement(key, LabelOperator.Equals, [text]));
                    }
                    else
                    {
                        errors.Add(FieldError.Invalid(matchLabelsPath + "[" + key + "]", value, "must be a string"));
                    }
                }

                break;
            default:
                errors.Add(FieldError.Invalid(matchLabelsPath, body["matchLabels"], "must be an object"));
                break;
        }

        switch (body["matchExpressions"])
        {
            case null:
                break;
            case JsonArray expressions:
                for (var i = 0; i < expressions.Count; i++)
                {
                    var expressionPath = string.Create(CultureInfo.InvariantCulture, $"{path}.matchExpressions[{i}]");
                    if (ReadExpression(expressions[i], expressionPath, errors) is { } requirement)
                    {
                        requirements.Add(requirement);
                    }
                }

                break;
            default:
                errors.Add(FieldError.Invalid(path + ".matchExpressions", body["matchExpressions"], "must be an array"));
                break;
        }

        if (errors.Count > 0)
        {
            return (Nothing, errors);
        }

        return (requirements.Count == 0 ? Everything : new LabelSelector(SortByKey(requirements), matchesNothing: false), []);
    }

    /// <summary>
    /// <c>metav1.FormatLabelSelector</c>: the selector's string, <c>&lt;none&gt;</c> when it selects everything or nothing,
    /// <c>&lt;error&gt;</c> when it is invalid. Printers use it for their Selector columns.
    /// </summary>
    public static string Format(JsonNode? labelSelector)
    {
        var (selector, errors) = FromLabelSelector(labelSelector, "");
        if (errors.Count > 0)
        {
            return "<error>";
        }

        var text = selector.ToString();
        return text.Length == 0 ? "<none>" : text;
    }

    private static LabelRequirement? ReadExpression(JsonNode? node, string path, List<FieldError> errors)
    {
        if (node is not JsonObject expression)
        {
            errors.Add(FieldError.Invalid(path, node, "must be an object"));
            return null;
        }

        var before = errors.Count;
        var values = new List<string>();
        if (expression["values"] is JsonArray valueArray)
        {
            for (var i = 0; i < valueArray.Count; i++)
            {
                if (valueArray[i] is JsonValue v && v.GetValueKind() == JsonValueKind.String)
                {
                    values.Add(v.GetValue<string>());
                }
                else
                {
                    errors.Add(FieldError.Invalid(string.Create(CultureInfo.InvariantCulture, $"{path}.values[{i}]"), valueArray[i], "must be a string"));
                }
            }
        }

        var operatorNode = expression["operator"];
        var operatorText = operatorNode is JsonValue o && o.GetValueKind() == JsonValueKind.String ? o.GetValue<string>() : null;
        LabelOperator? op = operatorText switch
        {
            "In" => LabelOperator.In,
            "NotIn" => LabelOperator.NotIn,
            "Exists" => LabelOperator.Exists,
            "DoesNotExist" => LabelOperator.DoesNotExist,
            _ => null,
        };
        switch (op)
        {
            case LabelOperator.In or LabelOperator.NotIn when values.Count == 0:
                errors.Add(FieldError.Required(path + ".values", "must be specified when `operator` is 'In' or 'NotIn'"));
                break;
            case LabelOperator.Exists or LabelOperator.DoesNotExist when values.Count > 0:
                errors.Add(FieldError.Forbidden(path + ".values", "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
                break;
            case null:
                errors.Add(FieldError.Invalid(path + ".operator", operatorNode is null ? JsonValue.Create("") : operatorNode, "not a valid selector operator"));
                break;
        }

        var keyNode = expression["key"];
        var key = keyNode is JsonValue k && k.GetValueKind() == JsonValueKind.String ? k.GetValue<string>() : "";
        errors.AddRange(NameValidation.IsQualifiedName(key).Select(message => FieldError.Invalid(path + ".key", key, message)));
        for (var i = 0; i < values.Count; i++)
        {
            var value = values[i];
            var valuePath = string.Create(CultureInfo.InvariantCulture, $"{path}.values[{i}]");
            errors.AddRange(NameValidation.IsValidLabelValue(value).Select(message => FieldError.Invalid(valuePath, value, message)));
        }

        return errors.Count == before && op is { } valid ? new LabelRequirement(key, valid, values) : null;
    }

    private static LabelRequirement[] SortByKey(IEnumerable<LabelRequirement> requirements) =>
        [.. requirements.OrderBy(requirement => requirement.Key, StringComparer.Ordinal)];
}
