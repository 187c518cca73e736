using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using DeepSeekOperator.Moe;
using DeepSeekOperator.Moe.Safetensors;
using DeepSeekOperator.Moe.Tokenization;
using static TorchSharp.torch;

namespace DeepSeekOperator.Cli.Commands;

/// <summary><c>dsop model init|info|config|generate</c>: make, inspect and run DeepSeek-V3-architecture checkpoints.</summary>
internal static class ModelCommand
{
    public static Command Create() => new("model", "Create, inspect and run model checkpoints (Hugging Face layout).")
    {
        Init(),
        Info(),
        Config(),
        Generate(),
    };

    private static Command Init()
    {
        var preset = new Option<string>("--preset") { Description = "tiny (tests) or small (about 100M parameters, benchmarks).", Required = true };
        preset.AcceptOnlyFromAmong("tiny", "small");
        var seed = new Option<int>("--seed") { Description = "Seed of the deterministic random weights.", DefaultValueFactory = _ => 0 };
        var output = new Option<DirectoryInfo>("--out") { Description = "Directory to write config.json and the weights to.", Required = true };
        var dtype = DtypeOption("Dtype of the stored weights.");
        var shards = new Option<int>("--shards") { Description = "Split the weights into this many files with model.safetensors.index.json.", DefaultValueFactory = _ => 1 };
        var skew = new Option<double>("--skew") { Description = "Bias the gate towards low-numbered experts (0 = none, 1 = strong), to make expert load uneven.", DefaultValueFactory = _ => 0 };
        var command = new Command("init", "Write a synthetic model with random weights and the real architecture.") { preset, seed, output, dtype, shards, skew };
        command.SetAction((parseResult, cancellationToken) =>
        {
            var shardCount = parseResult.GetValue(shards);
            var skewValue = parseResult.GetValue(skew);
            if (shardCount < 1)
            {
                throw new CommandException($"--shards must be at least 1, got {shardCount}");
            }

            if (!(skewValue >= 0) || double.IsInfinity(skewValue))
            {
                throw new CommandException($"--skew must be a number of at least 0, got {skewValue.ToString(CultureInfo.InvariantCulture)}");
            }

            var directory = parseResult.GetValue(output)!.FullName;
            var config = SyntheticModel.Config(parseResult.GetValue(preset) == "small" ? SyntheticPreset.Small : SyntheticPreset.Tiny);
            var type = ParseDtype(parseResult.GetValue(dtype));
            try
            {
                SyntheticModel.Write(directory, config, parseResult.GetValue(seed), skewValue, type, shardCount);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new CommandException($"cannot write {directory}: {ex.Message}", ex);
            }

            parseResult.InvocationConfiguration.Output.WriteLine($"wrote {directory}: {Describe(config)}");
            return Task.FromResult(0);
        });
        return command;
    }

    private static Command Info()
    {
        var directory = new Argument<DirectoryInfo>("DIR") { Description = "The model directory." };
        var command = new Command("info", "Print a model's architecture, parameter counts and bytes per dtype.") { directory };
        command.SetAction((parseResult, cancellationToken) =>
        {
            var path = parseResult.GetValue(directory)!.FullName;
            var config = Guard(() => ModelConfig.Load(path));
            using var checkpoint = Guard(() => SafetensorsCheckpoint.Open(path));
            Guard(() => ModelLoader.Check(checkpoint, ModelTensors.Expected(config)));
            parseResult.InvocationConfiguration.Output.Write(ModelInfo.Describe(config, checkpoint));
            return Task.FromResult(0);
        });
        return command;
    }

    private static Command Config()
    {
        var model = new Option<DirectoryInfo>("--model") { Description = "The model directory.", Required = true };
        var output = new Option<FileInfo>("--output")
        {
            Description = "Write the architecture (or, on failure, the error) to this file, such as a container's /dev/termination-log, rather than to stdout.",
        };
        var command = new Command(
            "config",
            "Check a model's config.json as the router and shards read it, and print its architecture as one line of JSON (config.json keys).")
        {
            model, output,
        };
        command.SetAction((parseResult, cancellationToken) =>
        {
            var path = parseResult.GetValue(model)!.FullName;
            var file = parseResult.GetValue(output)?.FullName;
            string text;
            try
            {
                text = ModelConfig.Load(path).ToJson(indented: false);
            }
            catch (ModelConfigException ex)
            {
                if (file is not null)
                {
                    Write(file, ex.Message);
                }

                throw new CommandException(ex.Message, ex);
            }

            if (file is null)
            {
                parseResult.InvocationConfiguration.Output.WriteLine(text);
            }
            else
            {
                Write(file, text);
            }

            return Task.FromResult(0);
        });
        return command;

        static void Write(string file, string text)
        {
            try
            {
                File.WriteAllText(file, text);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new CommandException($"--output: cannot write {file}: {ex.Message}", ex);
            }
        }
    }

    private static Command Generate()
    {
        var directory = new Argument<DirectoryInfo>("DIR") { Description = "The model directory." };
        var prompt = new Option<string>("--prompt") { Description = "The text to continue.", Required = true };
        var maxTokens = new Option<int>("--max-tokens") { Description = "The most tokens to generate.", DefaultValueFactory = _ => 64 };
        var temperature = new Option<double>("--temperature") { Description = "Sampling temperature; 0 is greedy.", DefaultValueFactory = _ => 0 };
        var topK = new Option<int>("--top-k") { Description = "Sample among the k most likely tokens (0: all).", DefaultValueFactory = _ => 0 };
        var topP = new Option<double>("--top-p") { Description = "Nucleus sampling: the smallest set of tokens with this much probability.", DefaultValueFactory = _ => 1.0 };
        var seed = new Option<int?>("--seed") { Description = "Seed for reproducible sampling." };
        var dtype = DtypeOption("Dtype to compute in.");
        var device = new Option<string>("--device") { Description = "cpu, cuda or cuda:N.", DefaultValueFactory = _ => "cpu" };
        var command = new Command("generate", "Continue a prompt with a model, printing the text and tokens/s.") { directory, prompt, maxTokens, temperature, topK, topP, seed, dtype, device };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            var path = parseResult.GetValue(directory)!.FullName;
            var options = new SamplingOptions
            {
                MaxTokens = parseResult.GetValue(maxTokens),
                Temperature = parseResult.GetValue(temperature),
                TopK = parseResult.GetValue(topK),
                TopP = parseResult.GetValue(topP),
                Seed = parseResult.GetValue(seed),
            };
            Guard(options.Validate);
            var torchDevice = Guard(() => TorchRuntime.Device(parseResult.GetValue(device)!));
            var config = Guard(() => ModelConfig.Load(path));
            var tokenizer = Guard(() => TextTokenizers.Load(path, config.VocabSize));

            var bar = new ProgressBar(error, !Console.IsErrorRedirected && ReferenceEquals(error, Console.Error));
            var loading = Stopwatch.StartNew();
            using var model = Guard(() => ModelLoader.Load(path, ParseDtype(parseResult.GetValue(dtype)), torchDevice, bar, cancellationToken));
            bar.Finish();
            await error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"loaded {Describe(config)} in {loading.Elapsed.TotalSeconds:0.0} s")).ConfigureAwait(false);

            var promptTokens = Guard(() => tokenizer.Encode(parseResult.GetValue(prompt)!, addBos: true));
            if (promptTokens.Count >= config.MaxPositionEmbeddings)
            {
                throw new CommandException($"the prompt is {promptTokens.Count} tokens; this model's context (max_position_embeddings) is {config.MaxPositionEmbeddings}, which must also hold the generated tokens");
            }

            var generated = new List<int>();
            var text = new StringBuilder();
            var generator = new BatchGenerator(model, [.. tokenizer.EosTokenIds]);
            var timer = Stopwatch.StartNew();
            TimeSpan? firstToken = null;
            IReadOnlyList<GenerationResult> results;
            try
            {
                results = await generator.GenerateAsync(
                    [new GenerationRequest(promptTokens, options)],
                    (_, token) =>
                    {
                        firstToken ??= timer.Elapsed;
                        var piece = tokenizer.DecodeIncrement(generated, token);
                        generated.Add(token);
                        output.Write(Printable(piece));
                        output.Flush();
                    },
                    cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
            {
                throw new CommandException(ex.Message, ex);
            }

            timer.Stop();
            await output.WriteLineAsync().ConfigureAwait(false);
            var result = results[0];
            var decodeSeconds = (timer.Elapsed - (firstToken ?? timer.Elapsed)).TotalSeconds;
            var decodeRate = result.Tokens.Count > 1 && decodeSeconds > 0 ? (result.Tokens.Count - 1) / decodeSeconds : 0;
            await error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{promptTokens.Count} prompt tokens, {result.Tokens.Count} generated ({(result.Reason == FinishReason.Stop ? "end of sequence" : "token limit")}); first token after {(firstToken ?? timer.Elapsed).TotalMilliseconds:0} ms, {decodeRate:0.0} tokens/s decoding")).ConfigureAwait(false);
            return 0;
        });
        return command;
    }

    /// <summary>Control characters (a random model emits any byte) are shown as <c>\xNN</c> rather than sent to the terminal.</summary>
    internal static string Printable(string text)
    {
        if (!text.Any(c => char.IsControl(c) && c is not ('\n' or '\t')))
        {
            return text;
        }

        var builder = new StringBuilder(text.Length + 8);
        foreach (var c in text)
        {
            if (char.IsControl(c) && c is not ('\n' or '\t'))
            {
                builder.Append(CultureInfo.InvariantCulture, $"\\x{(int)c:x2}");
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }

    private static Option<string> DtypeOption(string description)
    {
        var option = new Option<string>("--dtype") { Description = description + " f32 or bf16.", DefaultValueFactory = _ => "f32" };
        option.AcceptOnlyFromAmong("f32", "bf16");
        return option;
    }

    private static ScalarType ParseDtype(string? value) => value == "bf16" ? ScalarType.BFloat16 : ScalarType.Float32;

    private static string Describe(ModelConfig config) => string.Create(CultureInfo.InvariantCulture,
        $"{config.NumHiddenLayers} layers, hidden {config.HiddenSize}, {config.NRoutedExperts} routed experts (top-{config.NumExpertsPerToken}), {ModelInfo.Parameters(config).Total / 1e6:0.0}M parameters");

    /// <summary>Turns the errors a user can fix (bad files, bad options) into a message without a stack trace.</summary>
    private static T Guard<T>(Func<T> action)
    {
        try
        {
            return action();
        }
        catch (Exception ex) when (ex is ModelConfigException or CheckpointException or InvalidDataException or NotSupportedException or ArgumentException or InvalidOperationException)
        {
            throw new CommandException(ex.Message, ex);
        }
    }

    private static void Guard(Action action) => Guard(() =>
    {
        action();
        return 0;
    });
}
