using System.Globalization;
using DeepSeekOperator.Moe;
using DeepSeekOperator.Serving.Discovery;
using DeepSeekOperator.Serving.Placement;

namespace DeepSeekOperator.E2E.Tests;

/// <summary>
/// Expert shards of the tiny synthetic model as real <c>dsop shard</c> processes on loopback, one or more
/// replicas per shard, all reading one placement file.
/// </summary>
internal sealed class ShardProcesses : IAsyncDisposable
{
    public const int Seed = 7;
    private readonly string _directory = Directory.CreateTempSubdirectory("dsop-e2e-").FullName;
    private readonly List<Replica> _replicas = [];

    private ShardProcesses(ExpertPlacement placement)
    {
        Placement = placement;
        PlacementPath = Path.Combine(_directory, "placement.json");
        File.WriteAllText(PlacementPath, placement.Serialize());
    }

    public static ModelConfig Config { get; } = SyntheticModel.Config(SyntheticPreset.Tiny);

    public ExpertPlacement Placement { get; }

    public string PlacementPath { get; }

    /// <summary>A replica: the process and the ports it serves on.</summary>
    public sealed record Replica(int Shard, DsopProcess Process, int GrpcPort, int MetricsPort)
    {
        public ShardEndpoint Endpoint => new("127.0.0.1", GrpcPort);
    }

    /// <summary>Starts <paramref name="replicas"/> processes for every shard of <paramref name="placement"/>, in parallel.</summary>
    public static async Task<ShardProcesses> StartAsync(ExpertPlacement placement, int replicas = 1)
    {
        var shards = new ShardProcesses(placement);
        try
        {
            await Task.WhenAll(
                from shard in Enumerable.Range(0, placement.Shards)
                from _ in Enumerable.Range(0, replicas)
                select shards.StartReplicaAsync(shard));
            return shards;
        }
        catch
        {
            await shards.DisposeAsync();
            throw;
        }
    }

    /// <summary>Every replica started so far, in start order.</summary>
    public IReadOnlyList<Replica> Replicas
    {
        get
        {
            lock (_replicas)
            {
                return [.. _replicas];
            }
        }
    }

    /// <summary>The running replicas of every shard, as a static resolver would be given them.</summary>
    public ShardEndpoints Endpoints => new(Enumerable.Range(0, Placement.Shards).Select(s => Replicas.Where(r => r.Shard == s && r.Process.IsRunning).Select(r => r.Endpoint)));

    /// <summary>The <c>--shard k=host:port,…</c> values of every replica, running or not (a router keeps dialling a dead one).</summary>
    public IEnumerable<string> ShardArguments => Enumerable.Range(0, Placement.Shards)
        .SelectMany(s => new[] { "--shard", $"{s}={string.Join(',', Replicas.Where(r => r.Shard == s).Select(r => $"127.0.0.1:{r.GrpcPort}"))}" });

    /// <summary>Starts a replica of <paramref name="shard"/>; on <paramref name="grpcPort"/> when given (a replica coming back).</summary>
    public async Task<Replica> StartReplicaAsync(int shard, int grpcPort = 0)
    {
        var (process, line) = await DsopProcess.StartAsync(
            [
                "shard",
                "--synthetic", "tiny",
                "--seed", Seed.ToString(CultureInfo.InvariantCulture),
                "--placement", PlacementPath,
                "--shard-index", shard.ToString(CultureInfo.InvariantCulture),
                "--bind", "127.0.0.1",
                "--port", grpcPort.ToString(CultureInfo.InvariantCulture),
                "--metrics-port", "0",
            ],
            "gRPC on");
        var ports = DsopProcess.Ports(line);
        var replica = new Replica(shard, process, ports[0], ports[1]);
        lock (_replicas)
        {
            _replicas.Add(replica);
        }

        return replica;
    }

    /// <summary>Everything every replica wrote, for a failing test's message.</summary>
    public string Output => string.Join("\n", Replicas.Select(r => $"--- shard {r.Shard} on {r.GrpcPort}:\n{r.Process.Output}"));

    public async ValueTask DisposeAsync()
    {
        foreach (var replica in Replicas)
        {
            await replica.Process.DisposeAsync();
        }

        Directory.Delete(_directory, recursive: true);
    }
}
