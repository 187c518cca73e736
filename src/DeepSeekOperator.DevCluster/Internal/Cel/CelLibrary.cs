using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace DeepSeekOperator.DevCluster.Internal.Cel;

/// <summary>
/// One signature of a CEL function. For a receiver-style overload the receiver is the first parameter.
/// <see cref="Invoke"/> gets arguments that are not errors and returns a value or a <see cref="CelError"/>.
/// </summary>
internal sealed record CelOverload(string Function, bool Receiver, IReadOnlyList<CelType> Params, CelType Result, Func<object[], object> Invoke);

/// <summary>
/// The functions of the Kubernetes CEL environment this evaluator supports: the CEL standard library, the strings
/// extension, and Kubernetes' lists, regex and quantity libraries.
/// </summary>
internal static class CelLibrary
{
    public const string NoSuchOverload = "no such overload";

    private const string RegexTimeout = "regular expression evaluation timed out";

    private static readonly CelError IntOverflow = new("integer overflow");
    private static readonly CelError UintOverflow = new("unsigned integer overflow");
    private static readonly Dictionary<string, List<CelOverload>> Table = new(StringComparer.Ordinal);

    static CelLibrary()
    {
        Operators();
        Conversions();
        Strings();
        Times();
        Lists();
        Quantities();
    }

    /// <summary>The names that denote type values: <c>type(x) == int</c>.</summary>
    public static IReadOnlyDictionary<string, CelType> TypeNames { get; } = new Dictionary<string, CelType>(StringComparer.Ordinal)
    {
        ["int"] = CelType.Int,
        ["uint"] = CelType.Uint,
        ["double"] = CelType.Double,
        ["bool"] = CelType.Bool,
        ["string"] = CelType.String,
        ["bytes"] = CelType.Bytes,
        ["null_type"] = CelType.Null,
        ["list"] = CelType.ListOf(CelType.Dyn),
        ["map"] = CelType.MapOf(CelType.Dyn, CelType.Dyn),
        ["type"] = CelType.TypeOf(CelType.Dyn),
    };

    /// <summary>The overloads of <paramref name="function"/>, or null when the environment does not declare it.</summary>
    public static IReadOnlyList<CelOverload>? Overloads(string function) => Table.GetValueOrDefault(function);

    /// <summary>Whether a runtime value can be passed where <paramref name="type"/> is declared.</summary>
    public static bool Accepts(CelType type, object value) => type.Kind switch
    {
        CelKind.Dyn or CelKind.Param => true,
        CelKind.Int => value is long,
        CelKind.Uint => value is ulong,
        CelKind.Double => value is double,
        CelKind.Bool => value is bool,
        CelKind.String => value is string,
        CelKind.Bytes => value is CelBytes,
        CelKind.Null => value is CelNull,
        CelKind.List => value is CelList,
        CelKind.Map or CelKind.Object => value is CelMap,
        CelKind.Duration => value is CelDuration,
        CelKind.Timestamp => value is CelTimestamp,
        CelKind.Quantity => value is CelQuantity,
        CelKind.Type => value is CelTypeValue,
        _ => false,
    };

    private static void Add(string function, bool receiver, CelType[] parameters, CelType result, Func<object[], object> invoke)
    {
        if (!Table.TryGetValue(function, out var list))
        {
            Table[function] = list = [];
        }

        list.Add(new CelOverload(function, receiver, parameters, result, invoke));
    }

    private static void Global(string function, CelType[] parameters, CelType result, Func<object[], object> invoke) =>
        Add(function, false, parameters, result, invoke);

    private static void Member(string function, CelType[] parameters, CelType result, Func<object[], object> invoke) =>
        Add(function, true, parameters, result, invoke);

    private static void Operators()
    {
        CelType i = CelType.Int, u = CelType.Uint, d = CelType.Double, s = CelType.String, b = CelType.Bytes,
            dur = CelType.Duration, ts = CelType.Timestamp, bo = CelType.Bool, la = CelType.ListOf(CelType.A);

        Global("_+_", [i, i], i, a => Checked(() => checked((long)a[0] + (long)a[1]), IntOverflow));
        Global("_+_", [u, u], u, a => Checked(() => checked((ulong)a[0] + (ulong)a[1]), UintOverflow));
        Global("_+_", [d, d], d, a => (double)a[0] + (double)a[1]);
        Global("_+_", [s, s], s, a => (string)a[0] + (string)a[1]);
        Global("_+_", [b, b], b, a => new CelBytes([.. ((CelBytes)a[0]).Value, .. ((CelBytes)a[1]).Value]));
        Global("_+_", [la, la], la, a => new CelList([.. ((CelList)a[0]).Items, .. ((CelList)a[1]).Items]));
        Global("_+_", [dur, dur], dur, a => Checked(() => new CelDuration(checked(((CelDuration)a[0]).Nanoseconds + ((CelDuration)a[1]).Nanoseconds)), IntOverflow));
        Global("_+_", [ts, dur], ts, a => AddTime((CelTimestamp)a[0], ((CelDuration)a[1]).Nanoseconds));
        Global("_+_", [dur, ts], ts, a => AddTime((CelTimestamp)a[1], ((CelDuration)a[0]).Nanoseconds));

        Global("_-_", [i, i], i, a => Checked(() => checked((long)a[0] - (long)a[1]), IntOverflow));
        Global("_-_", [u, u], u, a => Checked(() => checked((ulong)a[0] - (ulong)a[1]), UintOverflow));
        Global("_-_", [d, d], d, a => (double)a[0] - (double)a[1]);
        Global("_-_", [dur, dur], dur, a => Checked(() => new CelDuration(checked(((CelDuration)a[0]).Nanoseconds - ((CelDuration)a[1]).Nanoseconds)), IntOverflow));
        Global("_-_", [ts, ts], dur, a => SubtractTimes((CelTimestamp)a[0], (CelTimestamp)a[1]));
        Global("_-_", [ts, dur], ts, a => ((CelDuration)a[1]).Nanoseconds == long.MinValue ? IntOverflow : AddTime((CelTimestamp)a[0], -((CelDuration)a[1]).Nanoseconds));

        Global("_*_", [i, i], i, a => Checked(() => checked((long)a[0] * (long)a[1]), IntOverflow));
        Global("_*_", [u, u], u, a => Checked(() => checked((ulong)a[0] * (ulong)a[1]), UintOverflow));
        Global("_*_", [d, d], d, a => (double)a[0] * (double)a[1]);

        Global("_/_", [i, i], i, a => (long)a[1] == 0 ? new CelError("division by zero")
            : (long)a[0] == long.MinValue && (long)a[1] == -1 ? IntOverflow : (long)a[0] / (long)a[1]);
        Global("_/_", [u, u], u, a => (ulong)a[1] == 0 ? new CelError("division by zero") : (ulong)a[0] / (ulong)a[1]);
        Global("_/_", [d, d], d, a => (double)a[0] / (double)a[1]);
        Global("_%_", [i, i], i, a => (long)a[1] == 0 ? new CelError("modulus by zero")
            : (long)a[0] == long.MinValue && (long)a[1] == -1 ? IntOverflow : (long)a[0] % (long)a[1]);
        Global("_%_", [u, u], u, a => (ulong)a[1] == 0 ? new CelError("modulus by zero") : (ulong)a[0] % (ulong)a[1]);

        Global("-_", [i], i, a => (long)a[0] == long.MinValue ? IntOverflow : -(long)a[0]);
        Global("-_", [d], d, a => -(double)a[0]);
        Global("!_", [bo], bo, a => !(bool)a[0]);

        Global("_==_", [CelType.A, CelType.A], bo, a => CelValues.Equal(a[0], a[1]));
        Global("_!=_", [CelType.A, CelType.A], bo, a => !CelValues.Equal(a[0], a[1]));

        foreach (var (op, test) in new (string, Func<int, bool>)[]
                 {
                     ("_<_", c => c < 0), ("_<=_", c => c <= 0), ("_>_", c => c > 0), ("_>=_", c => c >= 0),
                 })
        {
            foreach (var t in new[] { i, u, d, s, b, bo, dur, ts })
            {
                Global(op, [t, t], bo, a => Order(a, test));
            }

            foreach (var (x, y) in new[] { (i, u), (i, d), (u, i), (u, d), (d, i), (d, u) })
            {
                Global(op, [x, y], bo, a => Order(a, test));
            }
        }

        Global("_[_]", [la, i], CelType.A, a => Index(a[0], a[1]));
        Global("_[_]", [CelType.MapOf(CelType.A, CelType.B), CelType.A], CelType.B, a => Index(a[0], a[1]));
        Global("@in", [CelType.A, la], bo, a => ((CelList)a[1]).Items.Any(e => CelValues.Equal(e, a[0])));
        Global("@in", [CelType.A, CelType.MapOf(CelType.A, CelType.B)], bo, a => ((CelMap)a[1]).TryGet(a[0], out _));

        foreach (var t in new[] { s, b, la, CelType.MapOf(CelType.A, CelType.B) })
        {
            Global("size", [t], i, a => Size(a[0]));
            Member("size", [t], i, a => Size(a[0]));
        }
    }

    private static void Conversions()
    {
        CelType i = CelType.Int, u = CelType.Uint, d = CelType.Double, s = CelType.String, b = CelType.Bytes,
            dur = CelType.Duration, ts = CelType.Timestamp, bo = CelType.Bool;

        Global("int", [i], i, a => a[0]);
        Global("int", [u], i, a => (ulong)a[0] > long.MaxValue ? IntOverflow : (long)(ulong)a[0]);
        Global("int", [d], i, a => (double)a[0] is var v && (double.IsNaN(v) || v <= long.MinValue || v >= long.MaxValue) ? IntOverflow : (long)v);
        Global("int", [s], i, a => long.TryParse((string)a[0], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) ? v : ConversionError("string", "int"));
        Global("int", [ts], i, a => ((CelTimestamp)a[0]).Seconds);

        Global("uint", [u], u, a => a[0]);
        Global("uint", [i], u, a => (long)a[0] < 0 ? UintOverflow : (ulong)(long)a[0]);
        Global("uint", [d], u, a => (double)a[0] is var v && (double.IsNaN(v) || v < 0 || v >= 18446744073709551616.0) ? UintOverflow : (ulong)v);
        Global("uint", [s], u, a => ulong.TryParse((string)a[0], NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : ConversionError("string", "uint"));

        Global("double", [d], d, a => a[0]);
        Global("double", [i], d, a => (double)(long)a[0]);
        Global("double", [u], d, a => (double)(ulong)a[0]);
        Global("double", [s], d, a => ParseDouble((string)a[0]) is { } v ? v : ConversionError("string", "double"));

        Global("string", [s], s, a => a[0]);
        Global("string", [i], s, a => ((long)a[0]).ToString(CultureInfo.InvariantCulture));
        Global("string", [u], s, a => ((ulong)a[0]).ToString(CultureInfo.InvariantCulture));
        Global("string", [d], s, a => CelValues.FormatDouble((double)a[0]));
        Global("string", [bo], s, a => (bool)a[0] ? "true" : "false");
        Global("string", [b], s, a => Utf8((CelBytes)a[0]));
        Global("string", [dur], s, a => CelValues.FormatDuration((CelDuration)a[0]));
        Global("string", [ts], s, a => CelValues.FormatTimestamp((CelTimestamp)a[0]));

        Global("bool", [bo], bo, a => a[0]);
        Global("bool", [s], bo, a => (string)a[0] switch
        {
            "1" or "t" or "T" or "true" or "TRUE" or "True" => true,
            "0" or "f" or "F" or "false" or "FALSE" or "False" => false,
            _ => ConversionError("string", "bool"),
        });
        Global("bytes", [b], b, a => a[0]);
        Global("bytes", [s], b, a => new CelBytes(Encoding.UTF8.GetBytes((string)a[0])));

        Global("duration", [dur], dur, a => a[0]);
        Global("duration", [s], dur, a => CelTime.ParseDuration((string)a[0]) is { } v ? v : ConversionError("string", "google.protobuf.Duration"));
        Global("timestamp", [ts], ts, a => a[0]);
        Global("timestamp", [s], ts, a => CelTime.ParseTimestamp((string)a[0]) is { } v ? v : ConversionError("string", "google.protobuf.Timestamp"));
        Global("timestamp", [i], ts, a => (long)a[0] is var v && v >= CelTimestamp.MinSeconds && v <= CelTimestamp.MaxSeconds
            ? new CelTimestamp(v, 0)
            : new CelError("timestamp overflow"));

        Global("dyn", [CelType.A], CelType.Dyn, a => a[0]);
        Global("type", [CelType.A], CelType.TypeOf(CelType.A), a => new CelTypeValue(CelValues.TypeName(a[0])));
    }

    private static void Strings()
    {
        CelType i = CelType.Int, s = CelType.String, bo = CelType.Bool, ls = CelType.ListOf(CelType.String);

        Global("matches", [s, s], bo, a => Matches((string)a[0], (string)a[1]));
        Member("matches", [s, s], bo, a => Matches((string)a[0], (string)a[1]));
        Member("startsWith", [s, s], bo, a => ((string)a[0]).StartsWith((string)a[1], StringComparison.Ordinal));
        Member("endsWith", [s, s], bo, a => ((string)a[0]).EndsWith((string)a[1], StringComparison.Ordinal));
        Member("contains", [s, s], bo, a => ((string)a[0]).Contains((string)a[1], StringComparison.Ordinal));

        Member("charAt", [s, i], s, a => CelStrings.CharAt((string)a[0], (long)a[1]));
        Member("indexOf", [s, s], i, a => CelStrings.IndexOf((string)a[0], (string)a[1], 0));
        Member("indexOf", [s, s, i], i, a => CelStrings.IndexOf((string)a[0], (string)a[1], (long)a[2]));
        Member("lastIndexOf", [s, s], i, a => CelStrings.LastIndexOf((string)a[0], (string)a[1], null));
        Member("lastIndexOf", [s, s, i], i, a => CelStrings.LastIndexOf((string)a[0], (string)a[1], (long)a[2]));
        Member("lowerAscii", [s], s, a => CelStrings.MapAscii((string)a[0], char.ToLowerInvariant));
        Member("upperAscii", [s], s, a => CelStrings.MapAscii((string)a[0], char.ToUpperInvariant));
        Member("replace", [s, s, s], s, a => CelStrings.Replace((string)a[0], (string)a[1], (string)a[2], -1));
        Member("replace", [s, s, s, i], s, a => CelStrings.Replace((string)a[0], (string)a[1], (string)a[2], (long)a[3]));
        Member("split", [s, s], ls, a => CelStrings.Split((string)a[0], (string)a[1], -1));
        Member("split", [s, s, i], ls, a => CelStrings.Split((string)a[0], (string)a[1], (long)a[2]));
        Member("substring", [s, i], s, a => CelStrings.Substring((string)a[0], (long)a[1], null));
        Member("substring", [s, i, i], s, a => CelStrings.Substring((string)a[0], (long)a[1], (long)a[2]));
        Member("trim", [s], s, a => CelStrings.Trim((string)a[0]));
        Member("join", [ls], s, a => string.Concat(((CelList)a[0]).Items.Cast<string>()));
        Member("join", [ls, s], s, a => string.Join((string)a[1], ((CelList)a[0]).Items.Cast<string>()));

        Member("find", [s, s], s, a => Find((string)a[0], (string)a[1]));
        Member("findAll", [s, s], ls, a => FindAll((string)a[0], (string)a[1], -1));
        Member("findAll", [s, s, i], ls, a => FindAll((string)a[0], (string)a[1], (long)a[2]));
    }

    private static void Times()
    {
        CelType i = CelType.Int, dur = CelType.Duration, ts = CelType.Timestamp;
        Member("getFullYear", [ts], i, a => (long)((CelTimestamp)a[0]).ToDateTime().Year);
        Member("getMonth", [ts], i, a => (long)((CelTimestamp)a[0]).ToDateTime().Month - 1);
        Member("getDate", [ts], i, a => (long)((CelTimestamp)a[0]).ToDateTime().Day);
        Member("getDayOfMonth", [ts], i, a => (long)((CelTimestamp)a[0]).ToDateTime().Day - 1);
        Member("getDayOfWeek", [ts], i, a => (long)((CelTimestamp)a[0]).ToDateTime().DayOfWeek);
        Member("getDayOfYear", [ts], i, a => (long)((CelTimestamp)a[0]).ToDateTime().DayOfYear - 1);
        Member("getHours", [ts], i, a => (long)((CelTimestamp)a[0]).ToDateTime().Hour);
        Member("getMinutes", [ts], i, a => (long)((CelTimestamp)a[0]).ToDateTime().Minute);
        Member("getSeconds", [ts], i, a => (long)((CelTimestamp)a[0]).ToDateTime().Second);
        Member("getMilliseconds", [ts], i, a => (long)(((CelTimestamp)a[0]).Nanos / 1_000_000));

        Member("getHours", [dur], i, a => ((CelDuration)a[0]).Nanoseconds / 3_600_000_000_000);
        Member("getMinutes", [dur], i, a => ((CelDuration)a[0]).Nanoseconds / 60_000_000_000);
        Member("getSeconds", [dur], i, a => ((CelDuration)a[0]).Nanoseconds / 1_000_000_000);
        Member("getMilliseconds", [dur], i, a => ((CelDuration)a[0]).Nanoseconds / 1_000_000);
    }

    private static void Lists()
    {
        CelType i = CelType.Int, la = CelType.ListOf(CelType.A);
        Member("isSorted", [la], CelType.Bool, a => IsSorted((CelList)a[0]));
        foreach (var t in new[] { CelType.Int, CelType.Uint, CelType.Double, CelType.Duration })
        {
            Member("sum", [CelType.ListOf(t)], t, a => Sum((CelList)a[0], t));
        }

        Member("min", [la], CelType.A, a => Extreme((CelList)a[0], "min", c => c < 0));
        Member("max", [la], CelType.A, a => Extreme((CelList)a[0], "max", c => c > 0));
        Member("indexOf", [la, CelType.A], i, a => IndexOfElement((CelList)a[0], a[1], last: false));
        Member("lastIndexOf", [la, CelType.A], i, a => IndexOfElement((CelList)a[0], a[1], last: true));
    }

    private static void Quantities()
    {
        CelType q = CelType.Quantity, i = CelType.Int, bo = CelType.Bool;
        Global("quantity", [CelType.String], q, a => CelQuantity.Parse((string)a[0], out var error) ?? (object)new CelError(error!));
        Global("isQuantity", [CelType.String], bo, a => CelQuantity.Parse((string)a[0], out _) is not null);
        Member("sign", [q], i, a => ((CelQuantity)a[0]).Sign);
        Member("isInteger", [q], bo, a => ((CelQuantity)a[0]).IsInteger);
        Member("asInteger", [q], i, a => ((CelQuantity)a[0]).AsInteger(out var v) ? v : new CelError("cannot convert value to integer"));
        Member("asApproximateFloat", [q], CelType.Double, a => ((CelQuantity)a[0]).AsApproximateFloat());
        Member("add", [q, q], q, a => ((CelQuantity)a[0]).Add((CelQuantity)a[1]));
        Member("add", [q, i], q, a => ((CelQuantity)a[0]).Add(CelQuantity.FromInteger((long)a[1])));
        Member("sub", [q, q], q, a => ((CelQuantity)a[0]).Subtract((CelQuantity)a[1]));
        Member("sub", [q, i], q, a => ((CelQuantity)a[0]).Subtract(CelQuantity.FromInteger((long)a[1])));
        Member("isGreaterThan", [q, q], bo, a => ((CelQuantity)a[0]).CompareTo((CelQuantity)a[1]) > 0);
        Member("isLessThan", [q, q], bo, a => ((CelQuantity)a[0]).CompareTo((CelQuantity)a[1]) < 0);
        Member("compareTo", [q, q], i, a => (long)((CelQuantity)a[0]).CompareTo((CelQuantity)a[1]));
    }

    private static object Checked(Func<object> operation, CelError overflow)
    {
        try
        {
            return operation();
        }
        catch (OverflowException)
        {
            return overflow;
        }
    }

    private static CelError ConversionError(string from, string to) => new($"type conversion error from '{from}' to '{to}'");

    private static object Order(object[] a, Func<int, bool> test) =>
        CelValues.Compare(a[0], a[1]) is { } c ? test(c) : new CelError(NoSuchOverload);

    private static object Size(object value) => value switch
    {
        string s => (long)CelValues.RuneCount(s),
        CelBytes b => (long)b.Value.Length,
        CelList l => (long)l.Items.Count,
        CelMap m => (long)m.Count,
        _ => new CelError(NoSuchOverload),
    };

    /// <summary>Indexes a list by an int, uint or whole double, or a map by key, with cel-go's errors.</summary>
    public static object Index(object container, object index)
    {
        switch (container)
        {
            case CelList list:
                long? position = index switch
                {
                    long l => l,
                    ulong u when u <= long.MaxValue => (long)u,
                    double d when d == Math.Floor(d) && d >= long.MinValue && d < long.MaxValue => (long)d,
                    _ => null,
                };
                if (position is null)
                {
                    return index is double or ulong
                        ? new CelError($"unsupported index value {Format(index)} in list")
                        : new CelError($"unsupported index type '{CelValues.TypeName(index)}' in list");
                }

                return position < 0 || position >= list.Items.Count
                    ? new CelError($"index '{position}' out of range in list size '{list.Items.Count}'")
                    : list.Items[(int)position];
            case CelMap map:
                return map.TryGet(index, out var value) ? value : new CelError($"no such key: {Format(index)}");
            default:
                return new CelError(NoSuchOverload);
        }
    }

    /// <summary>A value as Go's <c>%v</c> prints it in cel-go's error messages.</summary>
    public static string Format(object value) => value switch
    {
        string s => s,
        long l => l.ToString(CultureInfo.InvariantCulture),
        ulong u => u.ToString(CultureInfo.InvariantCulture),
        double d => CelValues.FormatDouble(d),
        bool b => b ? "true" : "false",
        _ => CelValues.TypeName(value),
    };

    private static object Utf8(CelBytes bytes)
    {
        try
        {
            return new UTF8Encoding(false, true).GetString(bytes.Value);
        }
        catch (ArgumentException)
        {
            return ConversionError("bytes", "string");
        }
    }

    private static double? ParseDouble(string text) =>
        text switch
        {
            "NaN" => double.NaN,
            "Inf" or "+Inf" or "Infinity" or "+Infinity" or "inf" or "+inf" => double.PositiveInfinity,
            "-Inf" or "-Infinity" or "-inf" => double.NegativeInfinity,
            _ => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : null,
        };

    private static object AddTime(CelTimestamp time, long nanoseconds)
    {
        var seconds = time.Seconds + (nanoseconds / 1_000_000_000);
        var nanos = time.Nanos + (nanoseconds % 1_000_000_000);
        if (nanos < 0)
        {
            seconds--;
            nanos += 1_000_000_000;
        }
        else if (nanos >= 1_000_000_000)
        {
            seconds++;
            nanos -= 1_000_000_000;
        }

        return seconds is < CelTimestamp.MinSeconds or > CelTimestamp.MaxSeconds
            ? new CelError("timestamp overflow")
            : new CelTimestamp(seconds, (int)nanos);
    }

    private static object SubtractTimes(CelTimestamp x, CelTimestamp y)
    {
        var nanos = (((Int128)x.Seconds - y.Seconds) * 1_000_000_000) + x.Nanos - y.Nanos;
        return nanos < long.MinValue || nanos > long.MaxValue ? IntOverflow : new CelDuration((long)nanos);
    }

    private static object Matches(string text, string pattern)
    {
        var regex = CelRegex.Get(pattern, out var error);
        if (regex is null)
        {
            return new CelError(error!);
        }

        try
        {
            return regex.IsMatch(text);
        }
        catch (RegexMatchTimeoutException)
        {
            return new CelError(RegexTimeout);
        }
    }

    private static object Find(string text, string pattern)
    {
        var regex = CelRegex.Get(pattern, out var error);
        if (regex is null)
        {
            return new CelError(error!);
        }

        try
        {
            var match = regex.Match(text);
            return match.Success ? match.Value : "";
        }
        catch (RegexMatchTimeoutException)
        {
            return new CelError(RegexTimeout);
        }
    }

    private static object FindAll(string text, string pattern, long limit)
    {
        var regex = CelRegex.Get(pattern, out var error);
        if (regex is null)
        {
            return new CelError(error!);
        }

        if (limit == 0)
        {
            return new CelList([]);
        }

        var found = new List<object>();
        try
        {
            foreach (Match match in regex.Matches(text))
            {
                if (limit > 0 && found.Count >= limit)
                {
                    break;
                }

                found.Add(match.Value);
            }
        }
        catch (RegexMatchTimeoutException)
        {
            return new CelError(RegexTimeout);
        }

        return new CelList(found);
    }

    private static object IsSorted(CelList list)
    {
        for (var k = 1; k < list.Items.Count; k++)
        {
            if (CelValues.Compare(list.Items[k - 1], list.Items[k]) is not { } c)
            {
                return new CelError(NoSuchOverload);
            }

            if (c > 0)
            {
                return false;
            }
        }

        return true;
    }

    private static object Sum(CelList list, CelType elem)
    {
        // Runtime dispatch sees only a list, so the zero follows the elements when there are any.
        object total = (list.Items.Count > 0 ? list.Items[0] : null, elem.Kind) switch
        {
            (ulong, _) or (null, CelKind.Uint) => 0UL,
            (double, _) or (null, CelKind.Double) => 0.0,
            (CelDuration, _) or (null, CelKind.Duration) => new CelDuration(0),
            _ => 0L,
        };
        var add = Table["_+_"];
        foreach (var item in list.Items)
        {
            var overload = add.FirstOrDefault(o => o.Params[0].Kind is not CelKind.List && Accepts(o.Params[0], total) && Accepts(o.Params[1], item));
            total = overload is null ? new CelError(NoSuchOverload) : overload.Invoke([total, item]);
            if (total is CelError)
            {
                return total;
            }
        }

        return total;
    }

    private static object Extreme(CelList list, string name, Func<int, bool> better)
    {
        if (list.Items.Count == 0)
        {
            return new CelError($"{name} called on empty list");
        }

        var best = list.Items[0];
        foreach (var item in list.Items.Skip(1))
        {
            if (CelValues.Compare(item, best) is not { } c)
            {
                return new CelError(NoSuchOverload);
            }

            if (better(c))
            {
                best = item;
            }
        }

        return best;
    }

    private static long IndexOfElement(CelList list, object value, bool last)
    {
        for (var k = 0; k < list.Items.Count; k++)
        {
            var index = last ? list.Items.Count - 1 - k : k;
            if (CelValues.Equal(list.Items[index], value))
            {
                return index;
            }
        }

        return -1;
    }
}
