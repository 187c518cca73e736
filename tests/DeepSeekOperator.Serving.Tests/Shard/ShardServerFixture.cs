using System.Collections.Concurrent;
using System.Net;
using DeepSeekOperator.Moe;
using DeepSeekOperator.Serving.Observability;
using DeepSeekOperator.Serving.Placement;
using DeepSeekOperator.Serving.Protocol;
using DeepSeekOperator.Serving.Shard;
using DeepSeekOperator.Serving.Tensors;
using Google.Protobuf;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Prometheus;
using static TorchSharp.torch;

namespace DeepSeekOperator.Serving.Tests.Shard;

/// <summary>
/// Shard 1 of a Contiguous placement of the tiny synthetic model over 4 shards, served by an in-process Kestrel
/// on a free loopback port (HTTP/2 cleartext), and a reference executor holding every expert of the same model.
/// </summary>
public sealed class ShardServerFixture : IAsyncLifetime, IDisposable
{
    public const int ShardIndex = 1;
    public const int Seed = 11;
    public const long Revision = 7;
    public const string ModelId = "tiny-test";

    private readonly ShardRevisions _revisions;
    private WebApplication? _app;

    public ShardServerFixture()
    {
        Locator = new ExpertLocator(PlacementGenerator.Contiguous(Config, ModelId, Revision, shards: 4, slotsPerShard: 4), Config);
        _revisions = new ShardRevisions(new ExpertShardOptions { ShardIndex = ShardIndex, Config = Config });
        _revisions.Add(Locator, ShardExperts.Synthetic(Config, Seed, Locator, ShardIndex));
        var weights = SyntheticModel.Weights(Config, Seed);
        AllExperts = new LocalExpertExecutor(Config, Config.MoeLayers.ToDictionary(
            layer => layer,
            layer => (IReadOnlyDictionary<int, ExpertWeights>)Enumerable.Range(0, Config.NRoutedExperts).ToDictionary(
                expert => expert,
                expert => new ExpertWeights(
                    weights[ModelTensors.ExpertTensor(layer, expert, "gate_proj")].clone(),
                    weights[ModelTensors.ExpertTensor(layer, expert, "up_proj")].clone(),
                    weights[ModelTensors.ExpertTensor(layer, expert, "down_proj")].clone()))));
        foreach (var tensor in weights.Values)
        {
            tensor.Dispose();
        }
    }

    public static ModelConfig Config { get; } = SyntheticModel.Config(SyntheticPreset.Tiny);

    public ExpertLocator Locator { get; }

    /// <summary>Every routed expert of the model, run in this process: what the shard's answers are checked against.</summary>
    public LocalExpertExecutor AllExperts { get; }

    public Uri Address { get; private set; } = null!;

    /// <summary>Every log entry at warning level or above, from the server.</summary>
    public ConcurrentQueue<(LogLevel Level, string Category, string Message)> Logged { get; } = new();

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2));
        builder.Logging.ClearProviders().AddProvider(new RecordingLoggerProvider(Logged));
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(_revisions);
        builder.Services.AddSingleton(new ShardMetrics(Metrics.NewCustomRegistry()));
        builder.Services.AddSingleton<ExpertShardService>();
        _app = builder.Build();
        _app.MapGrpcService<ExpertShardService>();
        await _app.StartAsync();
        Address = new Uri(_app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    /// <summary>Frees the experts, once the server has stopped (xUnit disposes after <see cref="DisposeAsync"/>).</summary>
    public void Dispose()
    {
        _revisions.Dispose();
        AllExperts.Dispose();
    }

    public GrpcChannel Channel() => GrpcChannel.ForAddress(Address);

    /// <summary>A valid request for <paramref name="hidden"/> (<c>[tokens, H]</c> row-major) and the given assignments.</summary>
    public static ForwardRequest Request(ulong step, int layer, float[] hidden, int[] tokens, int[] experts, float[] weights, TensorDtype dtype = TensorDtype.Float32) => new()
    {
        StepId = step,
        Layer = (uint)layer,
        PlacementRevision = Revision,
        Dtype = dtype,
        HiddenSize = (uint)Config.HiddenSize,
        NumTokens = (uint)(hidden.Length / Config.HiddenSize),
        Hidden = ByteString.CopyFrom(TensorBytes.FromSingles(hidden, dtype)),
        Token = { tokens.Select(t => (uint)t) },
        Expert = { experts.Select(e => (uint)e) },
        Weight = { weights },
    };

    /// <summary>
    /// <paramref name="tokenCount"/> random hidden states and, for each token, zero to three distinct experts
    /// of those the shard holds in <paramref name="layer"/>, with random weights.
    /// </summary>
    public (float[] Hidden, int[] Tokens, int[] Experts, float[] Weights) RandomStep(int seed, int layer, int tokenCount)
    {
        var random = new Random(seed);
        var hidden = Enumerable.Range(0, tokenCount * Config.HiddenSize).Select(_ => (float)((random.NextDouble() * 4) - 2)).ToArray();
        var held = Locator.ExpertsOn(ShardIndex, layer);
        List<int> tokens = [], experts = [];
        List<float> weights = [];
        for (var t = 0; t < tokenCount; t++)
        {
            foreach (var expert in held.OrderBy(_ => random.Next()).Take(random.Next(4)))
            {
                tokens.Add(t);
                experts.Add(expert);
                weights.Add((float)random.NextDouble());
            }
        }

        return (hidden, [.. tokens], [.. experts], [.. weights]);
    }

    /// <summary>What every expert of the model, in this process, gives for the same step.</summary>
    public float[] Expected(int layer, float[] hidden, int[] tokens, int[] experts, float[] weights)
    {
        var count = hidden.Length / Config.HiddenSize;
        using var input = tensor(hidden, [count, Config.HiddenSize]);
        using var output = AllExperts.Forward(layer, input, new ExpertAssignments(count, tokens, experts, weights));
        return output.data<float>().ToArray();
    }

    internal sealed class RecordingLoggerProvider(ConcurrentQueue<(LogLevel, string, string)> entries) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Recorder(categoryName, entries);

        public void Dispose()
        {
        }

        private sealed class Recorder(string category, ConcurrentQueue<(LogLevel, string, string)> entries) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (IsEnabled(logLevel))
                {
                    entries.Enqueue((logLevel, category, formatter(state, exception) + (exception is null ? "" : $": {exception}")));
                }
            }
        }
    }
}
