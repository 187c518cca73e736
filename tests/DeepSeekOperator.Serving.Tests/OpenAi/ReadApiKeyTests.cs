using DeepSeekOperator.Serving.OpenAi;

namespace DeepSeekOperator.Serving.Tests.OpenAi;

public sealed class ReadApiKeyTests : IDisposable
{
    private readonly string _file = Path.Combine(Path.GetTempPath(), $"dsop-api-key-{Guid.NewGuid():N}");
    private readonly string _variable = $"DSOP_TEST_API_KEY_{Guid.NewGuid():N}";

    public void Dispose()
    {
        File.Delete(_file);
        Environment.SetEnvironmentVariable(_variable, null);
    }

    [Fact]
    public void File_IsReadTrimmed_AndWinsOverTheEnvironment()
    {
        File.WriteAllText(_file, "  sk-from-file\n");
        Environment.SetEnvironmentVariable(_variable, "sk-from-env");

        Assert.Equal("sk-from-file", OpenAiApi.ReadApiKey(_file, _variable));
    }

    [Fact]
    public void NoFile_TakesTheEnvironmentVariable_OrNoKey()
    {
        Assert.Null(OpenAiApi.ReadApiKey(null, _variable));

        Environment.SetEnvironmentVariable(_variable, "sk-from-env");

        Assert.Equal("sk-from-env", OpenAiApi.ReadApiKey(null, _variable));
    }

    [Fact]
    public void MissingFile_Throws_NamingIt()
    {
        var error = Assert.Throws<FileNotFoundException>(() => OpenAiApi.ReadApiKey(_file, _variable));

        Assert.Contains(_file, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EmptyFile_Throws_NamingIt()
    {
        File.WriteAllText(_file, " \n");

        var error = Assert.Throws<InvalidDataException>(() => OpenAiApi.ReadApiKey(_file, _variable));

        Assert.Contains(_file, error.Message, StringComparison.Ordinal);
    }
}
