using System.Net;
using Microsoft.Extensions.Logging;

namespace DeepSeekOperator.Serving.Hosting.Internal;

/// <summary>The log messages of the serving processes.</summary>
internal static partial class HostingLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Expert shard {Shard} of {Shards}: gRPC on {GrpcEndpoint}, metrics on {MetricsEndpoint}")]
    public static partial void Listening(ILogger logger, int shard, int shards, IPEndPoint grpcEndpoint, IPEndPoint metricsEndpoint);

    [LoggerMessage(Level = LogLevel.Information, Message = "Loading the experts of shard {Shard} in placement revision {Revision}")]
    public static partial void Loading(ILogger logger, int shard, long revision);

    [LoggerMessage(Level = LogLevel.Information, Message = "Serving shard {Shard} of placement revision {Revision} of model '{ModelId}': {Experts} experts in each of {Layers} MoE layers, loaded in {LoadSeconds:0.00} s; revisions served: {Served}")]
    public static partial void Serving(ILogger logger, int shard, long revision, string modelId, int experts, int layers, double loadSeconds, IReadOnlyList<long> served);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Placement revision {Revision} is not served: {Reason}")]
    public static partial void RevisionIgnored(ILogger logger, long revision, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Loading the experts of placement revision {Revision} failed")]
    public static partial void LoadFailed(ILogger logger, long revision, Exception error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Router of model '{ModelId}' loaded in {LoadSeconds:0.00} s; dispatching with placement revision {Revision} over {Shards} expert shards")]
    public static partial void RouterLoaded(ILogger logger, string modelId, double loadSeconds, long revision, int shards);

    [LoggerMessage(Level = LogLevel.Information, Message = "Router of model '{ModelId}': OpenAI API on {Endpoint}")]
    public static partial void RouterListening(ILogger logger, string modelId, IPEndPoint endpoint);

    [LoggerMessage(Level = LogLevel.Critical, Message = "The {Loop} stopped; /healthz now fails so that the process is restarted")]
    public static partial void LoopFailed(ILogger logger, string loop, Exception error);
}
