using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using DeepSeekOperator.Moe;
using DeepSeekOperator.Serving.Hosting;
using static TorchSharp.torch;

namespace DeepSeekOperator.Cli.Commands;

/// <summary>
/// The options every serving process (<c>dsop shard</c>, <c>dsop router</c>) takes to choose its model and its
/// expert placement: <c>--model DIR</c> or <c>--synthetic tiny|small</c> (with <c>--seed</c>, <c>--skew</c>), and
/// <c>--placement FILE</c> or <c>--shards N</c> (with <c>--slots-per-shard</c>), plus <c>--model-id</c>,
/// <c>--dtype</c> and <c>--device</c>.
/// </summary>
internal sealed class ServingOptions
{
    private readonly Option<DirectoryInfo?> _model = new("--model") { Description = "The model directory (Hugging Face layout). Or --synthetic." };
    private readonly Option<string?> _synthetic = new("--synthetic") { Description = "Serve a synthetic model: tiny (tests) or small. Or --model." };
    private readonly Option<int> _seed = new("--seed") { Description = "The synthetic model's seed.", DefaultValueFactory = _ => 0 };
    private readonly Option<double> _skew = new("--skew") { Description = "The synthetic model's gate skew towards low-numbered experts (0 = none).", DefaultValueFactory = _ => 0 };
    private readonly Option<string?> _modelId = new("--model-id") { Description = "The model id of a generated placement (default: the model directory's name, or synthetic-tiny / synthetic-small)." };
    private readonly Option<FileInfo?> _placement = new("--placement") { Description = "The placement file (JSON), watched for new revisions. Or --shards." };
    private readonly Option<int?> _shards = new("--shards") { Description = "Generate placement revision 1: the experts in contiguous ranges over this many shards. Or --placement." };
    private readonly Option<int?> _slotsPerShard = new("--slots-per-shard") { Description = "Experts per shard in each MoE layer of the generated placement (default: experts / shards, rounded up); spare slots hold copies." };
    private readonly Option<string> _dtype = new("--dtype") { Description = "The dtype the experts compute in: f32 or bf16.", DefaultValueFactory = _ => "f32" };
    private readonly Option<string> _device = new("--device") { Description = "cpu, cuda or cuda:N.", DefaultValueFactory = _ => "cpu" };

    public ServingOptions()
    {
        _synthetic.AcceptOnlyFromAmong("tiny", "small");
        _dtype.AcceptOnlyFromAmong("f32", "bf16");
    }

    /// <summary>Adds the options to <paramref name="command"/>, with a validator of the combinations.</summary>
    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { _model, _synthetic, _seed, _skew, _modelId, _placement, _shards, _slotsPerShard, _dtype, _device })
        {
            command.Options.Add(option);
        }

        command.Validators.Add(Validate);
    }

    /// <summary>The number of shards when <c>--shards</c> is given.</summary>
    public int? Shards(CommandResult result) => result.GetValue(_shards);

    /// <summary>The model and placement given on the command line.</summary>
    public ServedModelOptions Model(ParseResult parseResult) => new()
    {
        ModelDirectory = parseResult.GetValue(_model)?.FullName,
        Synthetic = parseResult.GetValue(_synthetic) switch
        {
            "tiny" => SyntheticPreset.Tiny,
            "small" => SyntheticPreset.Small,
            _ => null,
        },
        Seed = parseResult.GetValue(_seed),
        Skew = parseResult.GetValue(_skew),
        ModelId = parseResult.GetValue(_modelId),
        PlacementPath = parseResult.GetValue(_placement)?.FullName,
        Shards = parseResult.GetValue(_shards),
        SlotsPerShard = parseResult.GetValue(_slotsPerShard),
        Dtype = parseResult.GetValue(_dtype) == "bf16" ? ScalarType.BFloat16 : ScalarType.Float32,
        Device = parseResult.GetValue(_device)!,
    };

    private void Validate(CommandResult result)
    {
        var model = result.GetResult(_model) is not null;
        var synthetic = result.GetResult(_synthetic) is not null;
        if (model == synthetic)
        {
            result.AddError("give exactly one of --model DIR and --synthetic tiny|small");
        }

        if (model && (result.GetResult(_seed) is { Implicit: false } || result.GetResult(_skew) is { Implicit: false }))
        {
            result.AddError("--seed and --skew apply only to --synthetic models");
        }

        if (result.GetValue(_skew) is var skew && (!(skew >= 0) || double.IsInfinity(skew)))
        {
            result.AddError($"--skew must be a number of at least 0, got {skew.ToString(CultureInfo.InvariantCulture)}");
        }

        if (result.GetValue(_modelId) is { } id && string.IsNullOrWhiteSpace(id))
        {
            result.AddError("--model-id must not be empty");
        }

        var shards = result.GetValue(_shards);
        if ((result.GetResult(_placement) is not null) == (shards is not null))
        {
            result.AddError("give exactly one of --placement FILE and --shards N");
        }

        if (shards is < 1)
        {
            result.AddError($"--shards must be at least 1, got {shards}");
        }

        if (result.GetValue(_slotsPerShard) is { } slots)
        {
            if (shards is null)
            {
                result.AddError("--slots-per-shard applies only with --shards");
            }
            else if (slots < 1)
            {
                result.AddError($"--slots-per-shard must be at least 1, got {slots}");
            }
        }
    }
}
