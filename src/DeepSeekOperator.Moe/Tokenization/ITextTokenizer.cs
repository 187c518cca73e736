namespace DeepSeekOperator.Moe.Tokenization;

/// <summary>Turns text into token ids for a model and token ids back into text.</summary>
public interface ITextTokenizer
{
    /// <summary>The number of rows of the model's embedding: every id this tokenizer produces or accepts is below it.</summary>
    int VocabularySize { get; }

    /// <summary>The beginning-of-sequence token, or <see langword="null"/> when the tokenizer has none.</summary>
    int? BosTokenId { get; }

    /// <summary>The tokens that end a sequence; generation stops on any of them.</summary>
    IReadOnlyList<int> EosTokenIds { get; }

    /// <summary>
    /// Whether the model's tokenizer configuration asks for <see cref="BosTokenId"/> at the start of a prompt
    /// (<c>add_bos_token</c> in <c>tokenizer_config.json</c>): the value to pass as <c>addBos</c> when encoding a whole prompt.
    /// </summary>
    bool AddBosToken { get; }

    /// <summary>Encodes text. Special-token strings in the text (such as <c>&lt;｜User｜&gt;</c>) become their single token.</summary>
    /// <param name="text">The text.</param>
    /// <param name="addBos">Prepend <see cref="BosTokenId"/> when the tokenizer has one.</param>
    /// <returns>The token ids.</returns>
    IReadOnlyList<int> Encode(string text, bool addBos);

    /// <summary>Decodes tokens to text, skipping special tokens; bytes that do not form UTF-8 become U+FFFD.</summary>
    /// <param name="tokens">The token ids, each below <see cref="VocabularySize"/>.</param>
    /// <returns>The text.</returns>
    string Decode(IReadOnlyList<int> tokens);

    /// <summary>
    /// Streaming decode for generation: the text newly completed by appending <paramref name="token"/> to <paramref name="previous"/>.
    /// A character whose UTF-8 bytes are split across tokens is emitted once its last byte arrives, so the pieces
    /// returned for a sequence, joined, equal <see cref="Decode"/> of it (less a character still incomplete at its end).
    /// </summary>
    /// <param name="previous">The tokens before <paramref name="token"/>, as passed to earlier calls.</param>
    /// <param name="token">The new token.</param>
    /// <returns>The newly completed text, possibly empty.</returns>
    string DecodeIncrement(IReadOnlyList<int> previous, int token);
}
