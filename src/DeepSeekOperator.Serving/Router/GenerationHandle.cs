using System.Threading.Channels;
using DeepSeekOperator.Moe;

namespace DeepSeekOperator.Serving.Router;

/// <summary>A queued or running generation: its tokens as they are sampled, and how it ended.</summary>
/// <param name="Tokens">
/// Every generated token as soon as it is sampled (the stop token excluded). Completes when the sequence ends,
/// with the failure's exception when it failed.
/// </param>
/// <param name="Completion">
/// The finished sequence. Faults with <see cref="ShardUnavailableException"/> when a step could not reach a shard,
/// and is cancelled when the request's token was.
/// </param>
public sealed record GenerationHandle(ChannelReader<int> Tokens, Task<GenerationResult> Completion);
