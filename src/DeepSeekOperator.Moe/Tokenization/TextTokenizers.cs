namespace DeepSeekOperator.Moe.Tokenization;

/// <summary>Loads the tokenizer of a model directory.</summary>
public static class TextTokenizers
{
    /// <summary>
    /// The tokenizer of <paramref name="modelDirectory"/>: its Hugging Face <c>tokenizer.json</c> (a byte-level BPE, as
    /// DeepSeek-V3 and V2 ship), with BOS and EOS from <c>tokenizer_config.json</c> (bos_token, eos_token, add_bos_token)
    /// where present and from <c>config.json</c> (bos_token_id, eos_token_id) otherwise; or, for a directory with no
    /// tokenizer at all (a synthetic model), a <see cref="ByteTokenizer"/> of <paramref name="vocabSize"/> tokens.
    /// </summary>
    /// <param name="modelDirectory">The model directory.</param>
    /// <param name="vocabSize">The model's vocab_size (config.json): every token id must be below it.</param>
    /// <returns>The tokenizer.</returns>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    /// <exception cref="InvalidDataException">A tokenizer file is malformed; the message names the file and the key.</exception>
    /// <exception cref="NotSupportedException">A tokenizer file uses a construct this runtime does not reproduce exactly; the message names it.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The vocabulary is too small for a byte tokenizer.</exception>
    public static ITextTokenizer Load(string modelDirectory, int vocabSize)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(modelDirectory);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(vocabSize);
        if (!Directory.Exists(modelDirectory))
        {
            throw new DirectoryNotFoundException($"model directory {modelDirectory} does not exist");
        }

        var tokenizerJson = Path.Combine(modelDirectory, "tokenizer.json");
        if (File.Exists(tokenizerJson))
        {
            var model = TokenizerJson.Read(tokenizerJson);
            return new HuggingFaceBpeTokenizer(model, vocabSize, SpecialTokenChoice.Read(modelDirectory, model));
        }

        foreach (var other in new[] { "tokenizer.model", "vocab.json", "merges.txt" })
        {
            if (File.Exists(Path.Combine(modelDirectory, other)))
            {
                throw new NotSupportedException($"{modelDirectory} has {other} but no tokenizer.json; only tokenizer.json is read");
            }
        }

        if (vocabSize < ByteTokenizer.MinimumVocabularySize)
        {
            throw new ArgumentOutOfRangeException(nameof(vocabSize), vocabSize,
                $"{modelDirectory} has no tokenizer.json, so its text is bytes, which needs a vocab_size of at least {ByteTokenizer.MinimumVocabularySize}");
        }

        return new ByteTokenizer(vocabSize);
    }
}
