using System.Globalization;

namespace DeepSeekOperator.Api.Schema;

/// <summary>Parses durations written as Go's <c>time.ParseDuration</c> accepts them (<c>15s</c>, <c>1m30s</c>, <c>1.5h</c>), without a sign.</summary>
public static class GoDuration
{
    private static readonly (string Unit, long Ticks)[] Units =
    [
        ("ns", 0), ("us", 10), ("µs", 10), ("μs", 10), ("ms", TimeSpan.TicksPerMillisecond),
        ("s", TimeSpan.TicksPerSecond), ("m", TimeSpan.TicksPerMinute), ("h", TimeSpan.TicksPerHour),
    ];

    /// <summary>Parses <paramref name="text"/>, or returns false when it is not a duration or does not fit a <see cref="TimeSpan"/>.</summary>
    public static bool TryParse(string? text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }

        decimal ticks = 0;
        var i = 0;
        while (i < text.Length)
        {
            var start = i;
            while (i < text.Length && (char.IsAsciiDigit(text[i]) || text[i] == '.'))
            {
                i++;
            }

            if (!decimal.TryParse(text.AsSpan(start, i - start), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number) ||
                !char.IsAsciiDigit(text[start]) || !char.IsAsciiDigit(text[i - 1]))
            {
                return false;
            }

            var unit = Units.FirstOrDefault(u => text.AsSpan(i).StartsWith(u.Unit, StringComparison.Ordinal) &&
                                                 !(u.Unit == "m" && text.AsSpan(i).StartsWith("ms", StringComparison.Ordinal)));
            if (unit.Unit is null)
            {
                return false;
            }

            i += unit.Unit.Length;
            ticks += unit.Unit == "ns" ? number / 100 : number * unit.Ticks;
            if (ticks > TimeSpan.MaxValue.Ticks)
            {
                return false;
            }
        }

        value = TimeSpan.FromTicks((long)decimal.Round(ticks));
        return true;
    }

    /// <summary>Parses <paramref name="text"/>, throwing <see cref="FormatException"/> with the text when it is not a duration.</summary>
    public static TimeSpan Parse(string text) =>
        TryParse(text, out var value) ? value : throw new FormatException($"\"{text}\" is not a duration such as 15s, 1m30s or 10m");
}
