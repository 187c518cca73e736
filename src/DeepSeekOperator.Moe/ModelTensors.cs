namespace DeepSeekOperator.Moe;

/// <summary>What part of the model a tensor belongs to.</summary>
public enum TensorKind
{
    /// <summary><c>model.embed_tokens.weight</c>.</summary>
    Embedding,

    /// <summary>An attention projection or its normalisation.</summary>
    Attention,

    /// <summary>A layer's input or post-attention normalisation, or the final one.</summary>
    Norm,

    /// <summary>The MLP of a dense layer.</summary>
    DenseMlp,

    /// <summary>An MoE layer's router weight or correction bias.</summary>
    Gate,

    /// <summary>An MoE layer's shared experts.</summary>
    SharedExpert,

    /// <summary>An MoE layer's routed expert.</summary>
    RoutedExpert,

    /// <summary><c>lm_head.weight</c>.</summary>
    LmHead,
}

/// <summary>A tensor the architecture requires, with the shape <c>config.json</c> implies.</summary>
/// <param name="Name">The Hugging Face name.</param>
/// <param name="Shape">The shape.</param>
/// <param name="Kind">Where it belongs.</param>
/// <param name="Layer">Its layer, when in one.</param>
/// <param name="Expert">Its routed expert, when one.</param>
public sealed record TensorSpec(string Name, IReadOnlyList<long> Shape, TensorKind Kind, int? Layer = null, int? Expert = null)
{
    /// <summary>The number of elements.</summary>
    public long Elements => Shape.Aggregate(1L, (product, dim) => product * dim);
}

/// <summary>The tensors of a DeepSeek-V3-architecture checkpoint, named as Hugging Face names them.</summary>
public static class ModelTensors
{
    /// <summary>The name of a layer's tensor, e.g. <c>model.layers.3.mlp.gate.weight</c>.</summary>
    public static string LayerTensor(int layer, string suffix) => $"model.layers.{layer}.{suffix}";

    /// <summary>The name of a routed expert's projection (<c>gate_proj</c>, <c>up_proj</c> or <c>down_proj</c>).</summary>
    public static string ExpertTensor(int layer, int expert, string projection) => $"model.layers.{layer}.mlp.experts.{expert}.{projection}.weight";

    /// <summary>Every tensor the configuration requires, in layer order (the multi-token-prediction layer excluded).</summary>
    public static IEnumerable<TensorSpec> Expected(ModelConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        long h = config.HiddenSize, v = config.VocabSize, heads = config.NumAttentionHeads;
        yield return new("model.embed_tokens.weight", [v, h], TensorKind.Embedding);
        for (var layer = 0; layer < config.NumHiddenLayers; layer++)
        {
            TensorSpec Spec(string suffix, long[] shape, TensorKind kind) => new(LayerTensor(layer, suffix), shape, kind, layer);
            yield return Spec("input_layernorm.weight", [h], TensorKind.Norm);
            if (config.QLoraRank is { } qLora)
            {
                yield return Spec("self_attn.q_a_proj.weight", [qLora, h], TensorKind.Attention);
                yield return Spec("self_attn.q_a_layernorm.weight", [qLora], TensorKind.Attention);
                yield return Spec("self_attn.q_b_proj.weight", [heads * config.QkHeadDim, qLora], TensorKind.Attention);
            }
            else
            {
                yield return Spec("self_attn.q_proj.weight", [heads * config.QkHeadDim, h], TensorKind.Attention);
            }

            yield return Spec("self_attn.kv_a_proj_with_mqa.weight", [config.KvLoraRank + config.QkRopeHeadDim, h], TensorKind.Attention);
            yield return Spec("self_attn.kv_a_layernorm.weight", [config.KvLoraRank], TensorKind.Attention);
            yield return Spec("self_attn.kv_b_proj.weight", [heads * (config.QkNopeHeadDim + config.VHeadDim), config.KvLoraRank], TensorKind.Attention);
            yield return Spec("self_attn.o_proj.weight", [h, heads * config.VHeadDim], TensorKind.Attention);
            yield return Spec("post_attention_layernorm.weight", [h], TensorKind.Norm);
            if (!config.IsMoeLayer(layer))
            {
                long i = config.IntermediateSize;
                yield return Spec("mlp.gate_proj.weight", [i, h], TensorKind.DenseMlp);
                yield return Spec("mlp.up_proj.weight", [i, h], TensorKind.DenseMlp);
                yield return Spec("mlp.down_proj.weight", [h, i], TensorKind.DenseMlp);
                continue;
            }

            yield return Spec("mlp.gate.weight", [config.NRoutedExperts, h], TensorKind.Gate);
            if (config.TopKMethod == TopKMethod.NoAuxTc)
            {
                yield return Spec("mlp.gate.e_score_correction_bias", [config.NRoutedExperts], TensorKind.Gate);
            }

            if (config.NSharedExperts > 0)
            {
                long s = config.SharedIntermediateSize;
                yield return Spec("mlp.shared_experts.gate_proj.weight", [s, h], TensorKind.SharedExpert);
                yield return Spec("mlp.shared_experts.up_proj.weight", [s, h], TensorKind.SharedExpert);
                yield return Spec("mlp.shared_experts.down_proj.weight", [h, s], TensorKind.SharedExpert);
            }

            long m = config.MoeIntermediateSize;
            for (var expert = 0; expert < config.NRoutedExperts; expert++)
            {
                yield return new(ExpertTensor(layer, expert, "gate_proj"), [m, h], TensorKind.RoutedExpert, layer, expert);
                yield return new(ExpertTensor(layer, expert, "up_proj"), [m, h], TensorKind.RoutedExpert, layer, expert);
                yield return new(ExpertTensor(layer, expert, "down_proj"), [h, m], TensorKind.RoutedExpert, layer, expert);
            }
        }

        yield return new("model.norm.weight", [h], TensorKind.Norm);
        if (!config.TieWordEmbeddings)
        {
            yield return new("lm_head.weight", [v, h], TensorKind.LmHead);
        }
    }
}
