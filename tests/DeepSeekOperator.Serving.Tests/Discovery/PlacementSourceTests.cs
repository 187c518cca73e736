using DeepSeekOperator.Serving.Discovery;
using DeepSeekOperator.Serving.Placement;

namespace DeepSeekOperator.Serving.Tests.Discovery;

public sealed class PlacementSourceTests : IDisposable
{
    private static readonly Moe.ModelConfig Model = PlacementGeneratorTests.Model(4);
    private readonly DirectoryInfo directory = Directory.CreateTempSubdirectory("placement-");
    private readonly RecordingLogger<PlacementSource> logger = new();

    private string FilePath => Path.Combine(directory.FullName, "placement.json");

    public void Dispose() => directory.Delete(recursive: true);

    private static string Placement(long revision, int shards = 2) => PlacementGenerator.Contiguous(Model, "tiny", revision, shards, 4 / shards).Serialize();

    /// <summary>A placement that parses but leaves expert 3 of layer 4 on no shard.</summary>
    private static string Invalid(long revision) => Placement(revision).Replace("\"experts\": [\n        [\n          0,\n          1\n        ],\n        [\n          2,\n          3\n        ]\n      ]\n    }\n  ]", "\"experts\": [\n        [\n          0,\n          1\n        ],\n        [\n          2,\n          2\n        ]\n      ]\n    }\n  ]", StringComparison.Ordinal);

    private PlacementSource Start() => new(new PlacementSourceOptions { Path = FilePath, Debounce = TimeSpan.FromMilliseconds(20) }, Model, logger);

    /// <summary>Lays the directory out as the kubelet does for a ConfigMap volume: the file links through <c>..data</c> to a timestamped directory.</summary>
    private async Task WriteAsConfigMapAsync(string version, string json)
    {
        var target = Path.Combine(directory.FullName, version);
        Directory.CreateDirectory(target);
        File.WriteAllText(Path.Combine(target, "placement.json"), json);
        var temporary = Path.Combine(directory.FullName, "..data_tmp");
        File.CreateSymbolicLink(temporary, version);

        // rename(2) over the old link, as the kubelet's atomic writer does (File.Move does not move a link to a directory).
        using (var move = System.Diagnostics.Process.Start("mv", ["-T", temporary, Path.Combine(directory.FullName, "..data")]))
        {
            await move.WaitForExitAsync();
            Assert.Equal(0, move.ExitCode);
        }

        if (!File.Exists(FilePath))
        {
            File.CreateSymbolicLink(FilePath, Path.Combine("..data", "placement.json"));
        }
    }

    [Fact]
    public void Constructor_ReadsAndValidatesTheFile()
    {
        File.WriteAllText(FilePath, Placement(1));

        using var source = Start();

        Assert.Equal(1, source.Current.Revision);
        Assert.Equal(Placement(1), source.Current.Serialize());
    }

    [Fact]
    public void Constructor_InvalidFile_FailsWithTheProblem()
    {
        File.WriteAllText(FilePath, Invalid(1));

        var error = Assert.Throws<PlacementException>(Start);

        Assert.Contains("layer 4: expert 3 held by no shard", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FileRewritten_NewPlacementIsPickedUp()
    {
        File.WriteAllText(FilePath, Placement(1));
        using var source = Start();

        File.WriteAllText(FilePath, Placement(2, shards: 4));
        var placement = await Eventually.MatchAsync(source.WatchAsync(CancellationToken.None), p => p.Revision == 2);

        Assert.Equal(4, placement.Shards);
        Assert.Same(placement, source.Current);
    }

    [Fact]
    public async Task ConfigMapDataSymlinkSwapped_NewPlacementIsPickedUp()
    {
        await WriteAsConfigMapAsync("..2025_01_01_00_00_00.000000001", Placement(1));
        using var source = Start();

        await WriteAsConfigMapAsync("..2025_01_01_00_01_00.000000002", Placement(2, shards: 4));
        var placement = await Eventually.MatchAsync(source.WatchAsync(CancellationToken.None), p => p.Revision == 2);

        Assert.Equal(4, placement.Shards);
    }

    [Fact]
    public async Task InvalidFileWritten_OldPlacementIsKeptAndTheReasonLogged_ThenAValidOneIsTaken()
    {
        File.WriteAllText(FilePath, Placement(1));
        using var source = Start();
        await using var updates = source.WatchAsync(CancellationToken.None).GetAsyncEnumerator();
        Assert.True(await updates.MoveNextAsync());

        File.WriteAllText(FilePath, Invalid(2));
        var rejected = await logger.WaitForAsync("held by no shard");
        File.WriteAllText(FilePath, "{ not json");
        await logger.WaitForAsync("placement JSON is not valid");
        var next = updates.MoveNextAsync();
        Assert.False(next.IsCompleted, "a rejected file was published");
        Assert.Equal(1, source.Current.Revision);
        File.WriteAllText(FilePath, Placement(3));

        Assert.True(await next.AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(3, updates.Current.Revision);
        Assert.Contains("keeping revision 1", rejected, StringComparison.Ordinal);
        Assert.Contains("layer 4: expert 3 held by no shard", rejected, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SameFileWrittenAgain_NoChangeIsPublished()
    {
        File.WriteAllText(FilePath, Placement(1));
        using var source = Start();
        await using var updates = source.WatchAsync(CancellationToken.None).GetAsyncEnumerator();
        Assert.True(await updates.MoveNextAsync());

        File.WriteAllText(FilePath, Placement(1));
        await logger.WaitForAsync("placement is unchanged");
        var next = updates.MoveNextAsync();
        Assert.False(next.IsCompleted, "an unchanged placement was published");
        File.WriteAllText(FilePath, Placement(2));

        Assert.True(await next.AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(2, updates.Current.Revision);
    }
}
