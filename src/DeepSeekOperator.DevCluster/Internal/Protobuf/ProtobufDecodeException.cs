namespace DeepSeekOperator.DevCluster.Internal.Protobuf;

/// <summary>A protobuf request body that cannot be turned into JSON: malformed wire data, or a field the schema table does not cover.</summary>
internal sealed class ProtobufDecodeException(string message) : Exception(message);
