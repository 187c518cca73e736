namespace DeepSeekOperator.Controller.Runtime;

/// <summary>A cache that is kept current by its own loop (client-go's <c>SharedInformer</c>): the operator host runs it while it leads.</summary>
public interface IInformer : ISyncedCache
{
    /// <summary>Keeps the cache current until <paramref name="cancellationToken"/> is cancelled, then returns.</summary>
    Task RunAsync(CancellationToken cancellationToken);
}
