using System.Text;
using Microsoft.ML.Tokenizers;

namespace DeepSeekOperator.Moe.Tokenization;

/// <summary>
/// A byte-level BPE tokenizer read from a Hugging Face <c>tokenizer.json</c>: Microsoft.ML.Tokenizers' <see cref="BpeTokenizer"/>
/// does the merges, <see cref="HuggingFacePreTokenizer"/> the splitting, and decoding maps each token back to its bytes
/// as Hugging Face's ByteLevel decoder does.
/// </summary>
internal sealed class HuggingFaceBpeTokenizer : ITextTokenizer
{
    private readonly BpeTokenizer _bpe;
    private readonly byte[][] _bytes;
    private readonly int[] _eosTokenIds;

    /// <summary>Builds the tokenizer.</summary>
    /// <param name="model">The checked tokenizer.json.</param>
    /// <param name="vocabularySize">The model's vocab_size: every token id must be below it.</param>
    /// <param name="specialTokens">BOS, EOS and whether to add BOS.</param>
    /// <exception cref="InvalidDataException">A token id is not below <paramref name="vocabularySize"/>.</exception>
    public HuggingFaceBpeTokenizer(TokenizerJsonModel model, int vocabularySize, SpecialTokenChoice specialTokens)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(specialTokens);
        foreach (var (token, id) in model.Vocabulary)
        {
            CheckId(model, vocabularySize, id, $"model.vocab[\"{token}\"]");
        }

        foreach (var token in model.AddedTokens)
        {
            CheckId(model, vocabularySize, token.Id, $"added token \"{token.Content}\"");
        }

        VocabularySize = vocabularySize;
        BosTokenId = specialTokens.BosTokenId;
        _eosTokenIds = [.. specialTokens.EosTokenIds];
        AddBosToken = specialTokens.AddBosToken;

        _bpe = BpeTokenizer.Create(new BpeOptions(model.Vocabulary)
        {
            Merges = model.Merges,
            SpecialTokens = model.AddedTokens.ToDictionary(t => t.Content, t => t.Id, StringComparer.Ordinal),
            PreTokenizer = new HuggingFacePreTokenizer(new AddedTokenMatcher(model.AddedTokens), model.SplitRules),
            ByteLevel = true,
        });

        _bytes = new byte[vocabularySize][];
        Array.Fill(_bytes, []);
        foreach (var (token, id) in model.Vocabulary)
        {
            _bytes[id] = ByteLevelAlphabet.BytesOf(token);
        }

        foreach (var token in model.AddedTokens)
        {
            _bytes[token.Id] = token.Special ? [] : ByteLevelAlphabet.BytesOf(token.Content);
        }
    }

    /// <inheritdoc/>
    public int VocabularySize { get; }

    /// <inheritdoc/>
    public int? BosTokenId { get; }

    /// <inheritdoc/>
    public IReadOnlyList<int> EosTokenIds => _eosTokenIds;

    /// <inheritdoc/>
    public bool AddBosToken { get; }

    /// <inheritdoc/>
    public IReadOnlyList<int> Encode(string text, bool addBos)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = _bpe.EncodeToIds(WithoutLoneSurrogates(text), considerPreTokenization: true, considerNormalization: false);
        if (!addBos || BosTokenId is not { } bos)
        {
            return ids;
        }

        var withBos = new List<int>(ids.Count + 1) { bos };
        withBos.AddRange(ids);
        return withBos;
    }

    /// <inheritdoc/>
    public string Decode(IReadOnlyList<int> tokens) => TokenText.Decode(tokens, BytesOf);

    /// <inheritdoc/>
    public string DecodeIncrement(IReadOnlyList<int> previous, int token) => TokenText.DecodeIncrement(previous, token, BytesOf);

    /// <summary>The text with each unpaired surrogate (which has no UTF-8 form) replaced by U+FFFD, as UTF-8 encoding does.</summary>
    internal static string WithoutLoneSurrogates(string text)
    {
        StringBuilder? fixedText = null;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (!char.IsSurrogate(c))
            {
                fixedText?.Append(c);
                continue;
            }

            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                fixedText?.Append(c).Append(text[i + 1]);
                i++;
                continue;
            }

            fixedText ??= new StringBuilder(text.Length).Append(text, 0, i);
            fixedText.Append('\uFFFD');
        }

        return fixedText?.ToString() ?? text;
    }

    private static void CheckId(TokenizerJsonModel model, int vocabularySize, int id, string what)
    {
        if (id >= vocabularySize)
        {
            throw new InvalidDataException($"{model.Path}: {what} has id {id}, not below the model's vocab_size {vocabularySize}");
        }
    }

    private byte[] BytesOf(int token) =>
        (uint)token < (uint)VocabularySize
            ? _bytes[token]
            : throw new ArgumentOutOfRangeException(nameof(token), token, $"token id {token} is outside the vocabulary 0..{VocabularySize - 1}");
}
