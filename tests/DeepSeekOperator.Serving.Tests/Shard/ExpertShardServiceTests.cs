using DeepSeekOperator.Serving.Protocol;
using DeepSeekOperator.Serving.Tensors;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace DeepSeekOperator.Serving.Tests.Shard;

public sealed class ExpertShardServiceTests : IClassFixture<ShardServerFixture>, IDisposable
{
    private const int Layer = 2;
    private readonly ShardServerFixture _server;
    private readonly int _loggedBefore;

    public ExpertShardServiceTests(ShardServerFixture server)
    {
        _server = server;
        _loggedBefore = server.Logged.Count;
    }

    /// <summary>No test may make the server log an error (an unhandled exception in a call).</summary>
    public void Dispose() => Assert.DoesNotContain(_server.Logged.Skip(_loggedBefore), entry => entry.Level >= LogLevel.Error);

    [Fact]
    public async Task Forward_Float32_EqualsEveryExpertInProcessForTheShardsAssignments()
    {
        using var channel = _server.Channel();
        var client = new ExpertShard.ExpertShardClient(channel);
        var (hidden, tokens, experts, weights) = _server.RandomStep(seed: 1, Layer, tokenCount: 9);

        var response = await client.ForwardAsync(ShardServerFixture.Request(17, Layer, hidden, tokens, experts, weights));

        Assert.Equal(17ul, response.StepId);
        var expected = _server.Expected(Layer, hidden, tokens, experts, weights);
        var actual = TensorBytes.ToSingles(response.Output.Span, TensorDtype.Float32);
        Assert.Equal(expected.Length, actual.Length);
        Assert.Contains(expected, v => v != 0f);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], actual[i], 1e-5f);
        }
    }

    [Fact]
    public async Task Forward_TokenWithoutAssignment_GetsAZeroRow()
    {
        using var channel = _server.Channel();
        var client = new ExpertShard.ExpertShardClient(channel);
        var hidden = Enumerable.Range(0, 2 * ShardServerFixture.Config.HiddenSize).Select(i => (i % 7) - 3f).ToArray();

        var response = await client.ForwardAsync(ShardServerFixture.Request(1, Layer, hidden, [1], [5], [0.5f]));

        var actual = TensorBytes.ToSingles(response.Output.Span, TensorDtype.Float32);
        var width = ShardServerFixture.Config.HiddenSize;
        Assert.All(actual.Take(width), v => Assert.Equal(0f, v));
        Assert.Contains(actual.Skip(width), v => v != 0f);
    }

    [Fact]
    public async Task Forward_BFloat16_AnswersInBFloat16WithinItsPrecision()
    {
        using var channel = _server.Channel();
        var client = new ExpertShard.ExpertShardClient(channel);
        var (hidden, tokens, experts, weights) = _server.RandomStep(seed: 2, Layer, tokenCount: 6);
        var request = ShardServerFixture.Request(3, Layer, hidden, tokens, experts, weights, TensorDtype.Bfloat16);

        var response = await client.ForwardAsync(request);

        Assert.Equal(6 * ShardServerFixture.Config.HiddenSize * 2, response.Output.Length);
        // The shard computes on the bfloat16 inputs it received, and rounds its float32 result once.
        var received = TensorBytes.ToSingles(request.Hidden.Span, TensorDtype.Bfloat16);
        var expected = _server.Expected(Layer, received, tokens, experts, weights);
        var actual = TensorBytes.ToSingles(response.Output.Span, TensorDtype.Bfloat16);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.InRange(Math.Abs(actual[i] - expected[i]), 0, (Math.Abs(expected[i]) * Math.Pow(2, -8)) + 1e-6);
        }
    }

    [Theory]
    [InlineData("layer", StatusCode.InvalidArgument, "layer 0 is not an MoE layer")]
    [InlineData("placement_revision", StatusCode.FailedPrecondition, "placement_revision 6 is not served by this shard (it serves 7)")]
    [InlineData("dtype", StatusCode.InvalidArgument, "dtype 9 is not one of")]
    [InlineData("hidden_size", StatusCode.InvalidArgument, "hidden_size 32 is not the model's hidden size 64")]
    [InlineData("hidden", StatusCode.InvalidArgument, "hidden has 1023 bytes, but num_tokens 4 × hidden_size 64 × 4 bytes")]
    [InlineData("num_tokens", StatusCode.InvalidArgument, "hidden has 1024 bytes, but num_tokens 5 × hidden_size 64")]
    [InlineData("expert count", StatusCode.InvalidArgument, "expert has 2 entries but token has 3")]
    [InlineData("weight count", StatusCode.InvalidArgument, "weight has 4 entries but token has 3")]
    [InlineData("token", StatusCode.InvalidArgument, "token[2] = 4 is not below num_tokens 4")]
    [InlineData("expert not held", StatusCode.InvalidArgument, "expert[1] = 8 is not held by shard 1 in layer 2 (it holds 4, 5, 6, 7)")]
    [InlineData("expert out of range", StatusCode.InvalidArgument, "expert[0] = 99 is not held by shard 1 in layer 2")]
    public async Task Forward_BadField_IsRefusedWithAStatusNamingIt(string field, StatusCode code, string message)
    {
        using var channel = _server.Channel();
        var client = new ExpertShard.ExpertShardClient(channel);
        var hidden = new float[4 * ShardServerFixture.Config.HiddenSize];
        var request = ShardServerFixture.Request(5, Layer, hidden, [0, 1, 3], [4, 5, 7], [1f, 0.5f, 0.25f]);
        switch (field)
        {
            case "layer": request.Layer = 0; break;
            case "placement_revision": request.PlacementRevision = 6; break;
            case "dtype": request.Dtype = (TensorDtype)9; break;
            case "hidden_size": request.HiddenSize = 32; break;
            case "hidden": request.Hidden = ByteString.CopyFrom(request.Hidden.Span[..^1]); break;
            case "num_tokens": request.NumTokens = 5; break;
            case "expert count": request.Expert.RemoveAt(2); break;
            case "weight count": request.Weight.Add(1f); break;
            case "token": request.Token[2] = 4; break;
            case "expert not held": request.Expert[1] = 8; break;
            case "expert out of range": request.Expert[0] = 99; break;
            default: throw new ArgumentOutOfRangeException(nameof(field), field, "no such case");
        }

        var error = await Assert.ThrowsAsync<RpcException>(async () => await client.ForwardAsync(request));

        Assert.Equal(code, error.StatusCode);
        Assert.StartsWith("step 5: ", error.Status.Detail, StringComparison.Ordinal);
        Assert.Contains(message, error.Status.Detail, StringComparison.Ordinal);
        Assert.Contains(_server.Logged, entry => entry.Level == LogLevel.Warning && entry.Message.Contains(message, StringComparison.Ordinal));
    }

    [Fact]
    public async Task GetInfo_ListsTheExpertsHeldInEveryMoeLayer()
    {
        using var channel = _server.Channel();
        var client = new ExpertShard.ExpertShardClient(channel);

        var info = await client.GetInfoAsync(new GetInfoRequest());

        Assert.Equal(ShardServerFixture.ModelId, info.ModelId);
        Assert.Equal(ShardServerFixture.Revision, info.PlacementRevision);
        Assert.Equal([ShardServerFixture.Revision], info.ServedRevisions);
        Assert.Equal((uint)ShardServerFixture.ShardIndex, info.ShardIndex);
        Assert.Equal(64u, info.HiddenSize);
        Assert.Equal(TensorDtype.Float32, info.Dtype);
        Assert.Equal([TensorDtype.Float32, TensorDtype.Bfloat16], info.SupportedDtypes);
        Assert.Equal([1u, 2u, 3u], info.ExpertsPerLayer.Select(l => l.Layer));
        Assert.All(info.ExpertsPerLayer, layer => Assert.Equal([4u, 5u, 6u, 7u], layer.Expert));
    }

    [Fact]
    public async Task Forward_ManyClientsAtOnce_EachGetsItsOwnCorrectAnswer()
    {
        var channels = Enumerable.Range(0, 4).Select(_ => _server.Channel()).ToList();
        try
        {
            var calls = Enumerable.Range(0, 24).Select(async call =>
            {
                var layer = 1 + (call % 3);
                var (hidden, tokens, experts, weights) = _server.RandomStep(seed: 100 + call, layer, tokenCount: 1 + (call % 11));
                var client = new ExpertShard.ExpertShardClient(channels[call % channels.Count]);
                var response = await client.ForwardAsync(ShardServerFixture.Request((ulong)call, layer, hidden, tokens, experts, weights));
                return (Call: call, Response: response, Expected: _server.Expected(layer, hidden, tokens, experts, weights));
            });

            foreach (var (call, response, expected) in await Task.WhenAll(calls))
            {
                Assert.Equal((ulong)call, response.StepId);
                var actual = TensorBytes.ToSingles(response.Output.Span, TensorDtype.Float32);
                Assert.Equal(expected.Length, actual.Length);
                for (var i = 0; i < expected.Length; i++)
                {
                    Assert.Equal(expected[i], actual[i], 1e-5f);
                }
            }
        }
        finally
        {
            channels.ForEach(c => c.Dispose());
        }
    }

    [Fact]
    public async Task ForwardStream_SeveralSteps_EachAnsweredCorrectlyUnderItsStepId()
    {
        using var channel = _server.Channel();
        var client = new ExpertShard.ExpertShardClient(channel);
        var steps = Enumerable.Range(0, 8).Select(step =>
        {
            var layer = 1 + (step % 3);
            var (hidden, tokens, experts, weights) = _server.RandomStep(seed: 200 + step, layer, tokenCount: 3 + step);
            return (Request: ShardServerFixture.Request((ulong)(1000 + step), layer, hidden, tokens, experts, weights),
                Expected: _server.Expected(layer, hidden, tokens, experts, weights));
        }).ToList();

        using var call = client.ForwardStream();
        foreach (var step in steps)
        {
            await call.RequestStream.WriteAsync(step.Request);
        }

        await call.RequestStream.CompleteAsync();
        var responses = new Dictionary<ulong, ForwardResponse>();
        await foreach (var response in call.ResponseStream.ReadAllAsync())
        {
            Assert.True(responses.TryAdd(response.StepId, response), $"step {response.StepId} answered twice");
        }

        Assert.Equal(steps.Select(s => s.Request.StepId).Order(), responses.Keys.Order());
        foreach (var (request, expected) in steps)
        {
            var actual = TensorBytes.ToSingles(responses[request.StepId].Output.Span, TensorDtype.Float32);
            Assert.Equal(expected.Length, actual.Length);
            for (var i = 0; i < expected.Length; i++)
            {
                Assert.Equal(expected[i], actual[i], 1e-5f);
            }
        }
    }

    [Fact]
    public async Task ForwardStream_StepWithAnExpertNotHeld_EndsTheStreamNamingTheStepAndExpert()
    {
        using var channel = _server.Channel();
        var client = new ExpertShard.ExpertShardClient(channel);
        var hidden = new float[2 * ShardServerFixture.Config.HiddenSize];

        // The request stream stays open, as a router's does: the refusal must end the call all the same.
        using var call = client.ForwardStream();
        await call.RequestStream.WriteAsync(ShardServerFixture.Request(1, Layer, hidden, [0], [4], [1f]));
        await call.RequestStream.WriteAsync(ShardServerFixture.Request(2, Layer, hidden, [0, 1], [4, 12], [1f, 1f]));

        var error = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            await foreach (var response in call.ResponseStream.ReadAllAsync())
            {
                Assert.Equal(1ul, response.StepId);
            }
        });
        // The shard answers with trailers, then resets the still-open request stream (HTTP/2 allows it once the
        // response is complete); now and then the client sees the reset first and reports Cancelled. The refusal
        // itself is then checked where the shard records it.
        var refusal = error.StatusCode == StatusCode.Cancelled
            ? _server.Logged.Select(l => l.Message).Last(m => m.Contains("step 2", StringComparison.Ordinal))
            : $"{error.StatusCode} {error.Status.Detail}";
        Assert.Contains("InvalidArgument step 2: expert[1] = 12 is not held by shard 1", refusal, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Forward_RevisionNewerThanAnyServed_IsRefusedNamingItAndTheServedOnes()
    {
        using var channel = _server.Channel();
        var client = new ExpertShard.ExpertShardClient(channel);
        var request = ShardServerFixture.Request(9, Layer, new float[ShardServerFixture.Config.HiddenSize], [0], [4], [1f]);
        request.PlacementRevision = ShardServerFixture.Revision + 1;

        var error = await Assert.ThrowsAsync<RpcException>(async () => await client.ForwardAsync(request));

        Assert.Equal(StatusCode.FailedPrecondition, error.StatusCode);
        Assert.Equal("step 9: placement_revision 8 is not served by this shard (it serves 7)", error.Status.Detail);
    }
}
