using System.Text.Json;
using DeepSeekOperator.Moe;
using DeepSeekOperator.Serving.Router;
using DeepSeekOperator.Serving.Tests.Discovery;
using static TorchSharp.torch;

namespace DeepSeekOperator.Serving.Tests.Router;

public class ExpertLoadTrackerTests
{
    private static readonly ModelConfig Config = SyntheticModel.Config(SyntheticPreset.Tiny);

    private static ExpertAssignments Assign(params int[] experts) =>
        new(experts.Length, [.. Enumerable.Range(0, experts.Length)], experts, [.. experts.Select(_ => 1f)]);

    private static long[] Counts(params (int Expert, long Count)[] counts)
    {
        var result = new long[Config.NRoutedExperts];
        foreach (var (expert, count) in counts)
        {
            result[expert] = count;
        }

        return result;
    }

    [Fact]
    public void Record_CountsEachAssignmentByLayerAndExpert()
    {
        var tracker = new ExpertLoadTracker(Config, TimeSpan.FromMinutes(1), new ManualTime());

        tracker.Record(1, Assign(0, 3, 3, 15));
        tracker.Record(2, Assign(3));
        tracker.Record(1, Assign(3));

        var snapshot = tracker.Snapshot();
        Assert.Equal(Config.MoeLayers, snapshot.Layers.Select(l => l.Layer));
        Assert.Equal(Counts((0, 1), (3, 3), (15, 1)), snapshot.Layers[0].Total);
        Assert.Equal(Counts((0, 1), (3, 3), (15, 1)), snapshot.Layers[0].Window);
        Assert.Equal(Counts((3, 1)), snapshot.Layers[1].Total);
        Assert.Equal(Counts(), snapshot.Layers[2].Total);
    }

    [Fact]
    public void Window_ForgetsCountsOlderThanTheWindowButTotalKeepsThem()
    {
        var time = new ManualTime();
        var tracker = new ExpertLoadTracker(Config, TimeSpan.FromSeconds(60), time);
        tracker.Record(1, Assign(2, 2));
        time.Advance(TimeSpan.FromSeconds(30));
        tracker.Record(1, Assign(5));

        Assert.Equal(Counts((2, 2), (5, 1)), tracker.Snapshot().Layers[0].Window);

        time.Advance(TimeSpan.FromSeconds(35));
        var later = tracker.Snapshot();
        Assert.Equal(Counts((5, 1)), later.Layers[0].Window);
        Assert.Equal(Counts((2, 2), (5, 1)), later.Layers[0].Total);

        time.Advance(TimeSpan.FromSeconds(60));
        tracker.Record(1, Assign(7));
        Assert.Equal(Counts((7, 1)), tracker.Snapshot().Layers[0].Window);
        Assert.Equal(Counts((2, 2), (5, 1), (7, 1)), tracker.Snapshot().Layers[0].Total);
    }

    [Fact]
    public async Task Record_FromManyThreadsAtOnce_LosesNoCount()
    {
        var tracker = new ExpertLoadTracker(Config, TimeSpan.FromMinutes(1));
        var batch = Assign([.. Enumerable.Range(0, Config.NRoutedExperts)]);

        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 2000; i++)
            {
                foreach (var layer in Config.MoeLayers)
                {
                    tracker.Record(layer, batch);
                }
            }
        })));

        foreach (var layer in tracker.Snapshot().Layers)
        {
            Assert.All(layer.Total, count => Assert.Equal(16000, count));
            Assert.All(layer.Window, count => Assert.Equal(16000, count));
        }
    }

    [Fact]
    public async Task RoutedEvents_CountEveryTokenTopKTimesInEveryMoeLayer()
    {
        using var model = MoeModel.FromWeights(Config, SyntheticModel.Weights(Config, seed: 3), ScalarType.Float32, CPU);
        var tracker = new ExpertLoadTracker(Config, TimeSpan.FromMinutes(1));
        model.Routed += tracker.Record;

        using var cache = model.CreateCache();
        using var logits = await model.ForwardAsync([new SequenceInput(cache, [256, 10, 11, 12, 13])]);

        Assert.All(tracker.Snapshot().Layers, layer => Assert.Equal(5 * Config.NumExpertsPerToken, layer.Total.Sum()));
    }

    [Fact]
    public void Snapshot_SerializesAsCamelCaseJson()
    {
        var tracker = new ExpertLoadTracker(Config, TimeSpan.FromSeconds(60), new ManualTime());
        tracker.Record(3, Assign(1));

        using var json = JsonDocument.Parse(JsonSerializer.Serialize(tracker.Snapshot()));

        var root = json.RootElement;
        Assert.Equal(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero), root.GetProperty("since").GetDateTimeOffset());
        Assert.Equal(60, root.GetProperty("windowSeconds").GetDouble());
        var layer = root.GetProperty("layers")[2];
        Assert.Equal(3, layer.GetProperty("layer").GetInt32());
        Assert.Equal(1, layer.GetProperty("total")[1].GetInt64());
        Assert.Equal(1, layer.GetProperty("window")[1].GetInt64());
    }

    [Fact]
    public void Record_DenseLayerOrUnknownExpert_IsRejected()
    {
        var tracker = new ExpertLoadTracker(Config, TimeSpan.FromMinutes(1));

        Assert.Equal("layer", Assert.Throws<ArgumentOutOfRangeException>(() => tracker.Record(0, Assign(1))).ParamName);
        Assert.Equal("assignments", Assert.Throws<ArgumentOutOfRangeException>(() => tracker.Record(1, Assign(Config.NRoutedExperts))).ParamName);
        Assert.Equal(Counts(), tracker.Snapshot().Layers[0].Total);
    }
}
