using System.Diagnostics;
using DeepSeekOperator.DevCluster;
using DeepSeekOperator.DevCluster.Tests.Kubectl;
using DeepSeekOperator.Tests;

namespace DeepSeekOperator.Cli.Tests;

/// <summary>
/// The manifests as a platform engineer applies them with the real <c>kubectl</c>, to a dev cluster whose pods are
/// simulated (the runtime image is mapped to no command), with <c>dsop operator</c> running.
/// </summary>
public sealed class KubectlModelTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task KubectlApplyTheSample_GetShowsItReadyWithItsEndpoint_WaitReturns()
    {
        var directory = Directory.CreateTempSubdirectory("dsop-kubectl-model-").FullName;
        try
        {
            await using var cluster = await DevCluster.DevCluster.StartAsync(new DevClusterOptions { RuntimeDirectory = Path.Combine(directory, "pods") });
            var kubeconfig = Path.Combine(directory, "kubeconfig");
            cluster.Api.WriteKubeconfig(kubeconfig);
            var kubectl = new Kubectl(kubeconfig, directory);
            using var output = new LineWriter("operator ");
            using var stop = new CancellationTokenSource();
            var run = Dsop.RunAsync(["operator", "--kubeconfig", kubeconfig, "--metrics-port", "0", "--bind", "127.0.0.1"], output, TextWriter.Null, stop.Token);
            await output.Seen.WaitAsync(Patience);

            var crd = await kubectl.RunAsync("apply", "-f", Repository.PathOf("crds/deepseekmodels.moe.deepseek-operator.io.yaml"));
            Assert.True(crd.ExitCode == 0, crd.ToString());
            Assert.True((await kubectl.RunAsync("wait", "--for=condition=Established", "crd/deepseekmodels.moe.deepseek-operator.io")).ExitCode == 0);
            var apply = await kubectl.RunAsync("apply", "-f", Repository.PathOf("config/samples/tiny-synthetic.yaml"));
            Assert.True(apply.ExitCode == 0, apply.ToString());
            Assert.Equal("deepseekmodel.moe.deepseek-operator.io/tiny created", apply.Output.Trim());

            var clock = Stopwatch.StartNew();
            var wait = await kubectl.RunAsync(["wait", "--for=condition=Ready", "dsm/tiny", "--timeout=50s"], null, Patience);
            Assert.True(wait.ExitCode == 0, wait.ToString());
            Assert.Equal("deepseekmodel.moe.deepseek-operator.io/tiny condition met", wait.Output.Trim());
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"Ready after {clock.Elapsed}");

            var get = await kubectl.RunAsync("get", "dsm");
            Assert.True(get.ExitCode == 0, get.ToString());
            var header = get.Lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var row = get.Lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(["NAME", "READY", "ROUTERS", "SHARDS", "EXPERTS", "PLACEMENT", "IMBALANCE", "ENDPOINT", "AGE"], header);
            // Placement revision 1 (Contiguous); no imbalance until a Balanced placement has measured the load.
            Assert.Equal(["tiny", "True", "1", "4", "16", "1", "http://tiny.default.svc.cluster.local:8000/v1"], row[..7]);

            await stop.CancelAsync();
            Assert.Equal(0, await run.WaitAsync(Patience));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
