using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace DeepSeekOperator.Controller.Prometheus;

/// <summary>
/// A real <c>prometheus</c> process on a free loopback port, scraping the targets it is given every
/// <see cref="ScrapeInterval"/>, with its configuration and TSDB in a temporary directory that disposing removes along
/// with the process: what integration tests and benchmarks read metrics through. <c>make prometheus</c> installs it.
/// </summary>
public sealed class PrometheusServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output;
    private readonly string _directory;
    private readonly HttpClient _http;
    private readonly TimeProvider _time;

    private PrometheusServer(Process process, ConcurrentQueue<string> output, string directory, Uri baseAddress, TimeSpan scrapeInterval, TimeProvider time)
    {
        _time = time;
        _process = process;
        _output = output;
        _directory = directory;
        BaseAddress = baseAddress;
        ScrapeInterval = scrapeInterval;
        ProcessId = process.Id;
        _http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <summary>The server's root, e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri BaseAddress { get; }

    /// <summary>How often every target is scraped (and rules evaluated).</summary>
    public TimeSpan ScrapeInterval { get; }

    /// <summary>The process's id.</summary>
    public int ProcessId { get; }

    /// <summary>The temporary directory of the configuration and the TSDB.</summary>
    public string DirectoryPath => _directory;

    /// <summary>What the process has written so far, for failure messages.</summary>
    public string Output => string.Join('\n', _output);

    private string ConfigPath => Path.Combine(_directory, "prometheus.yml");

    /// <summary>Starts Prometheus scraping <paramref name="jobs"/> and waits until <c>/-/ready</c> answers.</summary>
    /// <param name="jobs">The scrape jobs.</param>
    /// <param name="scrapeInterval">The scrape (and rule evaluation) interval; 1 s when null.</param>
    /// <param name="time">The clock of every wait; the system's when null.</param>
    /// <exception cref="InvalidOperationException"><c>prometheus</c> is not on PATH, or did not start.</exception>
    public static Task<PrometheusServer> StartAsync(IReadOnlyList<ScrapeJob> jobs, TimeSpan? scrapeInterval = null, TimeProvider? time = null)
    {
        var interval = scrapeInterval ?? TimeSpan.FromSeconds(1);
        return StartAsync(Config(jobs, interval), new Dictionary<string, string>(), interval, time);
    }

    /// <summary>
    /// Starts Prometheus with the configuration <paramref name="config"/> beside <paramref name="files"/> (such as
    /// file_sd target files, named relative to the configuration's directory) and waits until <c>/-/ready</c> answers.
    /// </summary>
    /// <param name="config">The whole <c>prometheus.yml</c>.</param>
    /// <param name="files">Files written beside it: name → content.</param>
    /// <param name="scrapeInterval">The configuration's scrape interval, which waits poll at.</param>
    /// <param name="time">The clock of every wait; the system's when null.</param>
    /// <exception cref="InvalidOperationException"><c>prometheus</c> is not on PATH, or did not start.</exception>
    public static async Task<PrometheusServer> StartAsync(string config, IReadOnlyDictionary<string, string> files, TimeSpan scrapeInterval, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(files);
        var executable = Tool("prometheus");
        var directory = Directory.CreateTempSubdirectory("dsop-prometheus-").FullName;
        var attempts = new List<string>();
        try
        {
            await File.WriteAllTextAsync(Path.Combine(directory, "prometheus.yml"), config).ConfigureAwait(false);
            foreach (var (name, content) in files)
            {
                await File.WriteAllTextAsync(Path.Combine(directory, name), content).ConfigureAwait(false);
            }

            // The free port is found by binding port 0 and letting it go; another process may take it in between, so retry.
            for (var attempt = 0; attempt < 3; attempt++)
            {
                var port = FreePort();
                var output = new ConcurrentQueue<string>();
                var process = Start(executable, directory, port, output);
                var server = new PrometheusServer(process, output, directory, new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/"), scrapeInterval, time ?? TimeProvider.System);
                if (await server.WaitUntilReadyAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false))
                {
                    return server;
                }

                attempts.Add(server.Output);
                await server.StopAsync().ConfigureAwait(false);
            }
        }
        catch
        {
            Directory.Delete(directory, recursive: true);
            throw;
        }

        Directory.Delete(directory, recursive: true);
        throw new InvalidOperationException($"prometheus did not become ready in 3 attempts:\n{string.Join("\n---\n", attempts)}");
    }

    /// <summary>Rewrites the scrape configuration to <paramref name="jobs"/> and reloads it (<c>POST /-/reload</c>).</summary>
    public async Task SetJobsAsync(IReadOnlyList<ScrapeJob> jobs)
    {
        await File.WriteAllTextAsync(ConfigPath, Config(jobs, ScrapeInterval)).ConfigureAwait(false);
        using var response = await _http.PostAsync(new Uri("-/reload", UriKind.Relative), content: null).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"prometheus refused to reload: HTTP {(int)response.StatusCode} {await response.Content.ReadAsStringAsync().ConfigureAwait(false)}\n{Output}");
        }
    }

    /// <summary>
    /// Waits until the active targets are exactly <paramref name="addresses"/> (host:port) and each has been scraped
    /// successfully at least once.
    /// </summary>
    public async Task WaitUntilScrapedAsync(IReadOnlyCollection<string> addresses, TimeSpan timeout)
    {
        var expected = addresses.Order(StringComparer.Ordinal).ToArray();
        var last = "";
        var started = _time.GetTimestamp();
        while (_time.GetElapsedTime(started) < timeout)
        {
            last = await _http.GetStringAsync(new Uri("api/v1/targets?state=active", UriKind.Relative)).ConfigureAwait(false);
            using var json = JsonDocument.Parse(last);
            var targets = json.RootElement.GetProperty("data").GetProperty("activeTargets").EnumerateArray()
                .Select(t => (Address: t.GetProperty("labels").GetProperty("instance").GetString()!, Health: t.GetProperty("health").GetString()))
                .ToArray();
            if (targets.Select(t => t.Address).Order(StringComparer.Ordinal).SequenceEqual(expected) && targets.All(t => t.Health == "up"))
            {
                return;
            }

            await Task.Delay(ScrapeInterval / 4, _time).ConfigureAwait(false);
        }

        throw new TimeoutException($"prometheus did not scrape [{string.Join(", ", expected)}] within {timeout.TotalSeconds} s; targets: {last}\n{Output}");
    }

    /// <summary>Stops the process and removes its directory.</summary>
    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        Directory.Delete(_directory, recursive: true);
    }

    private async Task<bool> WaitUntilReadyAsync(TimeSpan timeout)
    {
        var started = _time.GetTimestamp();
        while (_time.GetElapsedTime(started) < timeout && !_process.HasExited)
        {
            try
            {
                using var response = await _http.GetAsync(new Uri("-/ready", UriKind.Relative)).ConfigureAwait(false);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return true;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50), _time).ConfigureAwait(false);
        }

        return false;
    }

    private async Task StopAsync()
    {
        _http.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync().ConfigureAwait(false);
        _process.Dispose();
    }

    private static Process Start(string executable, string directory, int port, ConcurrentQueue<string> output)
    {
        var start = new ProcessStartInfo(executable)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
        {
            "--config.file=" + Path.Combine(directory, "prometheus.yml"),
            "--storage.tsdb.path=" + Path.Combine(directory, "data"),
            "--web.listen-address=127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture),
            "--web.enable-lifecycle",
            "--log.level=warn",
        })
        {
            start.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, line) => Record(output, line.Data);
        process.ErrorDataReceived += (_, line) => Record(output, line.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static void Record(ConcurrentQueue<string> output, string? line)
    {
        if (line is null)
        {
            return;
        }

        output.Enqueue(line);
        while (output.Count > 200 && output.TryDequeue(out _))
        {
        }
    }

    /// <summary>The configuration: a global interval and one static job per <see cref="ScrapeJob"/> (JSON is YAML).</summary>
    private static string Config(IReadOnlyList<ScrapeJob> jobs, TimeSpan interval)
    {
        var seconds = interval.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + "s";
        var config = new
        {
            global = new { scrape_interval = seconds, scrape_timeout = seconds, evaluation_interval = seconds },
            scrape_configs = jobs.Select(job => new
            {
                job_name = job.Name,
                metrics_path = job.MetricsPath,
                static_configs = job.Targets.Select(target => new { targets = new[] { target.Address }, labels = target.Labels ?? new Dictionary<string, string>() }),
            }),
        };
        return JsonSerializer.Serialize(config);
    }

    /// <summary>The path of <paramref name="name"/> (<c>prometheus</c>, <c>promtool</c>) on PATH.</summary>
    /// <exception cref="InvalidOperationException">It is not there: the message says to run <c>make prometheus</c>.</exception>
    public static string Tool(string name)
    {
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var path = Path.Combine(directory, name);
            if (File.Exists(path))
            {
                return path;
            }
        }

        throw new InvalidOperationException($"{name} is not on PATH: run `make prometheus` to install Debian's prometheus package (make test and make bench-autoscaler do)");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>A scrape job of <see cref="PrometheusServer"/>: its name (the <c>job</c> label), path, and targets.</summary>
/// <param name="Name">The job name.</param>
/// <param name="Targets">The targets, each with its own labels.</param>
/// <param name="MetricsPath">The path scraped on every target.</param>
public sealed record ScrapeJob(string Name, IReadOnlyList<ScrapeTarget> Targets, string MetricsPath = "/metrics");

/// <summary>A target of a <see cref="ScrapeJob"/>.</summary>
/// <param name="Address">host:port.</param>
/// <param name="Labels">Labels added to every series scraped from it.</param>
public sealed record ScrapeTarget(string Address, IReadOnlyDictionary<string, string>? Labels = null);
