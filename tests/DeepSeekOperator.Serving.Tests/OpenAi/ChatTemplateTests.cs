using System.Text;
using DeepSeekOperator.Serving.OpenAi.Internal;

namespace DeepSeekOperator.Serving.Tests.OpenAi;

public sealed class ChatTemplateTests
{
    [Fact]
    public void Render_PutsSystemMessagesFirst_AndClosesEveryAssistantTurn_EndingWithAnAssistantMarker()
    {
        var text = ChatTemplate.Render(
        [
            new ChatMessage(ChatRole.System, "Be brief."),
            new ChatMessage(ChatRole.User, "Hi"),
            new ChatMessage(ChatRole.Assistant, "Hello!"),
            new ChatMessage(ChatRole.System, "Use French."),
            new ChatMessage(ChatRole.User, "Bye"),
        ]);

        Assert.Equal("Be brief.\n\nUse French.<｜User｜>Hi<｜Assistant｜>Hello!<｜end▁of▁sentence｜><｜User｜>Bye<｜Assistant｜>", text);
    }

    [Fact]
    public void Encode_ByteTokenizer_AddsBosById_AndSpellsTheMarkersAsBytes()
    {
        var tokens = ChatTemplate.Encode(OpenAiServer.Tokenizer, [new ChatMessage(ChatRole.User, "Hi")]);

        Assert.Equal(OpenAiServer.Tokenizer.BosTokenId, tokens[0]);
        Assert.Equal(Encoding.UTF8.GetBytes("<｜User｜>Hi<｜Assistant｜>").Select(b => (int)b), tokens.Skip(1));
    }
}
