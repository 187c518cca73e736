namespace DeepSeekOperator.DevCluster.Internal.Query;

/// <summary>Ages as kubectl shows them: apimachinery's <c>duration.HumanDuration</c> and the printers' <c>translateTimestampSince</c>.</summary>
internal static class HumanDuration
{
    /// <summary>
    /// <c>HumanDuration</c>: seconds below two minutes (<c>90s</c>), minutes and seconds below ten minutes (<c>3m4s</c>),
    /// minutes below three hours, hours and minutes below eight hours, then hours, days and hours, days, years and days,
    /// years; <c>&lt;invalid&gt;</c> when more than a second in the future.
    /// </summary>
    public static string Format(TimeSpan duration)
    {
        var seconds = (long)duration.TotalSeconds;
        if (seconds < -1)
        {
            return "<invalid>";
        }

        if (seconds < 0)
        {
            return "0s";
        }

        if (seconds < 60 * 2)
        {
            return $"{seconds}s";
        }

        var minutes = (long)duration.TotalMinutes;
        if (minutes < 10)
        {
            var s = seconds % 60;
            return s == 0 ? $"{minutes}m" : $"{minutes}m{s}s";
        }

        if (minutes < 60 * 3)
        {
            return $"{minutes}m";
        }

        var hours = (long)duration.TotalHours;
        if (hours < 8)
        {
            var m = minutes % 60;
            return m == 0 ? $"{hours}h" : $"{hours}h{m}m";
        }

        if (hours < 48)
        {
            return $"{hours}h";
        }

        if (hours < 24 * 8)
        {
            var h = hours % 24;
            return h == 0 ? $"{hours / 24}d" : $"{hours / 24}d{h}h";
        }

        if (hours < 24 * 365 * 2)
        {
            return $"{hours / 24}d";
        }

        if (hours < 24 * 365 * 8)
        {
            var days = hours / 24 % 365;
            return days == 0 ? $"{hours / 24 / 365}y" : $"{hours / 24 / 365}y{days}d";
        }

        return $"{hours / 24 / 365}y";
    }

    /// <summary><c>translateTimestampSince</c>: the age of a timestamp at <paramref name="now"/>, <c>&lt;unknown&gt;</c> for the zero time.</summary>
    public static string Since(DateTimeOffset? timestamp, DateTimeOffset now) => timestamp is { } t ? Format(now - t) : "<unknown>";
}
