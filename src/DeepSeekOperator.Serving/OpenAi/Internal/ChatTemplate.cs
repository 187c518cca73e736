using System.Text;
using DeepSeekOperator.Moe.Tokenization;

namespace DeepSeekOperator.Serving.OpenAi.Internal;

/// <summary>
/// DeepSeek-V3's chat template (the <c>chat_template</c> of its <c>tokenizer_config.json</c>, without tool calls):
/// BOS, the system messages joined by a blank line, then <c>&lt;｜User｜&gt;</c> before each user message and
/// <c>&lt;｜Assistant｜&gt;</c> before each assistant message with <c>&lt;｜end▁of▁sentence｜&gt;</c> after it, ending with
/// <c>&lt;｜Assistant｜&gt;</c> for the reply.
/// </summary>
internal static class ChatTemplate
{
    public const string User = "<｜User｜>";
    public const string Assistant = "<｜Assistant｜>";
    public const string EndOfSentence = "<｜end▁of▁sentence｜>";

    /// <summary>The templated text after BOS.</summary>
    public static string Render(IReadOnlyList<ChatMessage> messages)
    {
        var text = new StringBuilder(string.Join("\n\n", messages.Where(m => m.Role == ChatRole.System).Select(m => m.Content)));
        foreach (var message in messages)
        {
            if (message.Role == ChatRole.User)
            {
                text.Append(User).Append(message.Content);
            }
            else if (message.Role == ChatRole.Assistant)
            {
                text.Append(Assistant).Append(message.Content).Append(EndOfSentence);
            }
        }

        return text.Append(Assistant).ToString();
    }

    /// <summary>
    /// The prompt's token ids. BOS is added by id, not as the text <c>&lt;｜begin▁of▁sentence｜&gt;</c>: a model's
    /// tokenizer.json turns that text into the same single token, but the byte tokenizer of synthetic models would spell
    /// it out byte by byte. The markers in the text become their single tokens with a tokenizer.json (they are added
    /// tokens of DeepSeek-V3's) and their UTF-8 bytes with the byte tokenizer.
    /// </summary>
    public static IReadOnlyList<int> Encode(ITextTokenizer tokenizer, IReadOnlyList<ChatMessage> messages)
    {
        var encoded = tokenizer.Encode(Render(messages), addBos: false);
        return tokenizer.BosTokenId is { } bos ? [bos, .. encoded] : encoded;
    }
}
