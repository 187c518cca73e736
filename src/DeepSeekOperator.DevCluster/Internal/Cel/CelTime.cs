using System.Globalization;
using System.Text.RegularExpressions;

namespace DeepSeekOperator.DevCluster.Internal.Cel;

/// <summary>Parses durations and timestamps the way cel-go (Go's <c>time</c> package) and Kubernetes' schema formats do.</summary>
internal static partial class CelTime
{
    private static readonly (string Unit, long Nanos)[] GoUnits =
    [
        ("ns", 1), ("us", 1_000), ("\u00b5s", 1_000), ("\u03bcs", 1_000), ("ms", 1_000_000), ("s", 1_000_000_000),
        ("m", 60_000_000_000), ("h", 3_600_000_000_000),
    ];

    private static readonly (string[] Names, long Nanos)[] OpenApiUnits =
    [
        (["ns", "nano"], 1), (["us", "\u00b5s", "micro"], 1_000), (["ms", "milli"], 1_000_000), (["s", "sec"], 1_000_000_000),
        (["m", "min"], 60_000_000_000), (["h", "hr", "hour"], 3_600_000_000_000), (["d", "day"], 86_400_000_000_000),
        (["w", "wk", "week"], 604_800_000_000_000),
    ];

    /// <summary>A duration in Go's <c>time.ParseDuration</c> syntax (<c>1h30m</c>, <c>1.5s</c>, <c>-300ms</c>), or null.</summary>
    public static CelDuration? ParseDuration(string text)
    {
        var s = text.AsSpan();
        var negative = false;
        if (s.Length > 0 && s[0] is '+' or '-')
        {
            negative = s[0] == '-';
            s = s[1..];
        }

        if (s.SequenceEqual("0"))
        {
            return new CelDuration(0);
        }

        if (s.IsEmpty)
        {
            return null;
        }

        Int128 total = 0;
        while (!s.IsEmpty)
        {
            var i = 0;
            Int128 whole = 0;
            while (i < s.Length && char.IsAsciiDigit(s[i]))
            {
                whole = (whole * 10) + (s[i] - '0');
                if (whole > long.MaxValue)
                {
                    return null;
                }

                i++;
            }

            var digits = i;
            Int128 fraction = 0;
            Int128 scale = 1;
            if (i < s.Length && s[i] == '.')
            {
                i++;
                while (i < s.Length && char.IsAsciiDigit(s[i]))
                {
                    if (scale < Int128.Parse("1000000000000000000000", CultureInfo.InvariantCulture))
                    {
                        fraction = (fraction * 10) + (s[i] - '0');
                        scale *= 10;
                    }

                    digits++;
                    i++;
                }
            }

            if (digits == 0)
            {
                return null;
            }

            var unitStart = i;
            while (i < s.Length && s[i] != '.' && !char.IsAsciiDigit(s[i]))
            {
                i++;
            }

            var unit = s[unitStart..i].ToString();
            var match = Array.Find(GoUnits, u => u.Unit == unit);
            if (match.Unit is null)
            {
                return null;
            }

            total += (whole * match.Nanos) + (fraction * match.Nanos / scale);
            if (total > (Int128)long.MaxValue + (negative ? 1 : 0))
            {
                return null;
            }

            s = s[i..];
        }

        return new CelDuration((long)(negative ? -total : total));
    }

    /// <summary>
    /// A duration as go-openapi's <c>strfmt.ParseDuration</c> reads the <c>duration</c> format: Go syntax, or
    /// number-and-unit pairs such as <c>3d</c>, <c>2 weeks</c>; null with its error when it cannot.
    /// </summary>
    public static CelDuration? ParseSchemaDuration(string text, out string? error)
    {
        error = null;
        if (ParseDuration(text) is { } go)
        {
            return go;
        }

        long total = 0;
        var found = false;
        foreach (Match match in DurationPair().Matches(text))
        {
            if (!long.TryParse(match.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var factor))
            {
                error = $"strconv.Atoi: parsing \"{match.Groups[1].Value}\": value out of range";
                return null;
            }

            var unit = match.Groups[2].Value.Trim().ToLowerInvariant();
            foreach (var (names, nanos) in OpenApiUnits)
            {
                if (names.Contains(unit) || names.Skip(1).Any(n => unit == n + "s"))
                {
                    found = true;
                    total = unchecked(total + (factor * nanos));
                    break;
                }
            }
        }

        if (!found)
        {
            error = $"unable to parse {text} as duration";
            return null;
        }

        return new CelDuration(total);
    }

    /// <summary>An RFC 3339 timestamp as Go's <c>time.Parse(time.RFC3339, …)</c> reads it, or null.</summary>
    public static CelTimestamp? ParseTimestamp(string text)
    {
        var match = Rfc3339().Match(text);
        if (!match.Success)
        {
            return null;
        }

        var g = match.Groups;
        int Part(int index) => int.Parse(g[index].Value, CultureInfo.InvariantCulture);
        if (Part(2) is < 1 or > 12 || Part(3) < 1 || Part(3) > DateTime.DaysInMonth(Math.Max(1, Part(1)), Part(2)) ||
            Part(4) > 23 || Part(5) > 59 || Part(6) > 59 || Part(1) == 0)
        {
            return null;
        }

        var utc = new DateTime(Part(1), Part(2), Part(3), Part(4), Part(5), Part(6), DateTimeKind.Utc);
        var seconds = (long)(utc - DateTime.UnixEpoch).TotalSeconds;
        var nanos = g[7].Success ? int.Parse(g[7].Value[1..].PadRight(9, '0')[..9], CultureInfo.InvariantCulture) : 0;
        if (g[8].Value is not ("Z" or "z" or ""))
        {
            var sign = g[8].Value[0] == '-' ? -1 : 1;
            var offset = (int.Parse(g[8].Value[1..3], CultureInfo.InvariantCulture) * 3600) + (int.Parse(g[8].Value[4..6], CultureInfo.InvariantCulture) * 60);
            seconds -= sign * offset;
        }

        return seconds is < CelTimestamp.MinSeconds or > CelTimestamp.MaxSeconds ? null : new CelTimestamp(seconds, nanos);
    }

    /// <summary>A <c>date</c>-format value (<c>2006-01-02</c>) as the timestamp of its midnight in UTC, or null.</summary>
    public static CelTimestamp? ParseDate(string text) =>
        DateTime.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var date)
            ? new CelTimestamp((long)(date - DateTime.UnixEpoch).TotalSeconds, 0)
            : null;

    [GeneratedRegex(@"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$", RegexOptions.CultureInvariant)]
    private static partial Regex Rfc3339();

    [GeneratedRegex(@"(\d+)\s*([A-Za-z\u00b5]+)", RegexOptions.CultureInvariant)]
    private static partial Regex DurationPair();
}
