using System.Globalization;
using System.Numerics;

namespace DeepSeekOperator.DevCluster.Internal.Cel;

/// <summary>
/// A Kubernetes <c>resource.Quantity</c> as the CEL quantity library sees it: an exact value held in nano units
/// (Kubernetes rounds anything finer than 1n away from zero when it parses).
/// </summary>
internal sealed class CelQuantity : IComparable<CelQuantity>
{
    /// <summary>The message of <c>resource.ErrFormatWrong</c>.</summary>
    public const string FormatWrong = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

    private const string NumericWrong = "unable to parse numeric part of quantity";
    private const string SuffixWrong = "unable to parse quantity's suffix";
    private static readonly BigInteger NanosPerUnit = 1_000_000_000;

    private CelQuantity(BigInteger nanos) => Nanos = nanos;

    /// <summary>The value times 10⁹.</summary>
    public BigInteger Nanos { get; }

    /// <summary>Parses a quantity as <c>resource.ParseQuantity</c> does; null with the Kubernetes error message when it cannot.</summary>
    public static CelQuantity? Parse(string text, out string? error)
    {
        error = null;
        if (text.Length == 0)
        {
            error = FormatWrong;
            return null;
        }

        var i = 0;
        var negative = false;
        if (text[i] is '+' or '-')
        {
            negative = text[i] == '-';
            i++;
        }

        var numberStart = i;
        while (i < text.Length && (char.IsAsciiDigit(text[i]) || text[i] == '.'))
        {
            i++;
        }

        var number = text[numberStart..i];
        var suffix = text[i..];
        if (number.Length == 0 || !IsSuffixShaped(suffix))
        {
            error = FormatWrong;
            return null;
        }

        var dot = number.IndexOf('.', StringComparison.Ordinal);
        if (number.Count(c => c == '.') > 1 || number == ".")
        {
            error = NumericWrong;
            return null;
        }

        var digits = dot >= 0 ? number.Remove(dot, 1) : number;
        var fraction = dot >= 0 ? number.Length - dot - 1 : 0;
        var mantissa = BigInteger.Parse("0" + digits, CultureInfo.InvariantCulture);

        if (!ParseSuffix(suffix, out var binaryPower, out var decimalExponent))
        {
            error = SuffixWrong;
            return null;
        }

        // value = mantissa × 10^(decimalExponent − fraction) × 2^binaryPower, in nanos: × 10^9.
        var exponent = decimalExponent - fraction + 9;
        var numerator = mantissa * BigInteger.Pow(2, binaryPower);
        BigInteger nanos;
        if (exponent >= 0)
        {
            nanos = numerator * BigInteger.Pow(10, exponent);
        }
        else
        {
            var divisor = BigInteger.Pow(10, -exponent);
            nanos = BigInteger.DivRem(numerator, divisor, out var remainder);
            if (!remainder.IsZero)
            {
                nanos += 1;
            }
        }

        return new CelQuantity(negative ? -nanos : nanos);
    }

    private static bool IsSuffixShaped(string suffix)
    {
        var i = 0;
        while (i < suffix.Length && "eEinumkKMGTP".Contains(suffix[i], StringComparison.Ordinal))
        {
            i++;
        }

        if (i < suffix.Length && suffix[i] is '+' or '-')
        {
            i++;
        }

        while (i < suffix.Length && char.IsAsciiDigit(suffix[i]))
        {
            i++;
        }

        return i == suffix.Length;
    }

    private static bool ParseSuffix(string suffix, out int binaryPower, out int decimalExponent)
    {
        binaryPower = 0;
        decimalExponent = 0;
        switch (suffix)
        {
            case "":
                return true;
            case "Ki" or "Mi" or "Gi" or "Ti" or "Pi" or "Ei":
                binaryPower = 10 * ("KMGTPE".IndexOf(suffix[0], StringComparison.Ordinal) + 1);
                return true;
            case "n" or "u" or "m" or "k" or "M" or "G" or "T" or "P" or "E":
                decimalExponent = suffix switch
                {
                    "n" => -9,
                    "u" => -6,
                    "m" => -3,
                    "k" => 3,
                    "M" => 6,
                    "G" => 9,
                    "T" => 12,
                    "P" => 15,
                    _ => 18,
                };
                return true;
        }

        if (suffix.Length > 1 && suffix[0] is 'e' or 'E' &&
            int.TryParse(suffix.AsSpan(1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var exponent) &&
            Math.Abs(exponent) <= 1000)
        {
            decimalExponent = exponent;
            return true;
        }

        return false;
    }

    /// <summary>-1, 0 or 1.</summary>
    public long Sign => Nanos.Sign;

    /// <summary>True when the value is a whole number that fits an int64, as <c>Quantity.AsInt64</c> succeeds.</summary>
    public bool IsInteger => AsInteger(out _);

    /// <summary>The value as an int64 when it is whole and in range.</summary>
    public bool AsInteger(out long value)
    {
        var whole = BigInteger.DivRem(Nanos, NanosPerUnit, out var remainder);
        if (remainder.IsZero && whole >= long.MinValue && whole <= long.MaxValue)
        {
            value = (long)whole;
            return true;
        }

        value = 0;
        return false;
    }

    /// <summary>The nearest double.</summary>
    public double AsApproximateFloat() => (double)Nanos / 1e9;

    public CelQuantity Add(CelQuantity other) => new(Nanos + other.Nanos);

    public CelQuantity Subtract(CelQuantity other) => new(Nanos - other.Nanos);

    public static CelQuantity FromInteger(long value) => new(value * NanosPerUnit);

    /// <inheritdoc/>
    public int CompareTo(CelQuantity? other) => other is null ? 1 : Nanos.CompareTo(other.Nanos);
}
