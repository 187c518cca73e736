using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

namespace DeepSeekOperator.DevCluster.Internal.Query;

/// <summary>One term of a field selector: <c>field=value</c> (also written <c>==</c>) or <c>field!=value</c>.</summary>
internal sealed record FieldRequirement(string Field, bool NotEquals, string Value)
{
    /// <summary>Whether the object's field set satisfies the term; a field the set lacks reads as the empty string.</summary>
    public bool Matches(IReadOnlyDictionary<string, string> fields) => (fields.GetValueOrDefault(Field, "") == Value) != NotEquals;

    /// <summary>The term as Kubernetes prints it, with the value escaped.</summary>
    public override string ToString() => Field + (NotEquals ? "!=" : "=") + FieldSelector.EscapeValue(Value);
}

/// <summary>
/// A field selector as apimachinery's <c>fields.ParseSelector</c> reads it: comma-separated terms (a comma, <c>=</c> or
/// backslash inside a value is escaped with a backslash), ANDed together. Whether a field may be selected on is the
/// resource's business: see <see cref="FieldSelectorSupport"/>.
/// </summary>
internal sealed class FieldSelector
{
    private FieldSelector(IReadOnlyList<FieldRequirement> requirements) => Requirements = requirements;

    /// <summary>The selector without terms, matching everything.</summary>
    public static FieldSelector Everything { get; } = new([]);

    /// <summary>The terms, sorted as Kubernetes sorts them (by their text).</summary>
    public IReadOnlyList<FieldRequirement> Requirements { get; }

    /// <summary>True when there are no terms.</summary>
    public bool IsEmpty => Requirements.Count == 0;

    /// <summary>Whether every term holds for the field set.</summary>
    public bool Matches(IReadOnlyDictionary<string, string> fields) => Requirements.All(requirement => requirement.Matches(fields));

    /// <summary>A selector with the same operators and values over other field names (for label conversion such as <c>spec.host</c>).</summary>
    public FieldSelector WithFields(Func<string, string> rename) =>
        new([.. Requirements.Select(requirement => requirement with { Field = rename(requirement.Field) })]);

    /// <inheritdoc/>
    public override string ToString() => string.Join(',', Requirements);

    /// <summary>
    /// Parses a <c>fieldSelector</c> query parameter with the messages of <c>fields.ParseSelector</c>
    /// (<c>invalid selector: 'x'; can't understand 'x'</c>, <c>invalid field selector: invalid escape sequence: \x</c>).
    /// </summary>
    public static bool TryParse(string text, [NotNullWhen(true)] out FieldSelector? selector, [NotNullWhen(false)] out string? error)
    {
        selector = null;
        var requirements = new List<FieldRequirement>();
        foreach (var part in SplitTerms(text).Order(StringComparer.Ordinal))
        {
            if (part.Length == 0)
            {
                continue;
            }

            if (!TrySplitTerm(part, out var field, out var op, out var rawValue))
            {
                error = $"invalid selector: '{text}'; can't understand '{part}'";
                return false;
            }

            if (!TryUnescapeValue(rawValue, out var value, out error))
            {
                return false;
            }

            requirements.Add(new FieldRequirement(field, op == "!=", value));
        }

        selector = requirements.Count == 0 ? Everything : new FieldSelector(requirements);
        error = null;
        return true;
    }

    /// <summary><c>fields.EscapeValue</c>: a backslash before every backslash, comma and equals sign.</summary>
    public static string EscapeValue(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace(",", "\\,", StringComparison.Ordinal).Replace("=", "\\=", StringComparison.Ordinal);

    private static List<string> SplitTerms(string text)
    {
        var terms = new List<string>();
        if (text.Length == 0)
        {
            return terms;
        }

        var start = 0;
        var escaped = false;
        for (var i = 0; i < text.Length; i++)
        {
            if (escaped)
            {
                escaped = false;
            }
            else if (text[i] == '\\')
            {
                escaped = true;
            }
            else if (text[i] == ',')
            {
                terms.Add(text[start..i]);
                start = i + 1;
            }
        }

        terms.Add(text[start..]);
        return terms;
    }

    // The first operator found scanning left to right, "!=" and "==" tried before "=".
    private static bool TrySplitTerm(string term, out string field, out string op, out string value)
    {
        for (var i = 0; i < term.Length; i++)
        {
            foreach (var candidate in (string[])["!=", "==", "="])
            {
                if (term.AsSpan(i).StartsWith(candidate, StringComparison.Ordinal))
                {
                    field = term[..i];
                    op = candidate;
                    value = term[(i + candidate.Length)..];
                    return true;
                }
            }
        }

        field = op = value = "";
        return false;
    }

    private static bool TryUnescapeValue(string text, [NotNullWhen(true)] out string? value, [NotNullWhen(false)] out string? error)
    {
        var result = new StringBuilder(text.Length);
        var escaped = false;
        foreach (var rune in text.EnumerateRunes())
        {
            if (escaped)
            {
                if (rune.Value is '\\' or ',' or '=')
                {
                    result.Append(rune.ToString());
                    escaped = false;
                    continue;
                }

                value = null;
                error = "invalid field selector: invalid escape sequence: \\" + rune;
                return false;
            }

            switch (rune.Value)
            {
                case '\\':
                    escaped = true;
                    break;
                case ',' or '=':
                    // Go prints the rune with %v, that is as its number.
                    value = null;
                    error = string.Create(CultureInfo.InvariantCulture, $"invalid field selector: unescaped character in value: {rune.Value}");
                    return false;
                default:
                    result.Append(rune.ToString());
                    break;
            }
        }

        if (escaped)
        {
            value = null;
            error = "invalid field selector: invalid escape sequence: \\";
            return false;
        }

        value = result.ToString();
        error = null;
        return true;
    }
}
