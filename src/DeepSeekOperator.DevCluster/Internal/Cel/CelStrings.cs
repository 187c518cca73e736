using System.Text;

namespace DeepSeekOperator.DevCluster.Internal.Cel;

/// <summary>The string extension functions of cel-go (<c>ext.Strings</c>), indexing by code point as cel-go does.</summary>
internal static class CelStrings
{
    public static object CharAt(string s, long index)
    {
        var runes = Runes(s);
        if (index < 0 || index > runes.Length)
        {
            return new CelError($"index out of range: {index}");
        }

        return index == runes.Length ? "" : runes[index].ToString();
    }

    public static object IndexOf(string s, string sub, long offset)
    {
        var runes = Runes(s);
        var target = Runes(sub);
        if (offset < 0 || offset > runes.Length)
        {
            return new CelError($"index out of range: {offset}");
        }

        for (var i = (int)offset; i + target.Length <= runes.Length; i++)
        {
            if (runes.AsSpan(i, target.Length).SequenceEqual(target))
            {
                return (long)i;
            }
        }

        return -1L;
    }

    public static object LastIndexOf(string s, string sub, long? offset)
    {
        var runes = Runes(s);
        var target = Runes(sub);
        var start = offset ?? runes.Length;
        if (start < 0 || start > runes.Length)
        {
            return new CelError($"index out of range: {start}");
        }

        if (target.Length == 0)
        {
            return start;
        }

        for (var i = (int)Math.Min(start, runes.Length - target.Length); i >= 0; i--)
        {
            if (runes.AsSpan(i, target.Length).SequenceEqual(target))
            {
                return (long)i;
            }
        }

        return -1L;
    }

    public static string MapAscii(string s, Func<char, char> map)
    {
        var result = new StringBuilder(s.Length);
        foreach (var c in s)
        {
            result.Append(c < 128 ? map(c) : c);
        }

        return result.ToString();
    }

    /// <summary>Go's <c>strings.Replace</c>: at most <paramref name="count"/> replacements, all when negative.</summary>
    public static string Replace(string s, string old, string replacement, long count)
    {
        if (count < 0)
        {
            return old.Length == 0 ? ReplaceEmpty(s, replacement, long.MaxValue) : s.Replace(old, replacement, StringComparison.Ordinal);
        }

        if (old.Length == 0)
        {
            return ReplaceEmpty(s, replacement, count);
        }

        var result = new StringBuilder();
        var at = 0;
        for (var n = 0; n < count; n++)
        {
            var found = s.IndexOf(old, at, StringComparison.Ordinal);
            if (found < 0)
            {
                break;
            }

            result.Append(s, at, found - at).Append(replacement);
            at = found + old.Length;
        }

        return result.Append(s, at, s.Length - at).ToString();
    }

    private static string ReplaceEmpty(string s, string replacement, long count)
    {
        // An empty old string matches before every code point and at the end.
        var result = new StringBuilder();
        long n = 0;
        foreach (var rune in s.EnumerateRunes())
        {
            if (n++ < count)
            {
                result.Append(replacement);
            }

            result.Append(rune.ToString());
        }

        if (n < count)
        {
            result.Append(replacement);
        }

        return result.ToString();
    }

    /// <summary>Go's <c>strings.SplitN</c>: at most <paramref name="limit"/> parts, all when negative, none when zero.</summary>
    public static CelList Split(string s, string separator, long limit)
    {
        if (limit == 0)
        {
            return new CelList([]);
        }

        if (separator.Length == 0)
        {
            var runes = Runes(s).Select(r => (object)r.ToString()).ToList();
            if (limit > 0 && runes.Count > limit)
            {
                var head = runes.Take((int)limit - 1).ToList();
                head.Add(string.Concat(runes.Skip((int)limit - 1)));
                return new CelList(head);
            }

            return new CelList(runes);
        }

        var parts = limit < 0 ? s.Split(separator) : s.Split(separator, (int)Math.Min(limit, int.MaxValue));
        return new CelList([.. parts]);
    }

    public static object Substring(string s, long start, long? end)
    {
        var runes = Runes(s);
        var stop = end ?? runes.Length;
        if (start < 0 || start > runes.Length)
        {
            return new CelError($"index out of range: {start}");
        }

        if (stop < 0 || stop > runes.Length)
        {
            return new CelError($"index out of range: {stop}");
        }

        if (start > stop)
        {
            return new CelError($"invalid substring range. start: {start}, end: {stop}");
        }

        return string.Concat(runes[(int)start..(int)stop].Select(r => r.ToString()));
    }

    /// <summary>Go's <c>strings.TrimSpace</c>: Unicode white space at both ends.</summary>
    public static string Trim(string s) => s.Trim(['\t', '\n', '\v', '\f', '\r', ' ', '\u0085', '\u00a0', '\u1680', '\u2000', '\u2001', '\u2002', '\u2003', '\u2004', '\u2005', '\u2006', '\u2007', '\u2008', '\u2009', '\u200a', '\u2028', '\u2029', '\u202f', '\u205f', '\u3000']);

    private static Rune[] Runes(string s) => [.. s.EnumerateRunes()];
}
