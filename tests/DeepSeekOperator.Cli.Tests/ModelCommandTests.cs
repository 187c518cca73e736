using DeepSeekOperator.Moe;

namespace DeepSeekOperator.Cli.Tests;

public sealed class ModelCommandTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("dsop-model-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args) => DsopRunner.RunAsync(args);

    [Fact]
    public async Task InitThenGenerate_PrintsTextAndTokensPerSecond()
    {
        var model = Path.Combine(_directory, "tiny");
        var init = await RunAsync("model", "init", "--preset", "tiny", "--seed", "3", "--out", model);
        Assert.Equal(0, init.ExitCode);
        Assert.StartsWith($"wrote {model}: 4 layers, hidden 64, 16 routed experts (top-4)", init.Output, StringComparison.Ordinal);

        var (exitCode, output, error) = await RunAsync("model", "generate", model, "--prompt", "hello", "--max-tokens", "16");

        Assert.Equal(0, exitCode);
        Assert.NotEqual("\n", output);
        Assert.Matches(@"6 prompt tokens, 16 generated \(token limit\); first token after \d+ ms, [\d.]+ tokens/s decoding", error);
        Assert.Contains("loading [", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Generate_SameSeed_SameText()
    {
        var model = Path.Combine(_directory, "tiny");
        await RunAsync("model", "init", "--preset", "tiny", "--out", model, "--shards", "2", "--dtype", "bf16");
        string[] args = ["model", "generate", model, "--prompt", "abc", "--max-tokens", "8", "--temperature", "0.8", "--top-k", "50", "--seed", "9"];

        var first = await RunAsync(args);
        var second = await RunAsync(args);

        Assert.Equal(0, first.ExitCode);
        Assert.Equal(first.Output, second.Output);
    }

    [Fact]
    public async Task Info_DescribesArchitectureParametersAndDtypes()
    {
        var model = Path.Combine(_directory, "tiny");
        await RunAsync("model", "init", "--preset", "tiny", "--out", model, "--dtype", "bf16", "--shards", "3");

        var (exitCode, output, _) = await RunAsync("model", "info", model);

        Assert.Equal(0, exitCode);
        Assert.Contains("4 layers (1 dense, 3 MoE), hidden 64, vocabulary 512", output, StringComparison.Ordinal);
        Assert.Contains("16 routed, top-4 by noaux_tc (sigmoid), 4 groups keeping 2, 1 shared", output, StringComparison.Ordinal);
        Assert.Matches(@"parameters\s+470\.9K total, 294\.9K in routed experts, 249\.7K active per token", output);
        Assert.Matches(@"checkpoint\s+3 files, 201 tensors: BF16 [\d.]+ KiB \(198 tensors\), F32 192 B \(3 tensors\)", output);
    }

    [Fact]
    public async Task Info_OnADirectoryWithoutAModel_SaysWhatIsMissing()
    {
        var (exitCode, _, error) = await RunAsync("model", "info", _directory);

        Assert.Equal(1, exitCode);
        Assert.StartsWith($"dsop: {Path.Combine(_directory, "config.json")}: cannot read", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Config_PrintsTheArchitectureAsOneLineThatParsesBack()
    {
        var model = Path.Combine(_directory, "tiny");
        await RunAsync("model", "init", "--preset", "tiny", "--out", model);

        var (exitCode, output, _) = await RunAsync("model", "config", "--model", model);

        Assert.Equal(0, exitCode);
        Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(ModelConfig.Load(model).ToJson(), ModelConfig.Parse(output).ToJson());
    }

    [Fact]
    public async Task Config_WithOutput_WritesTheArchitectureToTheFileAndNothingToStdout()
    {
        var model = Path.Combine(_directory, "tiny");
        await RunAsync("model", "init", "--preset", "tiny", "--out", model);
        var file = Path.Combine(_directory, "termination-log");

        var (exitCode, output, _) = await RunAsync("model", "config", "--model", model, "--output", file);

        Assert.Equal(0, exitCode);
        Assert.Equal("", output);
        Assert.Equal(16, ModelConfig.Parse(await File.ReadAllTextAsync(file)).NRoutedExperts);
    }

    [Fact]
    public async Task Config_BadKey_FailsWithTheLoadersMessageInStderrAndTheOutputFile()
    {
        var config = Path.Combine(_directory, "config.json");
        await File.WriteAllTextAsync(config, """{"n_routed_experts": "many"}""");
        var file = Path.Combine(_directory, "termination-log");

        var (exitCode, _, error) = await RunAsync("model", "config", "--model", _directory, "--output", file);

        Assert.Equal(1, exitCode);
        var message = $"{config}: n_routed_experts: must be an integer, got \"many\"";
        Assert.StartsWith("dsop: " + message, error, StringComparison.Ordinal);
        Assert.Equal(message, await File.ReadAllTextAsync(file));
    }

    [Fact]
    public async Task Config_MissingConfigJson_FailsNamingTheFile()
    {
        var (exitCode, _, error) = await RunAsync("model", "config", "--model", _directory);

        Assert.Equal(1, exitCode);
        Assert.StartsWith($"dsop: {Path.Combine(_directory, "config.json")}: cannot read", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Init_UnknownPreset_IsAUsageError()
    {
        var (exitCode, _, error) = await RunAsync("model", "init", "--preset", "huge", "--out", _directory);

        Assert.Equal(2, exitCode);
        Assert.Contains("huge", error, StringComparison.Ordinal);
        Assert.Contains("Run 'dsop model init --help' for usage.", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Generate_BadSamplingOption_NamesIt()
    {
        var model = Path.Combine(_directory, "tiny");
        await RunAsync("model", "init", "--preset", "tiny", "--out", model);

        var (exitCode, _, error) = await RunAsync("model", "generate", model, "--prompt", "x", "--top-p", "1.5");

        Assert.Equal(1, exitCode);
        Assert.StartsWith("dsop: top_p must be in (0, 1], got 1.5", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Generate_PromptLongerThanTheContext_SaysSo()
    {
        var model = Path.Combine(_directory, "tiny");
        await RunAsync("model", "init", "--preset", "tiny", "--out", model);

        var (exitCode, _, error) = await RunAsync("model", "generate", model, "--prompt", new string('a', 3000));

        Assert.Equal(1, exitCode);
        Assert.StartsWith("dsop: the prompt is 3001 tokens; this model's context (max_position_embeddings) is 2048", error.Split('\n').First(l => l.StartsWith("dsop:", StringComparison.Ordinal)), StringComparison.Ordinal);
    }

    [Fact]
    public void Printable_EscapesControlCharactersButKeepsText() =>
        Assert.Equal("a\\x1b[2Jb\n\tç✓", Commands.ModelCommand.Printable("a\u001b[2Jb\n\tç✓"));
}
