using System.Text.Json.Nodes;
using DeepSeekOperator.Moe.Safetensors;
using static DeepSeekOperator.Moe.Tests.Safetensors.SafetensorsTestFiles;

namespace DeepSeekOperator.Moe.Tests.Safetensors;

/// <summary>A sharded checkpoint opens only when its index and its shards agree on every tensor.</summary>
public sealed class ShardedCheckpointTests : IDisposable
{
    private const string First = "model-00001-of-00002.safetensors";
    private const string Second = "model-00002-of-00002.safetensors";
    private readonly TempDirectory _directory = new();
    private readonly string _index;

    public ShardedCheckpointTests()
    {
        // Name order splits these evenly: a and b in the first shard, c and d in the second.
        SafetensorsWriter.WriteCheckpoint(_directory.Path, [F32("d", [1], 4), F32("c", [1], 3), F32("b", [1], 2), F32("a", [1], 1)], 2);
        _index = _directory.File("model.safetensors.index.json");
    }

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void Open_AsWritten_MapsEachTensorToItsShard()
    {
        using var checkpoint = SafetensorsCheckpoint.Open(_directory.Path);

        Assert.Equal(_index, checkpoint.Source);
        Assert.Equal([_directory.File(First), _directory.File(Second)], checkpoint.Files);
        Assert.Equal(["a", "b", "c", "d"], checkpoint.Tensors.Select(entry => entry.Name));
        Assert.Equal(_directory.File(Second), checkpoint.Get("c").File);
    }

    [Fact]
    public void Open_IndexNamingAMissingShard_NamesTheFileAndATensorMappedToIt()
    {
        File.Delete(_directory.File(Second));

        AssertRejected(() => SafetensorsCheckpoint.Open(_directory.Path), _index, "c", $"weight_map maps the tensor to {Second}, which is not in {_directory.Path}");
    }

    [Fact]
    public void Open_ShardTensorMissingFromTheWeightMap_NamesTheTensor()
    {
        EditWeightMap(map => map.Remove("b"));

        AssertRejected(() => SafetensorsCheckpoint.Open(_directory.Path), _directory.File(First), "b", "the shard holds the tensor but model.safetensors.index.json's weight_map does not list it");
    }

    [Fact]
    public void Open_WeightMapPointingAtTheOtherShard_NamesTheTensor()
    {
        EditWeightMap(map => map["b"] = Second);

        AssertRejected(() => SafetensorsCheckpoint.Open(_directory.Path), _directory.File(First), "b", $"the shard holds the tensor but model.safetensors.index.json's weight_map maps it to {Second}");
    }

    [Fact]
    public void Open_WeightMapListingATensorNoShardHolds_NamesTheTensor()
    {
        EditWeightMap(map => map["model.norm.weight"] = Second);

        AssertRejected(() => SafetensorsCheckpoint.Open(_directory.Path), _index, "model.norm.weight", $"weight_map maps the tensor to {Second}, which does not hold it");
    }

    [Fact]
    public void Open_MalformedShard_NamesTheShard()
    {
        var shard = _directory.File(Second);
        File.WriteAllBytes(shard, File.ReadAllBytes(shard)[..^1]);

        AssertRejected(() => SafetensorsCheckpoint.Open(_directory.Path), shard, "d", "run past the end of the data buffer");
    }

    [Theory]
    [InlineData("""{"weight_map": {"a": "model-00001-of-00002.safetensors",}}""", null, "the index is not valid JSON")]
    [InlineData("""["a"]""", null, "the index is not a JSON object")]
    [InlineData("""{"metadata": {"total_size": 16}}""", null, "the index has no 'weight_map'")]
    [InlineData("""{"metadata": 16, "weight_map": {}}""", null, "the index's 'metadata' is not an object")]
    [InlineData("""{"metadata": {"total_size": 1, "total_size": 2}, "weight_map": {}}""", null, "the index's 'metadata' has the key 'total_size' twice")]
    [InlineData("""{"weight_map": {}, "weight_map": {}}""", null, "the index has the key 'weight_map' twice")]
    [InlineData("""{"weight_map": ["a"]}""", null, "the index's 'weight_map' is not an object of tensor name to file name")]
    [InlineData("""{"weight_map": {"a": 1}}""", "a", "weight_map maps the tensor to something other than a file name")]
    [InlineData("""{"weight_map": {"a": "../model-00001-of-00002.safetensors"}}""", "a", "weight_map maps the tensor to \"../model-00001-of-00002.safetensors\", which is not a file name in the checkpoint's directory")]
    [InlineData("""{"weight_map": {"a": "model-00001-of-00002.safetensors", "a": "model-00001-of-00002.safetensors"}}""", "a", "weight_map names the tensor twice")]
    public void Open_MalformedIndex_IsRejected(string index, string? tensor, string fragment)
    {
        File.WriteAllText(_index, index);

        AssertRejected(() => SafetensorsCheckpoint.Open(_directory.Path), _index, tensor, fragment);
        AssertRejected(() => SafetensorsCheckpoint.Open(_index), _index, tensor, fragment);
    }

    private void EditWeightMap(Action<JsonObject> edit)
    {
        var index = JsonNode.Parse(File.ReadAllText(_index))!.AsObject();
        edit(index["weight_map"]!.AsObject());
        File.WriteAllText(_index, index.ToJsonString());
    }
}
