using System.Buffers;
using System.IO.Compression;
using System.Text;
using DeepSeekOperator.Controller.Runtime.Internal;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace DeepSeekOperator.Controller.Runtime;

/// <summary>
/// A watch-backed cache of one kind, ported from client-go's reflector and shared informer (and YARP's
/// <c>ResourceInformer</c>): it lists, then watches from the list's resourceVersion with bookmarks; re-lists at once
/// when the server answers 410 Gone and after a backoff when a list or watch fails; delivers every cached object again
/// each <see cref="InformerOptions.ResyncPeriod"/>; and indexes objects by namespace/name and by owner UID.
/// </summary>
/// <remarks>
/// Objects are cached without <c>metadata.managedFields</c> (controller-runtime's default transform): the server's
/// record of who set which field is often as large as the rest of the object and no controller reads it, and an
/// update that omits it keeps the stored one. Nothing else is dropped, since a cached object may be the base of a
/// full replace, which would remove what the cache left out (a controller that never writes its cached objects back may
/// drop more with a transform). Each is kept as its UTF-8 JSON compressed with Brotli at the fastest quality (about
/// 2.5 times smaller than the JSON, itself a few times smaller than the deserialized object graph), and decompressed
/// and deserialized on every read: what <see cref="Get"/>, <see cref="List"/> and <see cref="ListByOwner"/> return is
/// the caller's own copy, which it may change.
/// </remarks>
/// <typeparam name="T">A kind with a <see cref="KubernetesEntityAttribute"/>, built-in or custom.</typeparam>
public sealed class Informer<T> : IInformer
    where T : class, IKubernetesObject<V1ObjectMeta>
{
    private readonly Lock gate = new();
    private readonly Dictionary<ObjectKey, Entry> items = [];
    private readonly Dictionary<string, HashSet<ObjectKey>> byOwner = [];
    private readonly List<InformerHandlers<T>> handlers = [];
    private readonly TaskCompletionSource synced = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ResourceClient<T> resources;
    private readonly InformerOptions options;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly Action<T>? transform;
    private string? resourceVersion;

    /// <summary>Creates an informer; nothing is read until <see cref="RunAsync"/>.</summary>
    /// <param name="client">The client it lists and watches with.</param>
    /// <param name="options">What it watches and how often it refreshes.</param>
    /// <param name="time">The clock of its resyncs and retries.</param>
    /// <param name="logger">Its log.</param>
    /// <param name="transform">
    /// Applied to each object before it is cached and handed to the handlers (controller-runtime's <c>TransformFunc</c>):
    /// a controller that only reads part of a kind, and never writes the cached object back, drops the rest here.
    /// </param>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> has no <see cref="KubernetesEntityAttribute"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range (the message names it).</exception>
    public Informer(Kubernetes client, InformerOptions options, TimeProvider time, ILogger<Informer<T>> logger, Action<T>? transform = null)
    {
        this.transform = transform;
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        resources = new ResourceClient<T>(client, options.Namespace, options.LabelSelector);
        this.options = options;
        this.time = time;
        this.logger = logger;
    }

    /// <inheritdoc />
    public bool HasSynced => synced.Task.IsCompleted;

    /// <summary>The resourceVersion the cache is current to; null before the first list.</summary>
    public string? ResourceVersion
    {
        get
        {
            lock (gate)
            {
                return resourceVersion;
            }
        }
    }

    /// <inheritdoc />
    public Task WaitForSyncAsync(CancellationToken cancellationToken) => synced.Task.WaitAsync(cancellationToken);

    /// <summary>Adds callbacks; objects already cached are delivered to them as additions first.</summary>
    public void AddHandlers(InformerHandlers<T> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        lock (gate)
        {
            handlers.Add(handler);
            foreach (var entry in items.Values)
            {
                Invoke(handler.Added, entry.Read());
            }
        }
    }

    /// <summary>The cached object with <paramref name="key"/>, or null.</summary>
    public T? Get(ObjectKey key)
    {
        lock (gate)
        {
            return items.GetValueOrDefault(key)?.Read();
        }
    }

    /// <summary>The resourceVersion of the cached object with <paramref name="key"/>, or null; nothing is deserialized.</summary>
    public string? ResourceVersionOf(ObjectKey key)
    {
        lock (gate)
        {
            return items.GetValueOrDefault(key)?.ResourceVersion;
        }
    }

    /// <summary>Every cached object.</summary>
    public IReadOnlyList<T> List()
    {
        lock (gate)
        {
            return [.. items.Values.Select(entry => entry.Read())];
        }
    }

    /// <summary>The cached objects with an owner reference to the object with UID <paramref name="ownerUid"/>.</summary>
    public IReadOnlyList<T> ListByOwner(string ownerUid)
    {
        lock (gate)
        {
            return byOwner.TryGetValue(ownerUid, out var keys) ? [.. keys.Select(key => items[key].Read())] : [];
        }
    }

    /// <summary>
    /// Keeps the cache current until <paramref name="cancellationToken"/> is cancelled, then returns. It may be run again
    /// afterwards: it resumes watching from <see cref="ResourceVersion"/>, and re-lists if that has expired.
    /// </summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var resync = ResyncAsync(stop.Token);
        try
        {
            await ReflectAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping is the only way out of the loop.
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await resync.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private async Task ReflectAsync(CancellationToken cancellationToken)
    {
        var backoff = new ExponentialRateLimiter<int>(options.RetryDelay, options.MaxRetryDelay, 0.1);
        while (true)
        {
            try
            {
                var from = ResourceVersion ?? await RelistAsync(cancellationToken).ConfigureAwait(false);
                await foreach (var change in resources.WatchAsync(from, options.WatchTimeout, cancellationToken).ConfigureAwait(false))
                {
                    Apply(change);
                }

                backoff.Forget(0);
            }
            catch (Exception exception) when (!cancellationToken.IsCancellationRequested && WatchErrors.IsGone(exception))
            {
                RuntimeLog.WatchExpired(logger, resources.Description, ResourceVersion);
                ForgetResourceVersion();
            }
            catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
            {
                var delay = backoff.When(0);
                RuntimeLog.ListWatchFailed(logger, resources.Description, delay, exception);
                ForgetResourceVersion();
                await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private void ForgetResourceVersion()
    {
        lock (gate)
        {
            resourceVersion = null;
        }
    }

    // Replaces the cache with a fresh list: new objects are additions, changed ones (by resourceVersion) updates, and
    // cached objects missing from the list deletions; unchanged ones are not delivered again.
    private async Task<string> RelistAsync(CancellationToken cancellationToken)
    {
        var (list, version) = await resources.ListAsync(cancellationToken).ConfigureAwait(false);
        lock (gate)
        {
            var listed = new HashSet<ObjectKey>();
            foreach (var item in list)
            {
                listed.Add(ObjectKey.Of(item));
                Upsert(item);
            }

            foreach (var key in items.Keys.Where(key => !listed.Contains(key)).ToList())
            {
                Remove(key);
            }

            resourceVersion = version;
        }

        RuntimeLog.Listed(logger, resources.Description, list.Count, version);
        synced.TrySetResult();
        return version;
    }

    private void Apply(WatchEvent<T> change)
    {
        lock (gate)
        {
            switch (change.Type)
            {
                case WatchEventType.Added or WatchEventType.Modified:
                    Upsert(change.Object!);
                    break;
                case WatchEventType.Deleted:
                    Remove(ObjectKey.Of(change.Object!));
                    break;
                default:
                    break;
            }

            resourceVersion = change.ResourceVersion;
        }
    }

    // Under the lock.
    private void Upsert(T item)
    {
        item.Metadata.ManagedFields = null;
        transform?.Invoke(item);
        var key = ObjectKey.Of(item);
        var entry = Entry.Of(item);
        if (items.TryGetValue(key, out var old))
        {
            if (old.ResourceVersion == entry.ResourceVersion)
            {
                return;
            }

            Unindex(key, old);
            items[key] = entry;
            Index(key, entry);
            // The old state is decompressed and deserialized only for a handler that reads it.
            T? previous = null;
            foreach (var handler in handlers)
            {
                if (handler.Updated is not null)
                {
                    previous ??= old.Read();
                    Invoke(handler.Updated, previous, item);
                }

                Invoke(handler.Changed, item);
            }

            return;
        }

        items[key] = entry;
        Index(key, entry);
        foreach (var handler in handlers)
        {
            Invoke(handler.Added, item);
        }
    }

    // Under the lock.
    private void Remove(ObjectKey key)
    {
        if (!items.Remove(key, out var old))
        {
            return;
        }

        Unindex(key, old);
        if (handlers.Count > 0)
        {
            var last = old.Read();
            foreach (var handler in handlers)
            {
                Invoke(handler.Deleted, last);
            }
        }
    }

    private void Index(ObjectKey key, Entry entry)
    {
        foreach (var owner in entry.Owners)
        {
            if (!byOwner.TryGetValue(owner, out var keys))
            {
                byOwner[owner] = keys = [];
            }

            keys.Add(key);
        }
    }

    private void Unindex(ObjectKey key, Entry entry)
    {
        foreach (var owner in entry.Owners)
        {
            if (byOwner.TryGetValue(owner, out var keys) && keys.Remove(key) && keys.Count == 0)
            {
                byOwner.Remove(owner);
            }
        }
    }

    private async Task ResyncAsync(CancellationToken cancellationToken)
    {
        if (options.ResyncPeriod == TimeSpan.Zero)
        {
            return;
        }

        while (true)
        {
            await Task.Delay(options.ResyncPeriod, time, cancellationToken).ConfigureAwait(false);
            lock (gate)
            {
                foreach (var item in items.Values.Select(entry => entry.Read()))
                {
                    foreach (var handler in handlers)
                    {
                        Invoke(handler.Updated, item, item);
                        Invoke(handler.Changed, item);
                    }
                }
            }
        }
    }

    private void Invoke(Action<T>? callback, T item)
    {
        try
        {
            callback?.Invoke(item);
        }
        catch (Exception exception)
        {
            RuntimeLog.HandlerFailed(logger, resources.Description, exception);
        }
    }

    private void Invoke(Action<T, T>? callback, T old, T item)
    {
        try
        {
            callback?.Invoke(old, item);
        }
        catch (Exception exception)
        {
            RuntimeLog.HandlerFailed(logger, resources.Description, exception);
        }
    }

    // One cached object: its JSON, Brotli-compressed at the fastest quality, and what the cache compares and indexes it by.
    private sealed record Entry(byte[] Compressed, int Length, string? ResourceVersion, string[] Owners)
    {
        private const int Quality = 1;
        private const int Window = 22;

        public static Entry Of(T item)
        {
            var json = Encoding.UTF8.GetBytes(KubernetesJson.Serialize(item));
            var buffer = ArrayPool<byte>.Shared.Rent(BrotliEncoder.GetMaxCompressedLength(json.Length));
            try
            {
                if (!BrotliEncoder.TryCompress(json, buffer, out var written, Quality, Window))
                {
                    throw new InvalidOperationException("Brotli could not compress a cached object into its maximum compressed length.");
                }

                return new Entry(buffer.AsSpan(0, written).ToArray(), json.Length, item.Metadata.ResourceVersion, [.. (item.Metadata.OwnerReferences ?? []).Select(owner => owner.Uid)]);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        public T Read()
        {
            var json = ArrayPool<byte>.Shared.Rent(Length);
            try
            {
                if (!BrotliDecoder.TryDecompress(Compressed, json, out var written) || written != Length)
                {
                    throw new InvalidDataException("A cached object did not decompress to its recorded length.");
                }

                return KubernetesJson.Deserialize<T>(new MemoryStream(json, 0, Length, writable: false));
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(json);
            }
        }
    }
}
