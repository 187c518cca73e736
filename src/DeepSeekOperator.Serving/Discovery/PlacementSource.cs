using DeepSeekOperator.Moe;
using DeepSeekOperator.Serving.Discovery.Internal;
using DeepSeekOperator.Serving.Placement;
using Microsoft.Extensions.Logging;

namespace DeepSeekOperator.Serving.Discovery;

/// <summary>
/// The placement file, kept current while the process runs. A ConfigMap mounted as a volume is updated by
/// swapping its <c>..data</c> symlink, so the file's directory is watched; a burst of changes is read once,
/// after <see cref="PlacementSourceOptions.Debounce"/> of quiet. A file that cannot be read, parsed or
/// validated against the model is logged and ignored: the last good placement stays current.
/// </summary>
public sealed class PlacementSource : IDisposable
{
    private readonly PlacementSourceOptions options;
    private readonly ModelConfig config;
    private readonly ILogger logger;
    private readonly Lock reloading = new();
    private readonly Latest<ExpertPlacement> latest;
    private readonly FileSystemWatcher watcher;
    private readonly ITimer debounce;
    private string currentJson;

    /// <summary>Reads and validates the file, then starts watching it.</summary>
    /// <param name="options">The file and the debounce.</param>
    /// <param name="config">The model every placement is validated against.</param>
    /// <param name="logger">Where loaded and rejected files are logged.</param>
    /// <param name="time">The clock behind the debounce; the system clock when null.</param>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    /// <exception cref="PlacementException">The file is not a valid placement for the model.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public PlacementSource(PlacementSourceOptions options, ModelConfig config, ILogger<PlacementSource> logger, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(logger);
        options.Validate();
        this.options = options;
        this.config = config;
        this.logger = logger;
        var placement = Read();
        currentJson = placement.Serialize();
        latest = new Latest<ExpertPlacement>(placement);
        DiscoveryLog.PlacementLoaded(logger, placement.Revision, placement.ModelId, options.Path);

        debounce = (time ?? TimeProvider.System).CreateTimer(_ => Reload(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        var full = Path.GetFullPath(options.Path);
        watcher = new FileSystemWatcher(Path.GetDirectoryName(full)!)
        {
            NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.CreationTime,
        };
        watcher.Changed += (_, _) => Touched();
        watcher.Created += (_, _) => Touched();
        watcher.Deleted += (_, _) => Touched();
        watcher.Renamed += (_, _) => Touched();
        watcher.Error += (_, _) => Touched();
        watcher.EnableRaisingEvents = true;
    }

    /// <summary>The placement in force: the last file that was read and found valid.</summary>
    public ExpertPlacement Current => latest.Current;

    /// <summary>
    /// <see cref="Current"/> at once, then every placement that replaces it. A reader that falls behind skips to
    /// the newest. Ends by throwing <see cref="OperationCanceledException"/> when <paramref name="cancellationToken"/> is cancelled.
    /// </summary>
    public IAsyncEnumerable<ExpertPlacement> WatchAsync(CancellationToken cancellationToken) => latest.WatchAsync(cancellationToken);

    /// <summary>Stops watching the file.</summary>
    public void Dispose()
    {
        watcher.Dispose();
        debounce.Dispose();
    }

    private void Touched() => debounce.Change(options.Debounce, Timeout.InfiniteTimeSpan);

    private ExpertPlacement Read()
    {
        var placement = ExpertPlacement.Parse(File.ReadAllText(options.Path));
        placement.EnsureValid(config);
        return placement;
    }

    private void Reload()
    {
        lock (reloading)
        {
            ExpertPlacement placement;
            try
            {
                placement = Read();
            }
            catch (Exception e) when (e is PlacementException or IOException or UnauthorizedAccessException)
            {
                DiscoveryLog.PlacementRejected(logger, options.Path, latest.Current.Revision, e.Message);
                return;
            }

            var json = placement.Serialize();
            if (json == currentJson)
            {
                DiscoveryLog.PlacementUnchanged(logger, options.Path, placement.Revision);
                return;
            }

            currentJson = json;
            latest.Publish(placement);
            DiscoveryLog.PlacementLoaded(logger, placement.Revision, placement.ModelId, options.Path);
        }
    }
}
