using System.Text.Json.Nodes;
using System.Threading.Channels;
using DeepSeekOperator.DevCluster.Internal.Patching;
using DeepSeekOperator.DevCluster.Internal.Query;

namespace DeepSeekOperator.DevCluster.Internal.Storage;

/// <summary>
/// The emulator's etcd: every object of every resource, one global revision counter, and a window of recent
/// changes that watches resume from. Writes are serialized; each gets the next revision. Readers see
/// committed state only. When a journal is given, every write reaches it before the write is acknowledged.
/// </summary>
internal sealed class ObjectStore : IDisposable
{
    private readonly Lock gate = new();
    private readonly Dictionary<string, SortedDictionary<string, StoredObject>> resources = new(StringComparer.Ordinal);

    /// <summary>Each resource's objects again by namespace, so that a namespace's list costs what it holds.</summary>
    private readonly Dictionary<(string StorageKey, string Namespace), SortedDictionary<string, StoredObject>> namespaces = [];
    private readonly LabelIndex labels = new();
    private readonly StoreEvent?[] window;
    private readonly List<Subscription> subscriptions = [];
    private readonly Journal? journal;
    private long revision;
    private long windowStart;
    private int windowCount;

    /// <param name="windowSize">How many recent changes are kept for watches and consistent paging.</param>
    /// <param name="journal">Where writes are persisted, or null for memory only; its contents are loaded first.</param>
    public ObjectStore(int windowSize, Journal? journal = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(windowSize, 1);
        window = new StoreEvent?[windowSize];
        this.journal = journal;
        if (journal is not null)
        {
            var loaded = journal.Load(out var loadedRevision);
            foreach (var (key, value) in loaded)
            {
                var stored = new StoredObject(value, ResourceVersionOf(value));
                Table(key)[stored.Key] = stored;
                NamespaceTable(key, stored.Namespace)[stored.Key] = stored;
                labels.Update(key, null, stored);
            }

            Revision = loadedRevision;
            CompactedRevision = loadedRevision;
        }
    }

    /// <summary>The revision of the latest write.</summary>
    public long Revision
    {
        get => Interlocked.Read(ref revision);
        private set => Interlocked.Exchange(ref revision, value);
    }

    /// <summary>Changes at or below this revision are no longer in the window.</summary>
    public long CompactedRevision { get; private set; }

    /// <summary>Runs <paramref name="write"/> with exclusive access; its changes commit in order as it makes them.</summary>
    public T Write<T>(Func<StoreWriter, T> write)
    {
        lock (gate)
        {
            return write(new StoreWriter(this));
        }
    }

    public StoredObject? Get(string storageKey, string ns, string name)
    {
        lock (gate)
        {
            return resources.TryGetValue(storageKey, out var table) && table.TryGetValue(StoredObject.KeyOf(ns, name), out var found) ? found : null;
        }
    }

    /// <summary>The current objects of a resource (in one namespace, or all when <paramref name="ns"/> is null), in key order.</summary>
    public (IReadOnlyList<StoredObject> Items, long Revision) List(string storageKey, string? ns)
    {
        lock (gate)
        {
            return (Select(storageKey, ns), Revision);
        }
    }

    /// <summary>
    /// The current objects of a resource in <paramref name="ns"/> whose label <paramref name="label"/> has the value
    /// <paramref name="value"/> (a number or other non-string label as its JSON text), in key order; found through an
    /// index, so the cost follows the number found rather than the number stored.
    /// </summary>
    public IReadOnlyList<StoredObject> ListLabelled(string storageKey, string ns, string label, string value)
    {
        lock (gate)
        {
            return resources.TryGetValue(storageKey, out var table) ? labels.Find(storageKey, ns, label, value, table) : [];
        }
    }

    /// <summary>
    /// The current objects of a resource in <paramref name="ns"/> with every one of the label values in
    /// <paramref name="required"/> (at least one), found through the value held by the fewest objects, in key order.
    /// </summary>
    public IReadOnlyList<StoredObject> ListLabelled(string storageKey, string ns, IReadOnlyCollection<(string Label, string Value)> required)
    {
        lock (gate)
        {
            if (!resources.TryGetValue(storageKey, out var table))
            {
                return [];
            }

            var (label, value) = required.MinBy(r => labels.Count(storageKey, ns, r.Label, r.Value));
            return labels.Find(storageKey, ns, label, value, table);
        }
    }

    /// <summary>Every object, of any resource, with an owner reference to <paramref name="uid"/>: by resource as <see cref="All"/> orders them, then by key.</summary>
    public IReadOnlyList<(string StorageKey, StoredObject Object)> ListDependents(string uid)
    {
        lock (gate)
        {
            return [.. resources.SelectMany(r => labels.Find(r.Key, LabelIndex.OwnerKey, LabelIndex.OwnerKey, uid, r.Value).Select(o => (r.Key, o)))];
        }
    }

    /// <summary>
    /// The current objects of a resource in <paramref name="ns"/> that <paramref name="selector"/> matches, in key order,
    /// looked up by its first single-valued equality requirement when it has one.
    /// </summary>
    public IReadOnlyList<StoredObject> ListMatching(string storageKey, string ns, LabelSelector selector)
    {
        var narrow = selector.Requirements.Where(r => r.Operator is LabelOperator.Equals or LabelOperator.DoubleEquals or LabelOperator.In && r.Values.Count == 1).Select(r => (r.Key, r.Values[0])).ToList();
        var candidates = narrow.Count == 0 ? List(storageKey, ns).Items : ListLabelled(storageKey, ns, narrow);
        return [.. candidates.Where(o => selector.Matches(o.Value["metadata"]?["labels"] as JsonObject))];
    }

    /// <summary>The current objects of a resource in <paramref name="ns"/> whose controller (owner reference with <c>controller: true</c>) has <paramref name="uid"/>, in key order.</summary>
    public IReadOnlyList<StoredObject> ListControlledBy(string storageKey, string ns, string uid)
    {
        lock (gate)
        {
            return resources.TryGetValue(storageKey, out var table) ? labels.Find(storageKey, ns, LabelIndex.ControllerKey, uid, table) : [];
        }
    }

    /// <summary>
    /// The objects of a resource as they were at <paramref name="revision"/>, rebuilt from the current state and the
    /// window of changes; null when that revision is older than the window (the caller answers 410 Gone).
    /// </summary>
    public IReadOnlyList<StoredObject>? ListAt(string storageKey, string? ns, long revision)
    {
        lock (gate)
        {
            if (revision < CompactedRevision || revision > Revision)
            {
                return null;
            }

            var state = new SortedDictionary<string, StoredObject>(StringComparer.Ordinal);
            foreach (var item in Select(storageKey, ns))
            {
                state[item.Key] = item;
            }

            for (var i = windowCount - 1; i >= 0; i--)
            {
                var change = window[(windowStart + i) % window.Length]!;
                if (change.Revision <= revision)
                {
                    break;
                }

                if (change.StorageKey != storageKey || (ns is not null && change.Object.Namespace != ns))
                {
                    continue;
                }

                if (change.Previous is null)
                {
                    state.Remove(change.Object.Key);
                }
                else
                {
                    state[change.Previous.Key] = change.Previous;
                }
            }

            return [.. state.Values];
        }
    }

    /// <summary>Every resource key that holds at least one object, with its objects (for garbage collection).</summary>
    public IReadOnlyList<(string StorageKey, StoredObject Object)> All()
    {
        lock (gate)
        {
            return [.. resources.SelectMany(r => r.Value.Values.Select(o => (r.Key, o)))];
        }
    }

    /// <summary>
    /// Starts a watch of one resource (or all, when <paramref name="storageKey"/> is null) with the current objects
    /// as its initial state: the snapshot and every later change, with nothing missed in between.
    /// </summary>
    public (IReadOnlyList<StoredObject> Snapshot, long Revision, Subscription Subscription) WatchWithSnapshot(string? storageKey, string? ns)
    {
        lock (gate)
        {
            var subscription = Subscribe(storageKey);
            return (storageKey is null ? [] : Select(storageKey, ns), Revision, subscription);
        }
    }

    /// <summary>
    /// Starts a watch of changes after <paramref name="revision"/>; the changes already in the window come first.
    /// Null when the window no longer reaches back that far (410 Gone).
    /// </summary>
    public (IReadOnlyList<StoreEvent> Replay, Subscription Subscription)? WatchFrom(string? storageKey, long revision)
    {
        lock (gate)
        {
            if (revision < CompactedRevision)
            {
                return null;
            }

            var replay = new List<StoreEvent>();
            for (var i = 0; i < windowCount; i++)
            {
                var change = window[(windowStart + i) % window.Length]!;
                if (change.Revision > revision && (storageKey is null || change.StorageKey == storageKey))
                {
                    replay.Add(change);
                }
            }

            return (replay, Subscribe(storageKey));
        }
    }

    /// <summary>Drops every change up to <paramref name="revision"/> from the window, as etcd compaction does.</summary>
    public void Compact(long revision)
    {
        lock (gate)
        {
            while (windowCount > 0 && window[windowStart % window.Length]!.Revision <= revision)
            {
                Evict();
            }

            CompactedRevision = Math.Max(CompactedRevision, Math.Min(revision, Revision));
        }
    }

    /// <summary>Writes a snapshot of everything and starts an empty journal (no-op without a journal).</summary>
    public void Checkpoint()
    {
        lock (gate)
        {
            journal?.Checkpoint(Revision, resources.SelectMany(r => r.Value.Values.Select(o => (r.Key, o.Value))));
        }
    }

    /// <summary>Checkpoints when the journal has grown past <paramref name="records"/> writes.</summary>
    public void CheckpointIfLarge(long records)
    {
        lock (gate)
        {
            if (journal is { } j && j.RecordsSinceCheckpoint >= records)
            {
                Checkpoint();
            }
        }
    }

    public void Dispose()
    {
        lock (gate)
        {
            foreach (var subscription in subscriptions)
            {
                subscription.Writer.TryComplete();
            }

            subscriptions.Clear();
            journal?.Dispose();
        }
    }

    private static long ResourceVersionOf(JsonObject value) =>
        long.Parse(value["metadata"]!["resourceVersion"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture);

    private List<StoredObject> Select(string storageKey, string? ns)
    {
        if (!resources.TryGetValue(storageKey, out var table))
        {
            return [];
        }

        if (ns is null)
        {
            return [.. table.Values];
        }

        return namespaces.TryGetValue((storageKey, ns), out var inNamespace) ? [.. inNamespace.Values] : [];
    }

    private SortedDictionary<string, StoredObject> NamespaceTable(string storageKey, string ns)
    {
        if (!namespaces.TryGetValue((storageKey, ns), out var table))
        {
            table = new SortedDictionary<string, StoredObject>(StringComparer.Ordinal);
            namespaces[(storageKey, ns)] = table;
        }

        return table;
    }

    private SortedDictionary<string, StoredObject> Table(string storageKey)
    {
        if (!resources.TryGetValue(storageKey, out var table))
        {
            table = new SortedDictionary<string, StoredObject>(StringComparer.Ordinal);
            resources[storageKey] = table;
        }

        return table;
    }

    private Subscription Subscribe(string? storageKey)
    {
        var subscription = new Subscription(this, storageKey);
        subscriptions.Add(subscription);
        return subscription;
    }

    private void Unsubscribe(Subscription subscription)
    {
        lock (gate)
        {
            subscriptions.Remove(subscription);
        }
    }

    private void Evict()
    {
        var evicted = window[windowStart % window.Length]!;
        window[windowStart % window.Length] = null;
        windowStart++;
        windowCount--;
        CompactedRevision = evicted.Revision;
    }

    private StoreEvent Commit(string storageKey, StoreEventType type, StoredObject stored, StoredObject? previous)
    {
        journal?.Append(storageKey, type == StoreEventType.Deleted ? null : stored.Value, stored.Namespace, stored.Name, stored.Revision);
        var table = Table(storageKey);
        if (type == StoreEventType.Deleted)
        {
            table.Remove(stored.Key);
            if (namespaces.TryGetValue((storageKey, stored.Namespace), out var inNamespace) && inNamespace.Remove(stored.Key) && inNamespace.Count == 0)
            {
                namespaces.Remove((storageKey, stored.Namespace));
            }

            labels.Update(storageKey, previous, null);
        }
        else
        {
            table[stored.Key] = stored;
            NamespaceTable(storageKey, stored.Namespace)[stored.Key] = stored;
            labels.Update(storageKey, previous, stored);
        }

        Revision = stored.Revision;
        var change = new StoreEvent(stored.Revision, storageKey, type, stored, previous);
        if (windowCount == window.Length)
        {
            Evict();
        }

        window[(windowStart + windowCount) % window.Length] = change;
        windowCount++;
        foreach (var subscription in subscriptions)
        {
            if (subscription.StorageKey is null || subscription.StorageKey == storageKey)
            {
                subscription.Writer.TryWrite(change);
            }
        }

        return change;
    }

    /// <summary>The changes committed after a watch started, in revision order.</summary>
    internal sealed class Subscription : IDisposable
    {
        private readonly Channel<StoreEvent> channel = Channel.CreateUnbounded<StoreEvent>(new UnboundedChannelOptions { SingleReader = true });
        private readonly ObjectStore store;

        public Subscription(ObjectStore store, string? storageKey)
        {
            this.store = store;
            StorageKey = storageKey;
        }

        public string? StorageKey { get; }

        public ChannelReader<StoreEvent> Reader => channel.Reader;

        internal ChannelWriter<StoreEvent> Writer => channel.Writer;

        public void Dispose()
        {
            store.Unsubscribe(this);
            channel.Writer.TryComplete();
        }
    }

    /// <summary>Exclusive access to the store for one write; every call commits at once with the next revision.</summary>
    internal readonly struct StoreWriter(ObjectStore store)
    {
        public long Revision => store.Revision;

        public StoredObject? Get(string storageKey, string ns, string name) =>
            store.resources.TryGetValue(storageKey, out var table) && table.TryGetValue(StoredObject.KeyOf(ns, name), out var found) ? found : null;

        public IReadOnlyList<StoredObject> List(string storageKey, string? ns) => store.Select(storageKey, ns);

        /// <summary>
        /// Stores a new object or a new version of one; sets its resourceVersion. <paramref name="managedFields"/> are
        /// its managed fields decoded, when the caller has them.
        /// </summary>
        public StoreEvent Put(string storageKey, JsonObject value, DecodedManagedFields? managedFields = null)
        {
            var revision = store.Revision + 1;
            ((JsonObject)value["metadata"]!)["resourceVersion"] = revision.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var stored = new StoredObject(value, revision, managedFields);
            var previous = Get(storageKey, stored.Namespace, stored.Name);
            return store.Commit(storageKey, previous is null ? StoreEventType.Added : StoreEventType.Modified, stored, previous);
        }

        /// <summary>Removes an object; the deletion event carries its last state with the deletion's revision.</summary>
        public StoreEvent Delete(string storageKey, StoredObject current)
        {
            var revision = store.Revision + 1;
            var last = current.Clone();
            ((JsonObject)last["metadata"]!)["resourceVersion"] = revision.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return store.Commit(storageKey, StoreEventType.Deleted, new StoredObject(last, revision), current);
        }
    }
}
