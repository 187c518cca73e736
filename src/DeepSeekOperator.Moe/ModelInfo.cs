using System.Globalization;
using System.Text;
using DeepSeekOperator.Moe.Safetensors;

namespace DeepSeekOperator.Moe;

/// <summary>A model's parameter counts.</summary>
/// <param name="Total">Every parameter (the multi-token-prediction layer excluded).</param>
/// <param name="RoutedExperts">The routed experts' share of <paramref name="Total"/>.</param>
/// <param name="ActivePerToken">What one token computes with: everything but the routed experts, plus <c>num_experts_per_tok</c> of them per MoE layer.</param>
/// <param name="Embedding">The embedding matrix (and the output head when it is separate).</param>
public sealed record ParameterCounts(long Total, long RoutedExperts, long ActivePerToken, long Embedding);

/// <summary>Summaries of a model for people.</summary>
public static class ModelInfo
{
    /// <summary>Counts parameters from the architecture.</summary>
    public static ParameterCounts Parameters(ModelConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        long total = 0, routed = 0, embedding = 0;
        foreach (var spec in ModelTensors.Expected(config))
        {
            total += spec.Elements;
            if (spec.Kind == TensorKind.RoutedExpert)
            {
                routed += spec.Elements;
            }
            else if (spec.Kind is TensorKind.Embedding or TensorKind.LmHead)
            {
                embedding += spec.Elements;
            }
        }

        var perExpert = 3L * config.HiddenSize * config.MoeIntermediateSize;
        var active = total - routed + (config.MoeLayers.Count * config.NumExpertsPerToken * perExpert);
        return new ParameterCounts(total, routed, active, embedding);
    }

    /// <summary>A multi-line description: architecture, attention, experts, parameters and what the checkpoint stores.</summary>
    public static string Describe(ModelConfig config, SafetensorsCheckpoint? checkpoint = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        var c = config;
        var parameters = Parameters(c);
        var moeLayers = c.MoeLayers.Count;
        var routing = c.TopKMethod switch
        {
            TopKMethod.NoAuxTc => "noaux_tc",
            TopKMethod.Greedy => "greedy",
            _ => "group_limited_greedy",
        };
        var rope = c.RopeScaling is { } s ? string.Create(CultureInfo.InvariantCulture, $"{s.Type} ×{s.Factor:0.##} from {s.OriginalMaxPositionEmbeddings}") : "unscaled";
        var text = new StringBuilder();
        void Line(string label, string value) => text.Append(CultureInfo.InvariantCulture, $"{label,-16}{value}\n");
        Line("architecture", $"{c.NumHiddenLayers} layers ({c.NumHiddenLayers - moeLayers} dense, {moeLayers} MoE), hidden {c.HiddenSize}, vocabulary {c.VocabSize}, context {c.MaxPositionEmbeddings}");
        Line("attention", $"MLA, {c.NumAttentionHeads} heads, q_lora {(c.QLoraRank?.ToString(CultureInfo.InvariantCulture) ?? "none")}, kv_lora {c.KvLoraRank}, head {c.QkNopeHeadDim}+{c.QkRopeHeadDim} (rope), v {c.VHeadDim}, rope {rope}");
        Line("kv cache", $"{c.KvLoraRank + c.QkRopeHeadDim} values per token and layer");
        Line("experts", $"{c.NRoutedExperts} routed, top-{c.NumExpertsPerToken} by {routing} ({(c.ScoringFunction == ScoringFunction.Sigmoid ? "sigmoid" : "softmax")}), {c.NGroup} groups keeping {c.TopKGroup}, {c.NSharedExperts} shared, intermediate {c.MoeIntermediateSize}");
        Line("parameters", $"{Count(parameters.Total)} total, {Count(parameters.RoutedExperts)} in routed experts, {Count(parameters.ActivePerToken)} active per token");
        if (checkpoint is not null)
        {
            var files = checkpoint.Tensors.Select(t => t.File).Distinct().Count();
            var byDtype = checkpoint.Tensors.GroupBy(t => t.Dtype).OrderBy(g => g.Key.ToString(), StringComparer.Ordinal)
                .Select(g => $"{g.Key} {Size(g.Sum(t => t.ByteLength))} ({g.Count()} tensors)");
            Line("checkpoint", $"{files} file{(files == 1 ? "" : "s")}, {checkpoint.Tensors.Count} tensors: {string.Join(", ", byDtype)}");
        }

        return text.ToString();
    }

    private static string Count(long n) => n switch
    {
        >= 1_000_000_000 => string.Create(CultureInfo.InvariantCulture, $"{n / 1e9:0.00}B"),
        >= 1_000_000 => string.Create(CultureInfo.InvariantCulture, $"{n / 1e6:0.00}M"),
        >= 1_000 => string.Create(CultureInfo.InvariantCulture, $"{n / 1e3:0.0}K"),
        _ => n.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>A byte count for people: <c>812 B</c>, <c>1.8 MiB</c>, <c>1.25 GiB</c>.</summary>
    public static string Size(long bytes) => bytes switch
    {
        >= 1L << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):0.00} GiB"),
        >= 1L << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):0.0} MiB"),
        >= 1L << 10 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.0} KiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes} B"),
    };
}
