using DeepSeekOperator.Moe;

namespace DeepSeekOperator.Serving.Router;

/// <summary>
/// Generates tokens for requests that arrive at any time: what the OpenAI-compatible API calls. The router's
/// implementation is the continuous-batching scheduler.
/// </summary>
public interface ITokenGenerator
{
    /// <summary>
    /// Queues <paramref name="request"/>; it joins the running batch at a step boundary. Cancelling
    /// <paramref name="cancellationToken"/> (the client went away, or a stop sequence was seen) takes the sequence
    /// out of the batch at the next step boundary and frees its cache; the handle's completion is then cancelled.
    /// </summary>
    /// <exception cref="QueueFullException">The bounded queue is full: answer 429.</exception>
    /// <exception cref="ArgumentException">The prompt is empty, holds an id outside the vocabulary or leaves no room in the context, or the options are out of range; the message names the field.</exception>
    GenerationHandle Submit(GenerationRequest request, CancellationToken cancellationToken);
}
