using System.Buffers;
using System.Text;

namespace DeepSeekOperator.Moe.Tokenization;

/// <summary>Decoding of tokens that each stand for a run of UTF-8 bytes (possibly none, possibly part of a character).</summary>
internal static class TokenText
{
    /// <summary>The most bytes of a UTF-8 character that can be waiting for the rest of it.</summary>
    private const int MaxPendingBytes = 3;

    /// <summary>The text of all the tokens' bytes; bytes that do not form UTF-8 become U+FFFD.</summary>
    public static string Decode(IReadOnlyList<int> tokens, Func<int, byte[]> bytesOf)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        var buffer = new ArrayBufferWriter<byte>();
        foreach (var token in tokens)
        {
            buffer.Write(bytesOf(token));
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>
    /// The text completed by <paramref name="token"/>: the bytes of an incomplete character at the end of
    /// <paramref name="previous"/> (held back by earlier calls) followed by the token's bytes, less a character
    /// that is still incomplete.
    /// </summary>
    public static string DecodeIncrement(IReadOnlyList<int> previous, int token, Func<int, byte[]> bytesOf)
    {
        ArgumentNullException.ThrowIfNull(previous);
        var added = bytesOf(token);
        if (added.Length == 0)
        {
            return string.Empty;
        }

        // The last bytes of the previous tokens; tokens without bytes (special ones) are passed over.
        Span<byte> tail = stackalloc byte[MaxPendingBytes];
        var tailLength = 0;
        for (var i = previous.Count - 1; i >= 0 && tailLength < MaxPendingBytes; i--)
        {
            var bytes = bytesOf(previous[i]);
            var take = Math.Min(bytes.Length, MaxPendingBytes - tailLength);
            tail[..tailLength].CopyTo(tail[take..]);
            bytes.AsSpan(bytes.Length - take).CopyTo(tail);
            tailLength += take;
        }

        var pending = IncompleteSuffixLength(tail[..tailLength]);
        var combined = new byte[pending + added.Length];
        tail[(tailLength - pending)..tailLength].CopyTo(combined);
        added.CopyTo(combined, pending);
        var held = IncompleteSuffixLength(combined);
        return Encoding.UTF8.GetString(combined, 0, combined.Length - held);
    }

    /// <summary>
    /// The length of the suffix of <paramref name="bytes"/> that is the valid start of a UTF-8 character still
    /// missing bytes, or 0. An invalid sequence is never held back: it decodes to U+FFFD at once, as in a whole decode.
    /// </summary>
    internal static int IncompleteSuffixLength(ReadOnlySpan<byte> bytes)
    {
        for (var length = Math.Min(MaxPendingBytes, bytes.Length); length > 0; length--)
        {
            if (System.Text.Rune.DecodeFromUtf8(bytes[^length..], out _, out _) == OperationStatus.NeedMoreData)
            {
                return length;
            }
        }

        return 0;
    }
}
