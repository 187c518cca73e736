using System.Text;

namespace DeepSeekOperator.Moe.Tokenization;

/// <summary>
/// The tokenizer of models that ship none (synthetic test models): ids 0..255 are the bytes of the UTF-8 text,
/// two more ids mark the beginning and end of a sequence, and every other id of the model's vocabulary decodes to nothing.
/// </summary>
public sealed class ByteTokenizer : ITextTokenizer
{
    /// <summary>The beginning-of-sequence id unless the constructor is told otherwise.</summary>
    public const int DefaultBosTokenId = 256;

    /// <summary>The end-of-sequence id unless the constructor is told otherwise.</summary>
    public const int DefaultEosTokenId = 257;

    /// <summary>The smallest vocabulary that holds the 256 bytes and the two default special tokens.</summary>
    public const int MinimumVocabularySize = 258;

    private static readonly byte[][] SingleBytes = Enumerable.Range(0, 256).Select(b => new[] { (byte)b }).ToArray();

    private readonly int[] _eosTokenIds;

    /// <summary>Creates a byte tokenizer for a model with <paramref name="vocabularySize"/> embedding rows.</summary>
    /// <param name="vocabularySize">The model's vocab_size, at least <see cref="MinimumVocabularySize"/>.</param>
    /// <param name="bosTokenId">The beginning-of-sequence id: 256 or above, below <paramref name="vocabularySize"/>.</param>
    /// <param name="eosTokenId">The end-of-sequence id: 256 or above, below <paramref name="vocabularySize"/>, not <paramref name="bosTokenId"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size or id is out of range, or the two ids are equal.</exception>
    public ByteTokenizer(int vocabularySize, int bosTokenId = DefaultBosTokenId, int eosTokenId = DefaultEosTokenId)
    {
        if (vocabularySize < MinimumVocabularySize)
        {
            throw new ArgumentOutOfRangeException(nameof(vocabularySize), vocabularySize,
                $"a byte tokenizer needs a vocabulary of at least {MinimumVocabularySize} tokens (256 bytes, BOS and EOS)");
        }

        CheckSpecialId(bosTokenId, vocabularySize, nameof(bosTokenId));
        CheckSpecialId(eosTokenId, vocabularySize, nameof(eosTokenId));
        if (bosTokenId == eosTokenId)
        {
            throw new ArgumentOutOfRangeException(nameof(eosTokenId), eosTokenId, "BOS and EOS must be different tokens");
        }

        VocabularySize = vocabularySize;
        BosTokenId = bosTokenId;
        _eosTokenIds = [eosTokenId];
    }

    /// <inheritdoc/>
    public int VocabularySize { get; }

    /// <inheritdoc/>
    public int? BosTokenId { get; }

    /// <inheritdoc/>
    public IReadOnlyList<int> EosTokenIds => _eosTokenIds;

    /// <inheritdoc/>
    public bool AddBosToken => true;

    /// <inheritdoc/>
    public IReadOnlyList<int> Encode(string text, bool addBos)
    {
        ArgumentNullException.ThrowIfNull(text);
        var bytes = Encoding.UTF8.GetBytes(text);
        var ids = new List<int>(bytes.Length + 1);
        if (addBos && BosTokenId is { } bos)
        {
            ids.Add(bos);
        }

        foreach (var b in bytes)
        {
            ids.Add(b);
        }

        return ids;
    }

    /// <inheritdoc/>
    public string Decode(IReadOnlyList<int> tokens) => TokenText.Decode(tokens, BytesOf);

    /// <inheritdoc/>
    public string DecodeIncrement(IReadOnlyList<int> previous, int token) => TokenText.DecodeIncrement(previous, token, BytesOf);

    private static void CheckSpecialId(int id, int vocabularySize, string name)
    {
        if (id < 256 || id >= vocabularySize)
        {
            throw new ArgumentOutOfRangeException(name, id, $"a special token of a byte tokenizer must be in 256..{vocabularySize - 1}");
        }
    }

    private byte[] BytesOf(int token)
    {
        if ((uint)token >= (uint)VocabularySize)
        {
            throw new ArgumentOutOfRangeException(nameof(token), token, $"token id {token} is outside the vocabulary 0..{VocabularySize - 1}");
        }

        return token < 256 ? SingleBytes[token] : [];
    }
}
