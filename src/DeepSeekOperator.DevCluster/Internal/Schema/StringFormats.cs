using System.Globalization;
using System.Net;
using System.Net.Mail;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace DeepSeekOperator.DevCluster.Internal.Schema;

/// <summary>
/// The string formats CRD schemas support (apiextensions' <c>supportedVersionedFormats</c>) and their checks, as
/// kube-openapi's <c>strfmt.Default</c> registry does them. Any other format is ignored, as Kubernetes strips it.
/// </summary>
internal static partial class StringFormats
{
    private static readonly Dictionary<string, Func<string, bool>> Checks = new(StringComparer.Ordinal)
    {
        ["bsonobjectid"] = s => s.Length == 24 && s.All(char.IsAsciiHexDigit),
        ["uri"] = IsRequestUri,
        ["email"] = s => MailAddress.TryCreate(s, out var address) && address.Address.Length > 0,
        ["hostname"] = IsHostname,
        ["ipv4"] = IsIPv4,
        ["ipv6"] = s => s.Contains(':', StringComparison.Ordinal) && !s.Contains('%', StringComparison.Ordinal) &&
                        IPAddress.TryParse(s, out var address) && address.AddressFamily == AddressFamily.InterNetworkV6,
        ["cidr"] = IsCidr,
        ["mac"] = s => Mac().IsMatch(s),
        ["uuid"] = s => Uuid().IsMatch(s),
        ["uuid3"] = s => Uuid3().IsMatch(s),
        ["uuid4"] = s => Uuid4().IsMatch(s),
        ["uuid5"] = s => Uuid5().IsMatch(s),
        ["isbn"] = s => IsIsbn10(s) || IsIsbn13(s),
        ["isbn10"] = IsIsbn10,
        ["isbn13"] = IsIsbn13,
        ["creditcard"] = IsCreditCard,
        ["ssn"] = s => s.Length == 11 && Ssn().IsMatch(s),
        ["hexcolor"] = s => HexColor().IsMatch(s),
        ["rgbcolor"] = s => RgbColor().IsMatch(s),
        ["byte"] = s => Base64().IsMatch(s),
        ["password"] = _ => true,
        ["date"] = IsDate,
        ["duration"] = IsDuration,
        ["datetime"] = IsDateTime,
    };

    /// <summary>The format a schema keeps for validation: null when Kubernetes does not support (and so strips) it.</summary>
    public static string? Supported(string? format) =>
        format is not null && Checks.ContainsKey(Normalize(format)) ? format : null;

    /// <summary>Whether a string is valid in a supported format.</summary>
    public static bool IsValid(string format, string value) => !Checks.TryGetValue(Normalize(format), out var check) || check(value);

    private static string Normalize(string format) => format.Replace("-", string.Empty, StringComparison.Ordinal);

    private static bool IsRequestUri(string value) =>
        value.StartsWith('/') ? !value.Any(char.IsControl) : Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme.Length > 0;

    private static bool IsHostname(string value)
    {
        if (value.Length > 255 || !Hostname().IsMatch(value))
        {
            return false;
        }

        return value.Split('.').All(label => label.Length <= 63);
    }

    private static bool IsIPv4(string value)
    {
        if (value.Contains(':', StringComparison.Ordinal))
        {
            return value.Contains('.', StringComparison.Ordinal) && IPAddress.TryParse(value, out _);
        }

        var parts = value.Split('.');
        return parts.Length == 4 && parts.All(p =>
            p.Length is > 0 and <= 3 && p.All(char.IsAsciiDigit) && (p.Length == 1 || p[0] != '0') &&
            int.Parse(p, CultureInfo.InvariantCulture) <= 255);
    }

    private static bool IsCidr(string value)
    {
        var slash = value.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0 || !int.TryParse(value.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var bits))
        {
            return false;
        }

        var address = value[..slash];
        return address.Contains(':', StringComparison.Ordinal)
            ? IPAddress.TryParse(address, out var v6) && v6.AddressFamily == AddressFamily.InterNetworkV6 && bits <= 128
            : IsIPv4(address) && bits <= 32;
    }

    private static bool IsIsbn10(string value)
    {
        var s = value.Replace(" ", string.Empty, StringComparison.Ordinal).Replace("-", string.Empty, StringComparison.Ordinal);
        if (!Isbn10().IsMatch(s))
        {
            return false;
        }

        var sum = 0;
        for (var i = 0; i < 9; i++)
        {
            sum += (i + 1) * (s[i] - '0');
        }

        sum += s[9] == 'X' ? 100 : 10 * (s[9] - '0');
        return sum % 11 == 0;
    }

    private static bool IsIsbn13(string value)
    {
        var s = value.Replace(" ", string.Empty, StringComparison.Ordinal).Replace("-", string.Empty, StringComparison.Ordinal);
        if (!Isbn13().IsMatch(s))
        {
            return false;
        }

        var sum = 0;
        for (var i = 0; i < 12; i++)
        {
            sum += (s[i] - '0') * (i % 2 == 0 ? 1 : 3);
        }

        return (10 - (sum % 10)) % 10 == s[12] - '0';
    }

    private static bool IsCreditCard(string value)
    {
        var digits = new string([.. value.Where(char.IsAsciiDigit)]);
        if (!CreditCard().IsMatch(digits))
        {
            return false;
        }

        var sum = 0;
        var doubled = false;
        for (var i = digits.Length - 1; i >= 0; i--)
        {
            var d = digits[i] - '0';
            if (doubled)
            {
                d *= 2;
                d = d > 9 ? d - 9 : d;
            }

            sum += d;
            doubled = !doubled;
        }

        return sum % 10 == 0;
    }

    private static bool IsDate(string value) =>
        DateTime.TryParseExact(value, "yyyy'-'MM'-'dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _);

    private static bool IsDateTime(string value)
    {
        if (value.Length < 4)
        {
            return false;
        }

        var parts = value.ToLowerInvariant().Split('t');
        if (parts.Length < 2 || !IsDate(parts[0]))
        {
            return false;
        }

        var match = DateTimeTail().Match(parts[1]);
        return match.Success &&
               string.CompareOrdinal(match.Groups[1].Value, "23") <= 0 &&
               string.CompareOrdinal(match.Groups[2].Value, "59") <= 0 &&
               string.CompareOrdinal(match.Groups[3].Value, "59") <= 0;
    }

    private static bool IsDuration(string value)
    {
        if (GoDuration().IsMatch(value))
        {
            return true;
        }

        string[][] units = [["ns", "nano"], ["us", "µs", "micro"], ["ms", "milli"], ["s", "sec"], ["m", "min"], ["h", "hr", "hour"], ["d", "day"], ["w", "wk", "week"]];
        foreach (Match match in LooseDuration().Matches(value))
        {
            var unit = match.Groups[2].Value.Trim().ToLowerInvariant();
            foreach (var variants in units)
            {
                for (var i = 0; i < variants.Length; i++)
                {
                    if ((i == variants.Length - 1 && unit.StartsWith(variants[i], StringComparison.Ordinal)) ||
                        string.Equals(variants[i], unit, StringComparison.OrdinalIgnoreCase))
                    {
                        return true;
                    }
                }
            }
        }

        return false;
    }

    [GeneratedRegex(@"^([a-zA-Z0-9\p{S}\p{L}]((-?[a-zA-Z0-9\p{S}\p{L}]{0,62})?)|([a-zA-Z0-9\p{S}\p{L}](([a-zA-Z0-9\-\p{S}\p{L}]{0,61}[a-zA-Z0-9\p{S}\p{L}])?)(\.)){1,}([a-zA-Z0-9\p{S}\p{L}])(-?[a-zA-Z0-9\p{S}\p{L}]){1,62})\z")]
    private static partial Regex Hostname();

    [GeneratedRegex(@"^([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}\z|^([0-9A-Fa-f]{2}[:-]){7}[0-9A-Fa-f]{2}\z|^([0-9A-Fa-f]{2}[:-]){19}[0-9A-Fa-f]{2}\z|^([0-9A-Fa-f]{4}\.){2}[0-9A-Fa-f]{4}\z|^([0-9A-Fa-f]{4}\.){3}[0-9A-Fa-f]{4}\z|^([0-9A-Fa-f]{4}\.){9}[0-9A-Fa-f]{4}\z")]
    private static partial Regex Mac();

    [GeneratedRegex(@"^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\z", RegexOptions.IgnoreCase)]
    private static partial Regex Uuid();

    [GeneratedRegex(@"^[0-9a-f]{8}-?[0-9a-f]{4}-?3[0-9a-f]{3}-?[0-9a-f]{4}-?[0-9a-f]{12}\z", RegexOptions.IgnoreCase)]
    private static partial Regex Uuid3();

    [GeneratedRegex(@"^[0-9a-f]{8}-?[0-9a-f]{4}-?4[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}\z", RegexOptions.IgnoreCase)]
    private static partial Regex Uuid4();

    [GeneratedRegex(@"^[0-9a-f]{8}-?[0-9a-f]{4}-?5[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}\z", RegexOptions.IgnoreCase)]
    private static partial Regex Uuid5();

    [GeneratedRegex(@"^[0-9]{9}[0-9X]\z")]
    private static partial Regex Isbn10();

    [GeneratedRegex(@"^[0-9]{13}\z")]
    private static partial Regex Isbn13();

    [GeneratedRegex(@"^(?:4[0-9]{12}(?:[0-9]{3})?|5[1-5][0-9]{14}|(222[1-9]|22[3-9][0-9]|2[3-6][0-9]{2}|27[01][0-9]|2720)[0-9]{12}|6(?:011|5[0-9][0-9])[0-9]{12}|3[47][0-9]{13}|3(?:0[0-5]|[68][0-9])[0-9]{11}|(?:2131|1800|35[0-9]{3})[0-9]{11}|6[27][0-9]{14})\z")]
    private static partial Regex CreditCard();

    [GeneratedRegex(@"^[0-9]{3}[- ]?[0-9]{2}[- ]?[0-9]{4}\z")]
    private static partial Regex Ssn();

    [GeneratedRegex(@"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})\z")]
    private static partial Regex HexColor();

    [GeneratedRegex(@"^rgb\(\s*(0|[1-9][0-9]?|1[0-9][0-9]?|2[0-4][0-9]|25[0-5])\s*,\s*(0|[1-9][0-9]?|1[0-9][0-9]?|2[0-4][0-9]|25[0-5])\s*,\s*(0|[1-9][0-9]?|1[0-9][0-9]?|2[0-4][0-9]|25[0-5])\s*\)\z")]
    private static partial Regex RgbColor();

    [GeneratedRegex(@"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})\z")]
    private static partial Regex Base64();

    [GeneratedRegex(@"^([0-9]{2}):([0-9]{2}):([0-9]{2})(.[0-9]+)?(z|([+-][0-9]{2}:[0-9]{2}))\z")]
    private static partial Regex DateTimeTail();

    [GeneratedRegex(@"^[-+]?(0|(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+)\z")]
    private static partial Regex GoDuration();

    [GeneratedRegex(@"([0-9]+)\s*([A-Za-zµ]+)")]
    private static partial Regex LooseDuration();
}
