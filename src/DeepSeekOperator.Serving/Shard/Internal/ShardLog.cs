using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace DeepSeekOperator.Serving.Shard.Internal;

/// <summary>The expert shard's log messages.</summary>
internal static partial class ShardLog
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused a forward call: {Code} {Detail}")]
    public static partial void Refused(ILogger logger, StatusCode code, string detail);
}
