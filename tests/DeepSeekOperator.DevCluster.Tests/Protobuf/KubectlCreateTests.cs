using System.Diagnostics;
using System.Text.Json.Nodes;

namespace DeepSeekOperator.DevCluster.Tests.Protobuf;

/// <summary>
/// The real <c>kubectl</c> creating objects through its generators, which send protobuf bodies, against one server per class;
/// each object read back must carry every field the same command renders client-side with <c>--dry-run=client -o json</c>.
/// </summary>
public sealed class KubectlCreateTests : IAsyncLifetime
{
    private readonly string directory = Directory.CreateTempSubdirectory("dsop-kubectl-").FullName;
    private RunningApiServer? running;

    public static TheoryData<string, string> Commands => new()
    {
        { "create namespace staging", "namespace staging" },
        { "-n demo create configmap c --from-literal=a=b", "-n demo configmap c" },
        { "-n demo create secret generic s --from-literal=p=q", "-n demo secret s" },
        { "-n demo create deployment web --image=nginx:1.27 --replicas=2 --port=80", "-n demo deployment web" },
        { "-n demo create service clusterip web --tcp=80:8080", "-n demo service web" },
        { "-n demo create serviceaccount sa", "-n demo serviceaccount sa" },
        { "-n demo create role r --verb=get --resource=pods", "-n demo role r" },
        { "-n demo create rolebinding rb --role=r --serviceaccount=demo:sa", "-n demo rolebinding rb" },
        { "create clusterrole reader --verb=get,list --resource=pods,services", "clusterrole reader" },
        { "create clusterrolebinding readers --clusterrole=reader --user=alice --group=devs", "clusterrolebinding readers" },
        { "-n demo create pdb p --selector=app=web --min-available=1", "-n demo poddisruptionbudget p" },
        { "-n demo run p1 --image=busybox --restart=Never -- sleep 1", "-n demo pod p1" },
    };

    public async Task InitializeAsync()
    {
        running = await RunningApiServer.StartAsync();
        running.Server.WriteKubeconfig(Path.Combine(directory, "kubeconfig"));
        await KubectlAsync("create namespace demo");
    }

    public async Task DisposeAsync()
    {
        if (running is not null)
        {
            await running.DisposeAsync();
        }

        Directory.Delete(directory, recursive: true);
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public async Task KubectlCreate_WithAProtobufBody_StoresWhatTheCommandRendersClientSide(string create, string get)
    {
        var end = create.IndexOf(" -- ", StringComparison.Ordinal);
        var dryRun = create.Insert(end < 0 ? create.Length : end, " --dry-run=client -o json");
        var rendered = JsonNode.Parse(await KubectlAsync(dryRun))!.AsObject();
        rendered.Remove("status");
        rendered["metadata"]!.AsObject().Remove("creationTimestamp");

        await KubectlAsync(create);
        var stored = JsonNode.Parse(await KubectlAsync($"get {get} -o json"));

        AssertContains(rendered, stored, "");
    }

    /// <summary>Every field of <paramref name="expected"/> is in <paramref name="actual"/> with the same value; null means unset.</summary>
    private static void AssertContains(JsonNode? expected, JsonNode? actual, string path)
    {
        switch (expected)
        {
            case null:
                Assert.True(actual is null, $"{path} should be unset but is {actual?.ToJsonString()}");
                break;
            case JsonObject fields:
                var actualFields = Assert.IsType<JsonObject>(actual, exactMatch: false);
                foreach (var (name, value) in fields)
                {
                    AssertContains(value, actualFields[name], $"{path}.{name}");
                }

                break;
            case JsonArray items:
                var actualItems = Assert.IsType<JsonArray>(actual, exactMatch: false);
                Assert.True(items.Count == actualItems.Count, $"{path} has {actualItems.Count} items, expected {items.Count}");
                for (var i = 0; i < items.Count; i++)
                {
                    AssertContains(items[i], actualItems[i], $"{path}[{i}]");
                }

                break;
            default:
                Assert.True(JsonNode.DeepEquals(expected, actual), $"{path} is {actual?.ToJsonString()}, expected {expected.ToJsonString()}");
                break;
        }
    }

    private async Task<string> KubectlAsync(string arguments)
    {
        var start = new ProcessStartInfo(KubectlPath())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in $"--kubeconfig {Path.Combine(directory, "kubeconfig")} --cache-dir {Path.Combine(directory, "cache")} {arguments}".Split(' '))
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"kubectl {arguments} exited {process.ExitCode}: {await error}");
        return await output;
    }

    private static string KubectlPath() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(folder => Path.Combine(folder, "kubectl"))
            .FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException("kubectl is not on the PATH; these tests drive the real kubectl");
}
