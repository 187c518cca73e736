namespace DeepSeekOperator.DevCluster.Internal;

/// <summary>
/// The name checks of apimachinery's <c>util/validation</c> (<c>IsQualifiedName</c>, <c>IsValidLabelValue</c>,
/// <c>IsDNS1123Subdomain</c>, <c>IsDNS1123Label</c>, <c>IsDNS1035Label</c>) and <c>path.IsValidPathSegmentName</c>, with the messages a 1.32
/// kube-apiserver gives.
/// </summary>
internal static class NameValidation
{
    private const string QualifiedNameFormat = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
    private const string QualifiedNameMessage =
        "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
    private const string LabelValueFormat = "(" + QualifiedNameFormat + ")?";
    private const string LabelValueMessage =
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
    private const string Dns1123SubdomainFormat = "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
    private const string Dns1123SubdomainMessage =
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
    private const string Dns1123LabelFormat = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
    private const string Dns1123LabelMessage =
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
    private const string Dns1035LabelFormat = "[a-z]([-a-z0-9]*[a-z0-9])?";
    private const string Dns1035LabelMessage =
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
    private const int QualifiedNameMaxLength = 63;
    private const int LabelValueMaxLength = 63;
    private const int Dns1123SubdomainMaxLength = 253;
    private const int Dns1035LabelMaxLength = 63;
    private static readonly string[] PathSegmentMayNotContain = ["/", "%"];

    /// <summary>The problems with a label key (<c>[prefix/]name</c>); empty when it is valid.</summary>
    public static IReadOnlyList<string> IsQualifiedName(string value)
    {
        var errors = new List<string>();
        var parts = value.Split('/');
        string name;
        switch (parts.Length)
        {
            case 1:
                name = parts[0];
                break;
            case 2:
                var prefix = parts[0];
                name = parts[1];
                if (prefix.Length == 0)
                {
                    errors.Add("prefix part must be non-empty");
                }
                else
                {
                    errors.AddRange(IsDns1123Subdomain(prefix).Select(message => "prefix part " + message));
                }

                break;
            default:
                errors.Add("a qualified name " + RegexError(QualifiedNameMessage, QualifiedNameFormat, "MyName", "my.name", "123-abc")
                    + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')");
                return errors;
        }

        if (name.Length == 0)
        {
            errors.Add("name part must be non-empty");
        }
        else if (Utf8Length(name) > QualifiedNameMaxLength)
        {
            errors.Add("name part " + MaxLengthError(QualifiedNameMaxLength));
        }

        if (!IsQualifiedNamePart(name))
        {
            errors.Add("name part " + RegexError(QualifiedNameMessage, QualifiedNameFormat, "MyName", "my.name", "123-abc"));
        }

        return errors;
    }

    /// <summary>The problems with a label value; empty when it is valid (the empty string is).</summary>
    public static IReadOnlyList<string> IsValidLabelValue(string value)
    {
        var errors = new List<string>();
        if (Utf8Length(value) > LabelValueMaxLength)
        {
            errors.Add(MaxLengthError(LabelValueMaxLength));
        }

        if (value.Length > 0 && !IsQualifiedNamePart(value))
        {
            errors.Add(RegexError(LabelValueMessage, LabelValueFormat, "MyValue", "my_value", "12345"));
        }

        return errors;
    }

    /// <summary>The problems with a DNS-1123 subdomain (an object name, a label key prefix); empty when it is valid.</summary>
    public static IReadOnlyList<string> IsDns1123Subdomain(string value)
    {
        var errors = new List<string>();
        if (Utf8Length(value) > Dns1123SubdomainMaxLength)
        {
            errors.Add(MaxLengthError(Dns1123SubdomainMaxLength));
        }

        if (!value.Split('.').All(IsDns1123Label))
        {
            errors.Add(RegexError(Dns1123SubdomainMessage, Dns1123SubdomainFormat, "example.com"));
        }

        return errors;
    }

    /// <summary>The problems with a DNS-1123 label (namespace names, container names); empty when it is valid.</summary>
    public static IReadOnlyList<string> IsDns1123LabelName(string value)
    {
        var errors = new List<string>();
        if (Utf8Length(value) > Dns1035LabelMaxLength)
        {
            errors.Add(MaxLengthError(Dns1035LabelMaxLength));
        }

        if (!IsDns1123Label(value))
        {
            errors.Add(RegexError(Dns1123LabelMessage, Dns1123LabelFormat, "my-name", "123-abc"));
        }

        return errors;
    }

    /// <summary>The problems with a DNS-1035 label; empty when it is valid.</summary>
    public static IReadOnlyList<string> IsDns1035Label(string value)
    {
        var errors = new List<string>();
        if (Utf8Length(value) > Dns1035LabelMaxLength)
        {
            errors.Add(MaxLengthError(Dns1035LabelMaxLength));
        }

        if (!IsDns1123Label(value) || !char.IsAsciiLetterLower(value[0]))
        {
            errors.Add(RegexError(Dns1035LabelMessage, Dns1035LabelFormat, "my-name", "abc-123"));
        }

        return errors;
    }

    /// <summary>The problems with a name that becomes a segment of a URL path; empty when it is valid.</summary>
    public static IReadOnlyList<string> IsValidPathSegmentName(string name) =>
        name is "." or ".."
            ? [$"may not be '{name}'"]
            : [.. PathSegmentMayNotContain.Where(illegal => name.Contains(illegal, StringComparison.Ordinal)).Select(illegal => $"may not contain '{illegal}'")];

    private static bool IsQualifiedNamePart(string name) =>
        name.Length > 0
        && char.IsAsciiLetterOrDigit(name[0])
        && char.IsAsciiLetterOrDigit(name[^1])
        && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    private static bool IsDns1123Label(string label) =>
        label.Length > 0
        && IsLowerAlphanumeric(label[0])
        && IsLowerAlphanumeric(label[^1])
        && label.All(c => IsLowerAlphanumeric(c) || c == '-');

    private static bool IsLowerAlphanumeric(char c) => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c);

    // Go measures strings in bytes.
    private static int Utf8Length(string value) => System.Text.Encoding.UTF8.GetByteCount(value);

    private static string MaxLengthError(int length) => $"must be no more than {length} characters";

    private static string RegexError(string message, string format, params string[] examples) =>
        message + " (e.g. " + string.Join(" or ", examples.Select(example => "'" + example + "', ")) + "regex used for validation is '" + format + "')";
}
