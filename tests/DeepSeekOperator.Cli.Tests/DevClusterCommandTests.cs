using System.Text.RegularExpressions;
using DeepSeekOperator.DevCluster.Tests.Kubectl;

namespace DeepSeekOperator.Cli.Tests;

public sealed partial class DevClusterCommandTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task DevClusterApi_WithStateDir_ServesKubectlStopsWhenCancelledAndKeepsObjectsForTheNextRun()
    {
        var state = Directory.CreateTempSubdirectory("dsop-dev-cluster-").FullName;
        try
        {
            var kubeconfig = Path.Combine(state, "kubeconfig");
            var kubectl = new Kubectl(kubeconfig, state);
            Uri firstUri;
            string uid;
            await using (var first = await RunningDevCluster.StartAsync(state))
            {
                Assert.Contains($"Wrote kubeconfig to {kubeconfig}", first.Output, StringComparison.Ordinal);
                Assert.Contains($"Objects are kept in {state}.", first.Output, StringComparison.Ordinal);
                firstUri = first.HttpsUri;
                Assert.Contains($"server: {firstUri.ToString().TrimEnd('/')}", await File.ReadAllTextAsync(kubeconfig), StringComparison.Ordinal);

                var applied = await kubectl.RunWithInputAsync(
                    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: kept}\ndata: {model: tiny}\n", "apply", "-f", "-");
                Assert.True(applied.ExitCode == 0, applied.ToString());
                uid = (await kubectl.RunAsync("get", "configmap", "kept", "-o", "jsonpath={.metadata.uid}")).Output;

                Assert.Equal(0, await first.StopAsync());
            }

            var stopped = await kubectl.RunAsync("get", "configmap", "kept", "--request-timeout=5s");
            Assert.NotEqual(0, stopped.ExitCode);

            await using var second = await RunningDevCluster.StartAsync(state);
            var read = await kubectl.RunAsync("get", "configmap", "kept", "-o", "jsonpath={.metadata.uid} {.data.model}");
            Assert.True(read.ExitCode == 0, read.ToString());
            Assert.Equal($"{uid} tiny", read.Output);
            Assert.Equal(0, await second.StopAsync());
        }
        finally
        {
            Directory.Delete(state, recursive: true);
        }
    }

    [GeneratedRegex(@"listening on (https://127\.0\.0\.1:\d+/) and http://127\.0\.0\.1:\d+/ \(plain HTTP, no authentication\)")]
    private static partial Regex ListeningLine();

    /// <summary><c>dsop dev-cluster api</c> running in-process on free ports until cancelled, as Ctrl+C cancels it.</summary>
    private sealed class RunningDevCluster : IAsyncDisposable
    {
        private readonly StringWriter output = new();
        private readonly TextWriter synchronizedOutput;
        private readonly StringWriter error = new();
        private readonly CancellationTokenSource interrupt = new();
        private readonly Task<int> run;

        private RunningDevCluster(string stateDirectory)
        {
            synchronizedOutput = TextWriter.Synchronized(output);
            run = Dsop.RunAsync(["dev-cluster", "api", "--port", "0", "--http-port", "0", "--state-dir", stateDirectory], synchronizedOutput, error, interrupt.Token);
        }

        /// <summary>What the command has printed so far.</summary>
        public string Output
        {
            get
            {
                lock (synchronizedOutput)
                {
                    return output.ToString();
                }
            }
        }

        public Uri HttpsUri => new(ListeningLine().Match(Output).Groups[1].Value);

        /// <summary>Starts the command and waits until it says it is serving.</summary>
        public static async Task<RunningDevCluster> StartAsync(string stateDirectory)
        {
            var running = new RunningDevCluster(stateDirectory);
            var deadline = DateTime.UtcNow + Deadline;
            while (!running.Output.Contains("Press Ctrl+C to stop.", StringComparison.Ordinal))
            {
                if (running.run.IsCompleted || DateTime.UtcNow > deadline)
                {
                    await running.DisposeAsync();
                    Assert.Fail($"dsop dev-cluster api did not start: {running.Output}\n{running.error}");
                }

                await Task.Delay(20);
            }

            Assert.Matches(ListeningLine(), running.Output);
            return running;
        }

        /// <summary>Cancels the command, as Ctrl+C does, and returns its exit code.</summary>
        public async Task<int> StopAsync()
        {
            await interrupt.CancelAsync();
            return await run.WaitAsync(Deadline);
        }

        public async ValueTask DisposeAsync()
        {
            if (!run.IsCompleted)
            {
                await StopAsync();
            }

            interrupt.Dispose();
            synchronizedOutput.Dispose();
            error.Dispose();
        }
    }
}
