using DeepSeekOperator.Moe;
using DeepSeekOperator.Moe.Tokenization;
using DeepSeekOperator.Serving.Observability;
using DeepSeekOperator.Serving.Router;

namespace DeepSeekOperator.Serving.OpenAi;

/// <summary>What the OpenAI-compatible API serves and with what it generates.</summary>
public sealed record OpenAiApiOptions
{
    /// <summary>The one model served: the id <c>GET /v1/models</c> lists and every request's <c>model</c> must name.</summary>
    public required string ModelId { get; init; }

    /// <summary>Generates the tokens of every request (the router's continuous-batching scheduler).</summary>
    public required ITokenGenerator Generator { get; init; }

    /// <summary>The model's tokenizer: prompts are encoded and generated tokens decoded with it.</summary>
    public required ITextTokenizer Tokenizer { get; init; }

    /// <summary>The model's configuration: its context length bounds <c>max_tokens</c>.</summary>
    public required ModelConfig Config { get; init; }

    /// <summary>Where requests, time to first token and inter-token latency are counted.</summary>
    public required RouterMetrics Metrics { get; init; }

    /// <summary>The bearer key every request must present; <see langword="null"/> for none.</summary>
    public string? ApiKey { get; init; }

    /// <summary>The clock of <c>created</c> timestamps and of the latency metrics.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;
}
