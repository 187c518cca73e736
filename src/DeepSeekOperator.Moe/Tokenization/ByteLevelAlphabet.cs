using System.Text;

namespace DeepSeekOperator.Moe.Tokenization;

/// <summary>
/// The byte-to-character mapping of byte-level BPE (GPT-2's <c>bytes_to_unicode</c>): printable Latin-1 bytes stand
/// for themselves, the others for the characters from U+0100 on, in byte order (so a space is 'Ġ', a newline 'Ċ').
/// </summary>
internal static class ByteLevelAlphabet
{
    private static readonly char[] ByteToChar = CreateByteToChar();

    private static readonly Dictionary<char, byte> CharToByte = Enumerable.Range(0, 256).ToDictionary(b => ByteToChar[b], b => (byte)b);

    /// <summary>The character that stands for <paramref name="value"/>.</summary>
    public static char CharOf(byte value) => ByteToChar[value];

    /// <summary>
    /// The bytes a token stands for, as Hugging Face's ByteLevel decoder reads it: each character mapped back to its
    /// byte, or, when some character of the token is outside the alphabet (an added token such as <c>&lt;｜User｜&gt;</c>),
    /// the UTF-8 of the whole token.
    /// </summary>
    public static byte[] BytesOf(string token)
    {
        var bytes = new byte[token.Length];
        for (var i = 0; i < token.Length; i++)
        {
            if (!CharToByte.TryGetValue(token[i], out bytes[i]))
            {
                return Encoding.UTF8.GetBytes(token);
            }
        }

        return bytes;
    }

    private static char[] CreateByteToChar()
    {
        var map = new char[256];
        var next = 256;
        for (var b = 0; b < 256; b++)
        {
            var printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            map[b] = printable ? (char)b : (char)next++;
        }

        return map;
    }
}
