using DeepSeekOperator.Controller.Placement;
using DeepSeekOperator.Serving.Router;

namespace DeepSeekOperator.Controller.Tests.Placement;

public class ExpertLoadTests
{
    private static readonly DateTimeOffset Since = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Constructor_LayersOutOfOrder_KeptAscending()
    {
        var load = new ExpertLoad([new LayerLoad(4, [1, 2]), new LayerLoad(2, [3, 4])]);
        Assert.Equal([2, 4], load.Layers);
        Assert.Equal(2, load.Experts);
        Assert.Equal([3.0, 4.0], load.ForLayer(2));
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(-1.0)]
    [InlineData(double.PositiveInfinity)]
    public void Constructor_BadValue_RejectedNamingLayerAndExpert(double value)
    {
        var e = Assert.Throws<ArgumentException>(() => new ExpertLoad([new LayerLoad(2, [1, 1]), new LayerLoad(4, [1, value])]));
        Assert.Equal("layers", e.ParamName);
        Assert.Contains("layer 4 expert 1", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_LayersWithDifferentExpertCounts_RejectedNamingBoth()
    {
        var e = Assert.Throws<ArgumentException>(() => new ExpertLoad([new LayerLoad(2, [1, 1]), new LayerLoad(4, [1, 1, 1])]));
        Assert.Contains("layer 4 has 3 experts, layer 2 has 2", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_LayerTwice_Rejected()
    {
        var e = Assert.Throws<ArgumentException>(() => new ExpertLoad([new LayerLoad(2, [1]), new LayerLoad(2, [1])]));
        Assert.Contains("layer 2 is listed more than once", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_NoLayers_Rejected() =>
        Assert.Equal("layers", Assert.Throws<ArgumentException>(() => new ExpertLoad([])).ParamName);

    [Fact]
    public void ForLayer_UnknownLayer_RejectedNamingLayer() =>
        Assert.Equal("layer", Assert.Throws<ArgumentOutOfRangeException>(() => new ExpertLoad([new LayerLoad(2, [1])]).ForLayer(3)).ParamName);

    [Fact]
    public void FromRouters_WindowHasTokens_SumsEveryRoutersWindow()
    {
        var load = ExpertLoad.FromRouters("m", 3, new Dictionary<string, ExpertLoadReport>
        {
            ["router-a"] = Report("m", (1, [10, 10, 10], [1, 0, 2]), (2, [5, 5, 5], [0, 0, 0])),
            ["router-b"] = Report("m", (1, [7, 7, 7], [0, 0, 0]), (2, [1, 1, 1], [3, 0, 1])),
        });
        Assert.Equal([1, 2], load.Layers);
        Assert.Equal([1.0, 0, 2], load.ForLayer(1));
        Assert.Equal([3.0, 0, 1], load.ForLayer(2));
    }

    [Fact]
    public void FromRouters_WindowsEmpty_SumsTotals()
    {
        var load = ExpertLoad.FromRouters("m", 2, new Dictionary<string, ExpertLoadReport>
        {
            ["router-a"] = Report("m", (1, [10, 4], [0, 0])),
            ["router-b"] = Report("m", (1, [1, 2], [0, 0])),
        });
        Assert.Equal([11.0, 6], load.ForLayer(1));
    }

    [Fact]
    public void FromRouters_OtherModel_RejectedNamingRouterAndModelId()
    {
        var e = Assert.Throws<ExpertLoadException>(() => ExpertLoad.FromRouters("m", 2, new Dictionary<string, ExpertLoadReport>
        {
            ["router-a"] = Report("m", (1, [1, 1], [0, 0])),
            ["router-b"] = Report("other", (1, [1, 1], [0, 0])),
        }));
        Assert.Equal("router router-b: modelId is 'other', expected 'm'", e.Message);
    }

    [Theory]
    [InlineData("total")]
    [InlineData("window")]
    public void FromRouters_OtherExpertCount_RejectedNamingRouterLayerAndField(string field)
    {
        var report = field == "total" ? Report("m", (1, [1, 1, 1], [0, 0])) : Report("m", (1, [1, 1], [0]));
        var e = Assert.Throws<ExpertLoadException>(() => ExpertLoad.FromRouters("m", 2, new Dictionary<string, ExpertLoadReport> { ["router-a"] = report }));
        Assert.Contains($"router router-a: layer 1 {field} has", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromRouters_NegativeCount_RejectedNamingRouterAndEntry()
    {
        var e = Assert.Throws<ExpertLoadException>(() => ExpertLoad.FromRouters("m", 2, new Dictionary<string, ExpertLoadReport> { ["router-a"] = Report("m", (1, [1, -4], [0, 0])) }));
        Assert.Contains("router router-a: layer 1 total[1] is negative", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromRouters_RoutersWithDifferentLayers_RejectedNamingBoth()
    {
        var e = Assert.Throws<ExpertLoadException>(() => ExpertLoad.FromRouters("m", 1, new Dictionary<string, ExpertLoadReport>
        {
            ["router-a"] = Report("m", (1, [1], [0]), (2, [1], [0])),
            ["router-b"] = Report("m", (1, [1], [0])),
        }));
        Assert.Equal("router router-b: layers [1] differ from router router-a's [1, 2]", e.Message);
    }

    [Fact]
    public void FromRouters_NoRouters_Rejected() =>
        Assert.Throws<ExpertLoadException>(() => ExpertLoad.FromRouters("m", 1, new Dictionary<string, ExpertLoadReport>()));

    [Fact]
    public void Parse_RouterAnswer_ReadsEveryField()
    {
        var report = ExpertLoadReport.Parse("router-a", """
            {"modelId":"m","placementRevision":3,"since":"2026-01-01T00:00:00+00:00","windowSeconds":60,
             "layers":[{"layer":1,"total":[5,6],"window":[1,2]}]}
            """);
        Assert.Equal(("m", 3L, Since, 60.0), (report.ModelId, report.PlacementRevision, report.Since, report.WindowSeconds));
        Assert.Equal(1, Assert.Single(report.Layers).Layer);
        Assert.Equal([5L, 6], report.Layers[0].Total);
        Assert.Equal([1L, 2], report.Layers[0].Window);
    }

    [Fact]
    public void Parse_MissingField_RejectedNamingRouterAndField()
    {
        var e = Assert.Throws<ExpertLoadException>(() => ExpertLoadReport.Parse("router-a", """
            {"modelId":"m","placementRevision":3,"since":"2026-01-01T00:00:00+00:00","windowSeconds":60,
             "layers":[{"layer":1,"total":[5,6]}]}
            """));
        Assert.StartsWith("router router-a:", e.Message, StringComparison.Ordinal);
        Assert.Contains("window", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_NotJson_RejectedNamingRouter() =>
        Assert.StartsWith("router router-a:", Assert.Throws<ExpertLoadException>(() => ExpertLoadReport.Parse("router-a", "<html>")).Message, StringComparison.Ordinal);

    private static ExpertLoadReport Report(string modelId, params (int Layer, long[] Total, long[] Window)[] layers) =>
        new(modelId, 1, Since, 60, [.. layers.Select(l => new LayerExpertLoad(l.Layer, l.Total, l.Window))]);
}
