using TorchSharp;
using static TorchSharp.torch;

namespace DeepSeekOperator.Moe.Internal;

/// <summary>One sequence's share of a batch: rows <c>[Offset, Offset + Count)</c>, appended to its cache.</summary>
internal readonly record struct Segment(KvCache Cache, int Offset, int Count);

/// <summary>
/// Multi-head latent attention. Keys and values are never materialised per head: the query's non-rotary
/// part is absorbed into <c>kv_b_proj</c>'s key half (<c>q·W_UKᵀ</c>), scores are taken against the cached
/// latent directly, and the value half of <c>kv_b_proj</c> is applied after the weighted sum — the same
/// arithmetic as decompressing, with work and memory proportional to <c>kv_lora_rank</c>.
/// </summary>
internal sealed class MlaAttention : IDisposable
{
    /// <summary>
    /// The epsilon of q_a_layernorm and kv_a_layernorm: Hugging Face's modelling code and DeepSeek's
    /// inference code both build these norms with their default 1e-6, not rms_norm_eps.
    /// </summary>
    public const double LatentNormEps = 1e-6;

    private readonly ModelConfig _config;
    private readonly int _layer;
    private readonly Tensor? _qProj;
    private readonly Tensor? _qA;
    private readonly Tensor? _qANorm;
    private readonly Tensor? _qB;
    private readonly Tensor _kvA;
    private readonly Tensor _kvANorm;
    private readonly Tensor _keyAbsorb;   // [heads, nope, kv_lora]
    private readonly Tensor _valueAbsorb; // [heads, v, kv_lora]
    private readonly Tensor _o;

    public MlaAttention(ModelConfig config, int layer, Func<string, Tensor> take)
    {
        _config = config;
        _layer = layer;
        var prefix = $"model.layers.{layer}.self_attn.";
        if (config.QLoraRank is null)
        {
            _qProj = take(prefix + "q_proj.weight");
        }
        else
        {
            _qA = take(prefix + "q_a_proj.weight");
            _qANorm = take(prefix + "q_a_layernorm.weight");
            _qB = take(prefix + "q_b_proj.weight");
        }

        _kvA = take(prefix + "kv_a_proj_with_mqa.weight");
        _kvANorm = take(prefix + "kv_a_layernorm.weight");
        using (var kvB = take(prefix + "kv_b_proj.weight"))
        using (var perHead = kvB.view(config.NumAttentionHeads, config.QkNopeHeadDim + config.VHeadDim, config.KvLoraRank))
        {
            _keyAbsorb = perHead.narrow(1, 0, config.QkNopeHeadDim).contiguous().DetachFromDisposeScope();
            _valueAbsorb = perHead.narrow(1, config.QkNopeHeadDim, config.VHeadDim).contiguous().DetachFromDisposeScope();
        }

        _o = take(prefix + "o_proj.weight");
    }

    /// <summary>Attends each segment's tokens to its cached sequence plus themselves (causally), caching them.</summary>
    /// <param name="x">The normalised hidden states of the batch, <c>[T, H]</c>.</param>
    /// <param name="cos">Rotary cos of each token's position, <c>[T, rope/2]</c>.</param>
    /// <param name="sin">Rotary sin of each token's position, <c>[T, rope/2]</c>.</param>
    /// <param name="segments">The sequences of the batch, in row order.</param>
    public Tensor Forward(Tensor x, Tensor cos, Tensor sin, IReadOnlyList<Segment> segments)
    {
        using var scope = NewDisposeScope();
        var c = _config;
        var tokens = x.shape[0];
        var heads = c.NumAttentionHeads;

        var q = _qProj is not null
            ? nn.functional.linear(x, _qProj)
            : nn.functional.linear(Ops.RmsNorm(nn.functional.linear(x, _qA!), _qANorm!, LatentNormEps), _qB!);
        q = q.view(tokens, heads, c.QkHeadDim);
        var qNope = q.narrow(2, 0, c.QkNopeHeadDim);
        var qRope = RotaryEmbedding.Apply(q.narrow(2, c.QkNopeHeadDim, c.QkRopeHeadDim), cos, sin);

        var kv = nn.functional.linear(x, _kvA);
        var latent = Ops.RmsNorm(kv.narrow(1, 0, c.KvLoraRank), _kvANorm, LatentNormEps);
        var kRope = RotaryEmbedding.Apply(kv.narrow(1, c.KvLoraRank, c.QkRopeHeadDim).unsqueeze(1), cos, sin).squeeze(1);

        // [heads, T, kv_lora]: the query's non-rotary part expressed in the latent space.
        var qLatent = qNope.transpose(0, 1).matmul(_keyAbsorb);
        var qRopeByHead = qRope.transpose(0, 1);
        var contexts = new Tensor[segments.Count];

        // Scalars held here until the loop ends: TorchSharp's implicit conversions make a Scalar that nothing keeps
        // alive during the native call, so a collection under load could free it mid-call (seen as a failed toFloat).
        using var softmaxScale = c.SoftmaxScale.ToScalar();
        for (var s = 0; s < segments.Count; s++)
        {
            var (cache, offset, count) = segments[s];
            var start = cache.Length;
            var (keysLatent, keysRope) = cache.Write(_layer, latent.narrow(0, offset, count), kRope.narrow(0, offset, count));
            var scores = qLatent.narrow(1, offset, count).matmul(keysLatent.t())
                .add_(qRopeByHead.narrow(1, offset, count).matmul(keysRope.t()), Scalars.One)
                .to(ScalarType.Float32)
                .mul_(softmaxScale);
            if (count > 1)
            {
                var length = start + count;
                var future = arange(length, device: x.device).unsqueeze(0) > arange(start, length, device: x.device).unsqueeze(1);
                scores = scores.masked_fill_(future, Scalars.NegativeInfinity);
            }

            contexts[s] = scores.softmax(-1).to(x.dtype).matmul(keysLatent);
        }

        // [heads, T, kv_lora] → [heads, T, v] → [T, heads·v]
        var context = (segments.Count == 1 ? contexts[0] : cat(contexts, 1)).matmul(_valueAbsorb.transpose(1, 2));
        var output = nn.functional.linear(context.transpose(0, 1).reshape(tokens, heads * c.VHeadDim), _o);
        return output.MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        foreach (var tensor in new[] { _qProj, _qA, _qANorm, _qB, _kvA, _kvANorm, _keyAbsorb, _valueAbsorb, _o })
        {
            tensor?.Dispose();
        }
    }
}
