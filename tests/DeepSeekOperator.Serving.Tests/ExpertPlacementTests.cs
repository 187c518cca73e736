using DeepSeekOperator.Serving.Placement;

namespace DeepSeekOperator.Serving.Tests;

public class ExpertPlacementTests
{
    private static readonly Moe.ModelConfig Model = PlacementGeneratorTests.Model(4);

    /// <summary>Two shards of two slots for experts 0..3 in MoE layers 2 and 4, with the given layer entries.</summary>
    private static ExpertPlacement Placement(params LayerPlacement[] layers) => new()
    {
        Revision = 7,
        ModelId = "tiny",
        Shards = 2,
        SlotsPerShard = 2,
        Layers = layers.Length > 0 ? layers : [Layer(2, [0, 1], [2, 3]), Layer(4, [0, 1], [2, 3])],
    };

    private static LayerPlacement Layer(int layer, params int[][] shards) => new() { Layer = layer, Experts = shards };

    [Fact]
    public void Validate_GoodPlacement_NoProblems() => Assert.Empty(Placement().Validate(Model));

    public static TheoryData<string, string> Broken() => new()
    {
        { "negative revision", "revision must not be negative, got -1" },
        { "empty model id", "modelId must not be empty" },
        { "no shards", "shards must be at least 1, got 0" },
        { "no slots", "slotsPerShard must be at least 1, got 0" },
        { "too few slots", "1 shards × 2 slots cannot hold the model's 4 routed experts" },
        { "dense layer", "layer 1 is not an MoE layer of the model (6 layers, first_k_dense_replace 1, moe_layer_freq 2)" },
        { "layer past the end", "layer 6 is not an MoE layer of the model (6 layers, first_k_dense_replace 1, moe_layer_freq 2)" },
        { "layer twice", "layer 2 is listed more than once" },
        { "layer missing", "MoE layer 4 has no placement" },
        { "shard missing", "layer 4 lists 1 shards, expected 2" },
        { "null shard", "layer 4 shard 1 has no expert list" },
        { "short shard", "layer 4 shard 1 holds 1 experts, expected slotsPerShard 2" },
        { "expert too large", "layer 4 shard 1: expert 4 is outside [0, 4)" },
        { "negative expert", "layer 4 shard 0: expert -1 is outside [0, 4)" },
        { "expert twice on a shard", "layer 4 shard 1 holds expert 3 more than once" },
        { "expert uncovered", "layer 4: expert 2 held by no shard" },
        { "experts uncovered", "layer 4: experts 0, 1 held by no shard" },
    };

    [Theory]
    [MemberData(nameof(Broken))]
    public void Validate_BrokenPlacement_NamesTheProblem(string fault, string expected)
    {
        var good = Placement();
        var placement = fault switch
        {
            "negative revision" => good with { Revision = -1 },
            "empty model id" => good with { ModelId = " " },
            "no shards" => good with { Shards = 0 },
            "no slots" => good with { SlotsPerShard = 0 },
            "too few slots" => good with { Shards = 1 },
            "dense layer" => Placement(Layer(1, [0, 1], [2, 3]), Layer(2, [0, 1], [2, 3]), Layer(4, [0, 1], [2, 3])),
            "layer past the end" => Placement(Layer(2, [0, 1], [2, 3]), Layer(4, [0, 1], [2, 3]), Layer(6, [0, 1], [2, 3])),
            "layer twice" => Placement(Layer(2, [0, 1], [2, 3]), Layer(2, [0, 1], [2, 3]), Layer(4, [0, 1], [2, 3])),
            "layer missing" => Placement(Layer(2, [0, 1], [2, 3])),
            "shard missing" => Placement(Layer(2, [0, 1], [2, 3]), Layer(4, [0, 1])),
            "null shard" => Placement(Layer(2, [0, 1], [2, 3]), Layer(4, [0, 1], null!)),
            "short shard" => Placement(Layer(2, [0, 1], [2, 3]), Layer(4, [0, 1, 2], [3])),
            "expert too large" => Placement(Layer(2, [0, 1], [2, 3]), Layer(4, [0, 1], [2, 4])),
            "negative expert" => Placement(Layer(2, [0, 1], [2, 3]), Layer(4, [-1, 1], [2, 0])),
            "expert twice on a shard" => Placement(Layer(2, [0, 1], [2, 3]), Layer(4, [0, 1], [3, 3])),
            "expert uncovered" => Placement(Layer(2, [0, 1], [2, 3]), Layer(4, [0, 1], [1, 3])),
            "experts uncovered" => Placement(Layer(2, [0, 1], [2, 3]), Layer(4, [2, 3], [3, 2])),
            _ => throw new ArgumentOutOfRangeException(nameof(fault), fault, null),
        };

        Assert.Contains(expected, placement.Validate(Model));
    }

    [Fact]
    public void Validate_SeveralFaults_ReportsEach()
    {
        var placement = Placement(Layer(2, [0, 0], [2, 9]));

        Assert.Equal(
            [
                "MoE layer 4 has no placement",
                "layer 2 shard 0 holds expert 0 more than once",
                "layer 2 shard 1: expert 9 is outside [0, 4)",
                "layer 2: experts 1, 3 held by no shard",
            ],
            placement.Validate(Model));
    }

    [Fact]
    public void Validate_CopiesOnSeveralShards_Allowed()
    {
        var placement = Placement(Layer(2, [0, 1, 2], [3, 0, 1]), Layer(4, [0, 1, 3], [2, 3, 0])) with { SlotsPerShard = 3 };

        Assert.Empty(placement.Validate(Model));
    }

    [Fact]
    public void EnsureValid_Broken_ThrowsWithEveryProblem()
    {
        var placement = Placement(Layer(2, [0, 0], [2, 9]));

        var error = Assert.Throws<PlacementException>(() => placement.EnsureValid(Model));

        Assert.StartsWith("placement revision 7 of model 'tiny' is invalid:", error.Message, StringComparison.Ordinal);
        Assert.Contains("MoE layer 4 has no placement", error.Message, StringComparison.Ordinal);
        Assert.Contains("layer 2 shard 1: expert 9 is outside [0, 4)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SerializeThenParse_RoundTrips()
    {
        var placement = PlacementGenerator.Contiguous(PlacementGeneratorTests.Model(8), "deepseek-v3", 12, 3, 4);

        var json = placement.Serialize();
        var parsed = ExpertPlacement.Parse(json);

        Assert.Equal(placement.Revision, parsed.Revision);
        Assert.Equal(placement.ModelId, parsed.ModelId);
        Assert.Equal(placement.Shards, parsed.Shards);
        Assert.Equal(placement.SlotsPerShard, parsed.SlotsPerShard);
        Assert.Equal(placement.Layers.Select(l => l.Layer), parsed.Layers.Select(l => l.Layer));
        Assert.Equal(placement.Layers.Select(l => l.Experts), parsed.Layers.Select(l => l.Experts));
        Assert.Equal(json, parsed.Serialize());
    }

    [Fact]
    public void Parse_ConfigMapForm_ReadsEveryField()
    {
        const string Json = """
            {
              "revision": 3,
              "modelId": "tiny",
              "shards": 2,
              "slotsPerShard": 2,
              "layers": [
                { "layer": 2, "experts": [[0, 1], [2, 3]] },
                { "layer": 4, "experts": [[3, 0], [1, 2]] }
              ]
            }
            """;

        var placement = ExpertPlacement.Parse(Json);

        Assert.Equal(3, placement.Revision);
        Assert.Equal("tiny", placement.ModelId);
        Assert.Equal(2, placement.Shards);
        Assert.Equal(2, placement.SlotsPerShard);
        Assert.Equal([3, 0], placement.Layers[1].Experts[0]);
        Assert.Empty(placement.Validate(Model));
    }

    [Theory]
    [InlineData("{", "placement JSON is not valid")]
    [InlineData("null", "placement JSON is null")]
    [InlineData("""{"revision": 1, "modelId": "m", "shards": 1, "slotsPerShard": 4}""", "layers")]
    [InlineData("""{"revision": 1, "modelId": null, "shards": 1, "slotsPerShard": 4, "layers": []}""", "modelId")]
    [InlineData("""{"revision": 1, "modelId": "m", "shards": 1, "slotsPerShard": 4, "layers": [], "slots": 2}""", "slots")]
    public void Parse_NotAPlacement_ThrowsNamingTheField(string json, string expected)
    {
        var error = Assert.Throws<PlacementException>(() => ExpertPlacement.Parse(json));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_NullLayerEntry_NamesItsIndex()
    {
        var placement = ExpertPlacement.Parse("""{"revision": 1, "modelId": "m", "shards": 1, "slotsPerShard": 4, "layers": [null]}""");

        Assert.Contains("layers[0] is null", placement.Validate(Model));
    }
}
