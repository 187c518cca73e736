using System.Buffers.Binary;
using DeepSeekOperator.Serving.Protocol;
using Google.Protobuf;

namespace DeepSeekOperator.Serving.Tests;

public class ProtocolTests
{
    [Fact]
    public void ForwardRequest_RawFloat32Bytes_RoundTrip()
    {
        float[] hidden = [1.5f, -2.25f, 0f, float.MaxValue, 3.0e-38f, -0f];
        var bytes = new byte[hidden.Length * sizeof(float)];
        for (var i = 0; i < hidden.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), hidden[i]);
        }

        var request = new ForwardRequest
        {
            StepId = 42,
            Layer = 3,
            PlacementRevision = 7,
            Dtype = TensorDtype.Float32,
            HiddenSize = 3,
            NumTokens = 2,
            Hidden = ByteString.CopyFrom(bytes),
            Token = { 0, 0, 1 },
            Expert = { 5, 9, 5 },
            Weight = { 0.75f, 0.25f, 1f },
        };

        var parsed = ForwardRequest.Parser.ParseFrom(request.ToByteArray());

        Assert.Equal(request, parsed);
        Assert.Equal(TensorDtype.Float32, parsed.Dtype);
        Assert.Equal([0u, 0u, 1u], parsed.Token);
        Assert.Equal([5u, 9u, 5u], parsed.Expert);
        Assert.Equal([0.75f, 0.25f, 1f], parsed.Weight);
        var received = parsed.Hidden.ToByteArray();
        Assert.Equal(parsed.NumTokens * parsed.HiddenSize * sizeof(float), (uint)received.Length);
        var decoded = Enumerable.Range(0, hidden.Length).Select(i => BinaryPrimitives.ReadSingleLittleEndian(received.AsSpan(i * sizeof(float)))).ToArray();
        Assert.Equal(hidden, decoded);
    }

    [Fact]
    public void Messages_DescribeTheWireProtocol()
    {
        var file = ExpertShardReflection.Descriptor;
        Assert.Equal("deepseek.moe.v1", file.Package);

        var service = Assert.Single(file.Services);
        Assert.Equal("ExpertShard", service.Name);
        Assert.Equal(["Forward", "ForwardStream", "GetInfo"], service.Methods.Select(m => m.Name));
        var stream = service.FindMethodByName("ForwardStream");
        Assert.True(stream.IsClientStreaming && stream.IsServerStreaming);
        Assert.Equal(["FLOAT32", "BFLOAT16"], TensorDtypeNames());

        Assert.Equal(
            ["step_id", "layer", "placement_revision", "dtype", "hidden_size", "num_tokens", "hidden", "token", "expert", "weight"],
            ForwardRequest.Descriptor.Fields.InFieldNumberOrder().Select(f => f.Name));
        Assert.Equal(["step_id", "output"], ForwardResponse.Descriptor.Fields.InFieldNumberOrder().Select(f => f.Name));
        Assert.Equal(
            ["model_id", "placement_revision", "shard_index", "experts_per_layer", "dtype", "hidden_size", "supported_dtypes", "served_revisions"],
            ShardInfo.Descriptor.Fields.InFieldNumberOrder().Select(f => f.Name));
    }

    [Fact]
    public void GeneratedStubs_ServerBaseAndClientExist()
    {
        Assert.True(typeof(ExpertShard.ExpertShardBase).IsAbstract);
        Assert.NotNull(typeof(ExpertShard.ExpertShardClient).GetMethod(nameof(ExpertShard.ExpertShardClient.ForwardAsync), [typeof(ForwardRequest), typeof(Grpc.Core.CallOptions)]));
    }

    private static IEnumerable<string> TensorDtypeNames() =>
        ExpertShardReflection.Descriptor.EnumTypes.Single(e => e.Name == "TensorDtype").Values.Select(v => v.Name.Replace("TENSOR_DTYPE_", string.Empty, StringComparison.Ordinal));
}
