using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace DeepSeekOperator.Serving.Shard.Internal;

/// <summary>The expert shard's log messages.</summary>
internal static partial class ShardLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Serving shard {Shard} of placement revision {Revision} of model '{ModelId}': {Experts} experts in each of {Layers} MoE layers")]
    public static partial void Serving(ILogger logger, int shard, long revision, string modelId, int experts, int layers);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused a forward call: {Code} {Detail}")]
    public static partial void Refused(ILogger logger, StatusCode code, string detail);
}
