using System.Globalization;
using System.Text;

namespace DeepSeekOperator.DevCluster.Internal.Cel;

/// <summary>A CEL list value.</summary>
internal sealed record CelList(IReadOnlyList<object> Items);

/// <summary>
/// A CEL map value; schema objects are maps too, flagged <see cref="IsObject"/>, whose field names are CEL-escaped property names.
/// Keys compare as CEL does: <c>1</c>, <c>1u</c> and <c>1.0</c> are the same key.
/// </summary>
internal sealed class CelMap
{
    private readonly Dictionary<object, object> _entries;

    public CelMap(IEnumerable<KeyValuePair<object, object>> entries, bool isObject = false)
    {
        _entries = new Dictionary<object, object>(CelKeyComparer.Instance);
        foreach (var (key, value) in entries)
        {
            _entries[key] = value;
        }

        IsObject = isObject;
    }

    /// <summary>True for a value of an object schema (fields), false for a map (keys).</summary>
    public bool IsObject { get; }

    public int Count => _entries.Count;

    public IEnumerable<object> Keys => _entries.Keys;

    public IEnumerable<KeyValuePair<object, object>> Entries => _entries;

    public bool TryGet(object key, out object value) => _entries.TryGetValue(key, out value!);

    /// <summary>Compares map keys with CEL's heterogeneous numeric equality.</summary>
    private sealed class CelKeyComparer : IEqualityComparer<object>
    {
        public static readonly CelKeyComparer Instance = new();

        public new bool Equals(object? x, object? y) => x is not null && y is not null && CelValues.Equal(x, y);

        public int GetHashCode(object obj) => obj switch
        {
            long l => ((double)l).GetHashCode(),
            ulong u => ((double)u).GetHashCode(),
            double d => d.GetHashCode(),
            _ => obj.GetHashCode(),
        };
    }
}

/// <summary>A CEL <c>google.protobuf.Duration</c>, in nanoseconds as cel-go holds it.</summary>
internal readonly record struct CelDuration(long Nanoseconds);

/// <summary>A CEL <c>google.protobuf.Timestamp</c>: seconds since the Unix epoch and nanoseconds, from year 1 to 9999.</summary>
internal readonly record struct CelTimestamp(long Seconds, int Nanos)
{
    public const long MinSeconds = -62135596800;
    public const long MaxSeconds = 253402300799;

    public DateTime ToDateTime() => DateTime.UnixEpoch.AddSeconds(Seconds).AddTicks(Nanos / 100);
}

/// <summary>A CEL type value, as <c>type(x)</c> returns and the identifiers <c>int</c>, <c>string</c>, … denote.</summary>
internal sealed record CelTypeValue(string Name);

/// <summary>A CEL evaluation error value; it propagates through most operations, and <c>&amp;&amp;</c>/<c>||</c> may absorb it.</summary>
internal sealed record CelError(string Message);

/// <summary>Equality, ordering, type names and string forms of CEL values.</summary>
internal static class CelValues
{
    /// <summary>The name of the type of <paramref name="value"/>, as <c>type()</c> gives it.</summary>
    public static string TypeName(object value) => value switch
    {
        long => "int",
        ulong => "uint",
        double => "double",
        bool => "bool",
        string => "string",
        CelBytes => "bytes",
        CelNull => "null_type",
        CelList => "list",
        CelMap { IsObject: true } => "object",
        CelMap => "map",
        CelDuration => "google.protobuf.Duration",
        CelTimestamp => "google.protobuf.Timestamp",
        CelQuantity => "kubernetes.Quantity",
        CelTypeValue => "type",
        _ => "error",
    };

    /// <summary>CEL equality: numbers compare across int, uint and double; values of different types are unequal.</summary>
    public static bool Equal(object a, object b)
    {
        switch (a)
        {
            case long or ulong or double when b is long or ulong or double:
                return CompareNumbers(a, b) is 0 && !(a is double da && double.IsNaN(da)) && !(b is double db && double.IsNaN(db));
            case CelList la when b is CelList lb:
                if (la.Items.Count != lb.Items.Count)
                {
                    return false;
                }

                for (var i = 0; i < la.Items.Count; i++)
                {
                    if (!Equal(la.Items[i], lb.Items[i]))
                    {
                        return false;
                    }
                }

                return true;
            case CelMap ma when b is CelMap mb:
                if (ma.Count != mb.Count)
                {
                    return false;
                }

                foreach (var (key, value) in ma.Entries)
                {
                    if (!mb.TryGet(key, out var other) || !Equal(value, other))
                    {
                        return false;
                    }
                }

                return true;
            case CelQuantity qa when b is CelQuantity qb:
                return qa.CompareTo(qb) == 0;
            default:
                return a.GetType() == b.GetType() && a.Equals(b);
        }
    }

    /// <summary>Orders two values of comparable types (numbers across types, strings by code point); null when CEL defines no order.</summary>
    public static int? Compare(object a, object b) => (a, b) switch
    {
        (long or ulong or double, long or ulong or double) => CompareNumbers(a, b),
        (string x, string y) => CompareStrings(x, y),
        (bool x, bool y) => x.CompareTo(y),
        (CelBytes x, CelBytes y) => x.Value.AsSpan().SequenceCompareTo(y.Value),
        (CelDuration x, CelDuration y) => x.Nanoseconds.CompareTo(y.Nanoseconds),
        (CelTimestamp x, CelTimestamp y) => x.Seconds != y.Seconds ? x.Seconds.CompareTo(y.Seconds) : x.Nanos.CompareTo(y.Nanos),
        _ => null,
    };

    private static int CompareNumbers(object a, object b)
    {
        switch (a, b)
        {
            case (long x, long y):
                return x.CompareTo(y);
            case (ulong x, ulong y):
                return x.CompareTo(y);
            case (long x, ulong y):
                return x < 0 ? -1 : ((ulong)x).CompareTo(y);
            case (ulong x, long y):
                return y < 0 ? 1 : x.CompareTo((ulong)y);
            default:
                var dx = ToDouble(a);
                var dy = ToDouble(b);
                return dx < dy ? -1 : dx > dy ? 1 : 0;
        }
    }

    private static double ToDouble(object number) => number switch
    {
        long l => l,
        ulong u => u,
        _ => (double)number,
    };

    /// <summary>Compares strings by Unicode code point, as Go compares UTF-8 strings.</summary>
    public static int CompareStrings(string x, string y)
    {
        var ex = x.EnumerateRunes();
        var ey = y.EnumerateRunes();
        while (true)
        {
            var hx = ex.MoveNext();
            var hy = ey.MoveNext();
            if (!hx || !hy)
            {
                return hx ? 1 : hy ? -1 : 0;
            }

            var c = ex.Current.Value.CompareTo(ey.Current.Value);
            if (c != 0)
            {
                return c;
            }
        }
    }

    /// <summary>The number of code points of a string, which CEL's <c>size</c> and string indexes count.</summary>
    public static int RuneCount(string s)
    {
        var n = 0;
        foreach (var _ in s.EnumerateRunes())
        {
            n++;
        }

        return n;
    }

    /// <summary>A double as Go's <c>strconv.FormatFloat(d, 'g', -1, 64)</c> writes it (<c>1e+06</c>, <c>0.5</c>, <c>123456</c>).</summary>
    public static string FormatDouble(double d)
    {
        if (double.IsNaN(d))
        {
            return "NaN";
        }

        if (double.IsInfinity(d))
        {
            return d > 0 ? "+Inf" : "-Inf";
        }

        if (d == 0)
        {
            return double.IsNegative(d) ? "-0" : "0";
        }

        // The shortest round-trip digits and the decimal exponent, from .NET's exponent form.
        var shortest = Math.Abs(d).ToString("R", CultureInfo.InvariantCulture);
        var digits = new StringBuilder();
        var ePos = shortest.IndexOf('E', StringComparison.Ordinal);
        var mantissa = ePos >= 0 ? shortest[..ePos] : shortest;
        var dot = mantissa.IndexOf('.', StringComparison.Ordinal);
        var intPart = dot >= 0 ? mantissa[..dot] : mantissa;
        var fracPart = dot >= 0 ? mantissa[(dot + 1)..] : "";
        var all = (intPart + fracPart).TrimStart('0');
        var leadingZeros = (intPart + fracPart).Length - all.Length;
        var exponent = intPart.Length - 1 - leadingZeros + (ePos >= 0 ? int.Parse(shortest[(ePos + 1)..], CultureInfo.InvariantCulture) : 0);
        digits.Append(all.TrimEnd('0'));
        var ds = digits.ToString();
        var sign = d < 0 ? "-" : "";
        if (exponent < -4 || exponent >= 6)
        {
            var m = ds.Length > 1 ? ds[0] + "." + ds[1..] : ds;
            return string.Create(CultureInfo.InvariantCulture, $"{sign}{m}e{(exponent < 0 ? '-' : '+')}{Math.Abs(exponent):00}");
        }

        if (exponent < 0)
        {
            return sign + "0." + new string('0', -exponent - 1) + ds;
        }

        return ds.Length <= exponent + 1
            ? sign + ds + new string('0', exponent + 1 - ds.Length)
            : sign + ds[..(exponent + 1)] + "." + ds[(exponent + 1)..];
    }

    /// <summary>A duration as cel-go's <c>string()</c> writes it: seconds with the needed fraction and an <c>s</c>.</summary>
    public static string FormatDuration(CelDuration d)
    {
        var seconds = d.Nanoseconds / 1_000_000_000;
        var nanos = Math.Abs(d.Nanoseconds % 1_000_000_000);
        var sign = d.Nanoseconds < 0 && seconds == 0 ? "-" : "";
        return nanos == 0
            ? string.Create(CultureInfo.InvariantCulture, $"{sign}{seconds}s")
            : string.Create(CultureInfo.InvariantCulture, $"{sign}{seconds}.{nanos.ToString("000000000", CultureInfo.InvariantCulture).TrimEnd('0')}s");
    }

    /// <summary>A timestamp in RFC 3339 with as many fraction digits as needed, in UTC (<c>2024-01-02T03:04:05.5Z</c>).</summary>
    public static string FormatTimestamp(CelTimestamp t)
    {
        var text = t.ToDateTime().ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture);
        return t.Nanos == 0 ? text + "Z" : text + "." + t.Nanos.ToString("000000000", CultureInfo.InvariantCulture).TrimEnd('0') + "Z";
    }
}
