namespace DeepSeekOperator.Serving.Router;

/// <summary>
/// A step could not be completed because an expert shard answered from none of its replicas (none known, every
/// one failed, or the step's deadline passed); the API answers 503 and names the shard.
/// </summary>
public sealed class ShardUnavailableException : Exception
{
    /// <summary>Creates the exception for shard <paramref name="shard"/>.</summary>
    /// <param name="shard">The shard's index in the placement.</param>
    /// <param name="message">What happened, naming the shard.</param>
    /// <param name="innerException">The last failure, when there was one.</param>
    public ShardUnavailableException(int shard, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Shard = shard;
    }

    /// <summary>The shard that could not be reached.</summary>
    public int Shard { get; }
}
