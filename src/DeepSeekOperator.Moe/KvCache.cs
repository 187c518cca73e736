using static TorchSharp.torch;

namespace DeepSeekOperator.Moe;

/// <summary>
/// The attention cache of one sequence: for every layer and token, the compressed key/value latent
/// (<c>kv_a_layernorm(c_kv)</c>, <c>kv_lora_rank</c> wide) and the rotated shared rope key
/// (<c>qk_rope_head_dim</c> wide) — MLA's reason for being, a few hundred numbers per token and layer
/// instead of two per head dimension. Grows by doubling up to <c>max_position_embeddings</c>.
/// A forward pass that fails leaves <see cref="Length"/> unchanged, so the sequence can be retried.
/// </summary>
public sealed class KvCache : IDisposable
{
    private readonly ModelConfig _config;
    private readonly Tensor[] _latent;
    private readonly Tensor[] _rope;
    private bool _disposed;

    internal KvCache(object owner, ModelConfig config, ScalarType dtype, Device device, int initialCapacity)
    {
        Owner = owner;
        _config = config;
        Dtype = dtype;
        Device = device;
        Capacity = Math.Clamp(initialCapacity, 1, config.MaxPositionEmbeddings);
        _latent = new Tensor[config.NumHiddenLayers];
        _rope = new Tensor[config.NumHiddenLayers];
        for (var layer = 0; layer < config.NumHiddenLayers; layer++)
        {
            _latent[layer] = empty([Capacity, config.KvLoraRank], dtype, device).DetachFromDisposeScope();
            _rope[layer] = empty([Capacity, config.QkRopeHeadDim], dtype, device).DetachFromDisposeScope();
        }
    }

    /// <summary>The tokens cached so far: the position the next token takes.</summary>
    public int Length { get; private set; }

    /// <summary>How many tokens fit before the cache grows.</summary>
    public int Capacity { get; private set; }

    /// <summary>The dtype of the cached values.</summary>
    public ScalarType Dtype { get; }

    /// <summary>The device the cache lives on.</summary>
    public Device Device { get; }

    /// <summary>Bytes held for the tokens cached so far.</summary>
    public long Bytes => (long)Length * _config.NumHiddenLayers * (_config.KvLoraRank + _config.QkRopeHeadDim) * Internal.Ops.ElementSize(Dtype);

    /// <summary>The model that created the cache: a cache holds that model's keys and is meaningless to another.</summary>
    internal object Owner { get; }

    /// <summary>Makes room for <paramref name="count"/> more tokens.</summary>
    /// <exception cref="InvalidOperationException">The sequence would exceed <c>max_position_embeddings</c>.</exception>
    internal void Reserve(int count)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var needed = (long)Length + count;
        if (needed > _config.MaxPositionEmbeddings)
        {
            throw new InvalidOperationException($"the sequence would reach {needed} tokens, beyond max_position_embeddings ({_config.MaxPositionEmbeddings})");
        }

        if (needed <= Capacity)
        {
            return;
        }

        var capacity = (int)Math.Min(Math.Max(needed, 2L * Capacity), _config.MaxPositionEmbeddings);
        for (var layer = 0; layer < _latent.Length; layer++)
        {
            _latent[layer] = Grow(_latent[layer], capacity);
            _rope[layer] = Grow(_rope[layer], capacity);
        }

        Capacity = capacity;
    }

    private Tensor Grow(Tensor old, int capacity)
    {
        var grown = empty([capacity, old.shape[1]], Dtype, Device).DetachFromDisposeScope();
        if (Length > 0)
        {
            using var target = grown.narrow(0, 0, Length);
            using var source = old.narrow(0, 0, Length);
            target.copy_(source);
        }

        old.Dispose();
        return grown;
    }

    /// <summary>
    /// Writes a layer's new tokens after the committed ones and returns views of the whole sequence so far
    /// (<c>[Length + n, kv_lora_rank]</c>, <c>[Length + n, rope]</c>). <see cref="Reserve"/> must have made room.
    /// </summary>
    internal (Tensor Latent, Tensor Rope) Write(int layer, Tensor latent, Tensor rope)
    {
        var count = latent.shape[0];
        using (var target = _latent[layer].narrow(0, Length, count))
        {
            target.copy_(latent);
        }

        using (var target = _rope[layer].narrow(0, Length, count))
        {
            target.copy_(rope);
        }

        return (_latent[layer].narrow(0, 0, Length + count), _rope[layer].narrow(0, 0, Length + count));
    }

    /// <summary>Makes the tokens written by the last forward pass part of the sequence.</summary>
    internal void Commit(int count) => Length += count;

    /// <summary>Frees the cache.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (var tensor in _latent.Concat(_rope))
        {
            tensor.Dispose();
        }
    }
}
