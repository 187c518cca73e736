using System.Diagnostics;
using System.Reflection;
using DeepSeekOperator.DevCluster.Tests.Kubectl;

namespace DeepSeekOperator.Cli.Tests;

/// <summary>
/// <c>dsop dev-cluster up</c> as a new user runs it: the built binary starts the whole cluster in the background,
/// a Deployment of a small HTTP server runs as real processes on their own loopback addresses, kubectl shows the
/// rollout, the pod IPs and the logs, a deleted pod is replaced, and <c>down</c> leaves no process behind.
/// </summary>
public sealed class DevClusterUpTests
{
    private static readonly string TestServer = typeof(DevClusterUpTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "TestServerPath").Value!;

    [Fact]
    public async Task Up_RunsADeploymentAsProcesses_AndDownLeavesNoProcessBehind()
    {
        var runtime = Directory.CreateTempSubdirectory("dsop-up-").FullName;
        var kubeconfig = Path.Combine(runtime, "kubeconfig");
        var kubectl = new Kubectl(kubeconfig, runtime);
        try
        {
            var up = await DsopAsync("dev-cluster", "up", "--runtime-dir", runtime, "--port", "0", "--http-port", "-1",
                "--image", $"registry.local/test-server=dotnet {TestServer}");
            Assert.True(up.ExitCode == 0, up.ToString());
            Assert.Contains($"export KUBECONFIG={kubeconfig}", up.Output, StringComparison.Ordinal);

            var applied = await kubectl.RunWithInputAsync(Deployment, "apply", "-f", "-");
            Assert.True(applied.ExitCode == 0, applied.ToString());
            var rollout = await kubectl.RunAsync(["rollout", "status", "deployment/web", "--timeout=90s"], null, TimeSpan.FromSeconds(100));
            Assert.True(rollout.ExitCode == 0, rollout.ToString());
            Assert.Contains("successfully rolled out", rollout.Output, StringComparison.Ordinal);

            var pods = await kubectl.RunAsync("get", "pods", "-l", "app=web", "-o", "wide", "--no-headers");
            var rows = pods.Lines.Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();
            Assert.Equal(2, rows.Count);
            Assert.All(rows, row => Assert.Matches(@"^127\.0\.\d+\.\d+$", row[5]));
            Assert.Equal(2, rows.Select(row => row[5]).Distinct().Count());
            Assert.Equal(2, ServerProcesses().Count);

            var logs = await kubectl.RunAsync("logs", rows[0][0]);
            Assert.Contains("GET /readyz", logs.Output, StringComparison.Ordinal);

            var deleted = await kubectl.RunAsync("delete", "pod", rows[0][0]);
            Assert.True(deleted.ExitCode == 0, deleted.ToString());
            var again = await kubectl.RunAsync(["rollout", "status", "deployment/web", "--timeout=90s"], null, TimeSpan.FromSeconds(100));
            Assert.True(again.ExitCode == 0, again.ToString());
            var after = await kubectl.RunAsync("get", "pods", "-l", "app=web", "--no-headers", "-o", "custom-columns=NAME:.metadata.name");
            Assert.Equal(2, after.Lines.Length);
            Assert.DoesNotContain(rows[0][0], after.Lines);

            var down = await DsopAsync("dev-cluster", "down", "--runtime-dir", runtime);
            Assert.True(down.ExitCode == 0, down.ToString());
            Assert.Empty(ServerProcesses());
        }
        finally
        {
            await DsopAsync("dev-cluster", "down", "--runtime-dir", runtime);
            Directory.Delete(runtime, recursive: true);
        }
    }

    private const string Deployment = """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec:
          replicas: 2
          selector: {matchLabels: {app: web}}
          strategy: {rollingUpdate: {maxUnavailable: 0, maxSurge: 1}}
          template:
            metadata: {labels: {app: web}}
            spec:
              terminationGracePeriodSeconds: 5
              containers:
              - name: web
                image: registry.local/test-server:1
                env:
                - {name: PORT, value: "8080"}
                - name: POD_IP
                  valueFrom: {fieldRef: {fieldPath: status.podIP}}
                ports: [{name: http, containerPort: 8080}]
                readinessProbe: {httpGet: {path: /readyz, port: http}, periodSeconds: 1}
        """;

    /// <summary>The test server processes: those whose program is dotnet and whose first argument is the server.</summary>
    private static List<int> ServerProcesses() =>
        [.. Process.GetProcesses().Where(p => CommandLine(p.Id) is [var program, var first, ..] && Path.GetFileName(program) == "dotnet" && first == TestServer).Select(p => p.Id)];

    private static string[] CommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Split('\0', StringSplitOptions.RemoveEmptyEntries);
        }
        catch (IOException)
        {
            return [];
        }
        catch (UnauthorizedAccessException)
        {
            return [];
        }
    }

    private static async Task<KubectlResult> DsopAsync(params string[] args)
    {
        var start = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "dsop"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await process.WaitForExitAsync(deadline.Token);
        return new KubectlResult(process.ExitCode, await output, await error);
    }
}
