using System.Runtime.Versioning;
using System.Text;
using k8s;
using k8s.Models;

namespace DeepSeekOperator.DevCluster.Tests.Kubelet;

/// <summary>Volumes, exec and tcpSocket probes, restart policies, init containers and simulated pods.</summary>
[SupportedOSPlatform("linux")]
public sealed class PodRunnerLifecycleTests : IAsyncLifetime
{
    private PodRunnerCluster cluster = null!;

    public async Task InitializeAsync() => cluster = await PodRunnerCluster.StartAsync();

    public async Task DisposeAsync() => await cluster.DisposeAsync();

    [Fact]
    public async Task ConfigMapVolumeFile_ChangesWhenTheConfigMapChanges()
    {
        var config = await cluster.Client.CoreV1.CreateNamespacedConfigMapAsync(
            new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "greeting" }, Data = new Dictionary<string, string> { ["text"] = "hello" } }, "default");
        var container = PodRunnerCluster.TestServer();

        // A path under the mount, given to the process in an env value, is rewritten to the volume's host directory.
        container.Env.Add(new V1EnvVar { Name = "GREETING_FILE", Value = "/etc/greeting/text" });
        container.VolumeMounts = [new V1VolumeMount { Name = "config", MountPath = "/etc/greeting" }];
        var pod = PodRunnerCluster.Pod("reader", container);
        pod.Spec.Volumes = [new V1Volume { Name = "config", ConfigMap = new V1ConfigMapVolumeSource { Name = "greeting" } }];
        await cluster.CreateAsync(pod);
        pod = await cluster.WaitForAsync("reader", PodRunnerCluster.IsReady, "Ready");
        var (_, file) = await PodRunnerCluster.GetAsync(pod, "/env?name=GREETING_FILE");
        Assert.NotEqual("/etc/greeting/text", file);
        Assert.Equal((200, "hello"), await PodRunnerCluster.GetAsync(pod, $"/files?path={Uri.EscapeDataString(file)}"));

        config.Data["text"] = "goodbye";
        await cluster.Client.CoreV1.ReplaceNamespacedConfigMapAsync(config, "greeting", "default");

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while ((await PodRunnerCluster.GetAsync(pod, $"/files?path={Uri.EscapeDataString(file)}")).Body != "goodbye")
        {
            Assert.True(DateTime.UtcNow < deadline, "the file never changed");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task ExecReadinessProbe_GatesReadiness_AndTcpSocketLivenessKeepsTheContainer()
    {
        var container = PodRunnerCluster.TestServer();
        container.VolumeMounts = [new V1VolumeMount { Name = "scratch", MountPath = "/scratch" }];
        container.ReadinessProbe = new V1Probe { Exec = new V1ExecAction { Command = ["test", "-f", "/scratch/ready"] }, PeriodSeconds = 1 };
        container.LivenessProbe = new V1Probe { TcpSocket = new V1TCPSocketAction { Port = "http" }, InitialDelaySeconds = 5, PeriodSeconds = 1 };
        var pod = PodRunnerCluster.Pod("gated", container);
        pod.Spec.Volumes = [new V1Volume { Name = "scratch", EmptyDir = new V1EmptyDirVolumeSource() }];
        pod = await cluster.CreateAsync(pod);
        pod = await cluster.WaitForAsync("gated", p => p.Status?.ContainerStatuses?.FirstOrDefault()?.Started == true, "started");
        Assert.False(PodRunnerCluster.IsReady(pod));
        var scratch = Path.Combine(cluster.Root, "pods", pod.Metadata.Uid, "volumes", "kubernetes.io~empty-dir", "scratch");
        Assert.True(Directory.Exists(scratch));

        await File.WriteAllTextAsync(Path.Combine(scratch, "ready"), "");

        pod = await cluster.WaitForAsync("gated", PodRunnerCluster.IsReady, "Ready");
        await Task.Delay(TimeSpan.FromSeconds(0.1));
        pod = await cluster.WaitForAsync("gated", p => p.Status.ContainerStatuses[0].RestartCount == 0, "no restart");
        var ready = pod.Status.Conditions.Single(c => c.Type == "Ready");
        Assert.NotNull(ready.LastTransitionTime);
    }

    [Fact]
    public async Task RestartPolicyNever_FailedProcess_LeavesThePodFailedWithItsExitCode()
    {
        var container = new V1Container { Name = "job", Image = PodRunnerCluster.TestImage, Command = ["sh", "-c", "echo working; exit 3"] };
        var pod = PodRunnerCluster.Pod("once", container);
        pod.Spec.RestartPolicy = "Never";
        await cluster.CreateAsync(pod);

        pod = await cluster.WaitForAsync("once", p => p.Status?.Phase == "Failed", "phase Failed");

        var status = pod.Status.ContainerStatuses.Single();
        Assert.Equal(3, status.State.Terminated.ExitCode);
        Assert.Equal("Error", status.State.Terminated.Reason);
        Assert.Equal(0, status.RestartCount);
        Assert.False(status.Ready);
        using var log = new StreamReader(await cluster.Client.CoreV1.ReadNamespacedPodLogAsync("once", "default"));
        Assert.Equal("working\n", await log.ReadToEndAsync());
    }

    [Fact]
    public async Task TerminationLog_NamedInAnArg_BecomesTheTerminatedStatesMessage()
    {
        // The arg naming /dev/termination-log is rewritten to the instance's host file, as a mount path is.
        var container = new V1Container
        {
            Name = "job",
            Image = PodRunnerCluster.TestImage,
            Command = ["sh", "-c", "printf 'all done' > \"$0\"", "/dev/termination-log"],
        };
        var pod = PodRunnerCluster.Pod("reporter", container);
        pod.Spec.RestartPolicy = "Never";
        await cluster.CreateAsync(pod);

        pod = await cluster.WaitForAsync("reporter", p => p.Status?.Phase == "Succeeded", "phase Succeeded");

        var terminated = pod.Status.ContainerStatuses.Single().State.Terminated;
        Assert.Equal("Completed", terminated.Reason);
        Assert.Equal("all done", terminated.Message);
    }

    [Fact]
    public async Task FallbackToLogsOnError_EmptyFileAndFailedExit_TakesAtMost2048BytesOfTheLast80LogLines()
    {
        var container = new V1Container
        {
            Name = "job",
            Image = PodRunnerCluster.TestImage,
            TerminationMessagePolicy = "FallbackToLogsOnError",
            Command = ["sh", "-c", "i=1; while [ $i -le 100 ]; do printf 'line %03d ..........................\\n' $i; i=$((i+1)); done; exit 1"],
        };
        var pod = PodRunnerCluster.Pod("failing", container);
        pod.Spec.RestartPolicy = "Never";
        await cluster.CreateAsync(pod);

        pod = await cluster.WaitForAsync("failing", p => p.Status?.Phase == "Failed", "phase Failed");

        var message = pod.Status.ContainerStatuses.Single().State.Terminated.Message;
        Assert.StartsWith("line 021 ", message, StringComparison.Ordinal);
        Assert.Equal(2048, Encoding.UTF8.GetByteCount(message));
    }

    [Fact]
    public async Task TerminationMessage_OfARestartedContainer_IsInLastState_CutTo4096Bytes()
    {
        // A custom terminationMessagePath, seen by the shell through an env value.
        var container = new V1Container
        {
            Name = "crasher",
            Image = PodRunnerCluster.TestImage,
            TerminationMessagePath = "/var/run/reason",
            Env = [new V1EnvVar { Name = "REASON", Value = "/var/run/reason" }],
            Command = ["sh", "-c", "head -c 5000 /dev/zero | tr '\\0' x > \"$REASON\"; exit 2"],
        };
        await cluster.CreateAsync(PodRunnerCluster.Pod("restarting", container));

        var pod = await cluster.WaitForAsync("restarting", p => p.Status?.ContainerStatuses?[0].LastState?.Terminated is not null, "a restart");

        var message = pod.Status.ContainerStatuses[0].LastState.Terminated.Message;
        Assert.Equal(new string('x', 4096), message);
    }

    [Fact]
    public async Task CrashingContainer_BacksOff_WithCrashLoopBackOffAndBackOffEvents()
    {
        var container = new V1Container { Name = "crasher", Image = PodRunnerCluster.TestImage, Command = ["sh", "-c", "exit 1"] };
        await cluster.CreateAsync(PodRunnerCluster.Pod("loop", container));

        var pod = await cluster.WaitForAsync("loop", p => p.Status?.ContainerStatuses?[0].State.Waiting?.Reason == "CrashLoopBackOff", "CrashLoopBackOff");

        var status = pod.Status.ContainerStatuses[0];
        Assert.Equal("Running", pod.Status.Phase);
        Assert.Equal(1, status.LastState.Terminated.ExitCode);
        Assert.StartsWith("back-off ", status.State.Waiting.Message, StringComparison.Ordinal);
        Assert.EndsWith($"restarting failed container=crasher pod=loop_default({pod.Metadata.Uid})", status.State.Waiting.Message, StringComparison.Ordinal);
        await cluster.WaitForAsync("loop", p => p.Status.ContainerStatuses[0].RestartCount >= 3, "three restarts");
        Assert.Contains($"BackOff: Back-off restarting failed container crasher in pod loop_default({pod.Metadata.Uid})", await cluster.EventsAsync("loop"));
    }

    [Fact]
    public async Task InitContainers_RunToCompletionInOrder_BeforeTheContainers()
    {
        // The shell sees the file through $ORDER, whose value is rewritten to the emptyDir's host directory.
        var first = new V1Container { Name = "first", Image = PodRunnerCluster.TestImage, Command = ["sh", "-c", "echo first >> \"$ORDER\""] };
        var second = new V1Container { Name = "second", Image = PodRunnerCluster.TestImage, Command = ["sh", "-c", "echo second >> \"$ORDER\""] };
        var main = PodRunnerCluster.TestServer();
        foreach (var c in (V1Container[])[first, second])
        {
            c.Env = [new V1EnvVar { Name = "ORDER", Value = "/shared-work/order" }];
        }

        foreach (var c in (V1Container[])[first, second, main])
        {
            c.VolumeMounts = [new V1VolumeMount { Name = "work", MountPath = "/shared-work" }];
        }

        var pod = PodRunnerCluster.Pod("ordered", main);
        pod.Spec.InitContainers = [first, second];
        pod.Spec.Volumes = [new V1Volume { Name = "work", EmptyDir = new V1EmptyDirVolumeSource() }];
        await cluster.CreateAsync(pod);

        pod = await cluster.WaitForAsync("ordered", PodRunnerCluster.IsReady, "Ready");

        Assert.All(pod.Status.InitContainerStatuses, s => Assert.Equal("Completed", s.State.Terminated.Reason));
        Assert.Equal(["first", "second"], pod.Status.InitContainerStatuses.Select(s => s.Name));
        Assert.Equal((200, "first\nsecond\n"), await PodRunnerCluster.GetAsync(pod, $"/files?path={Uri.EscapeDataString(Path.Combine(cluster.Root, "pods", pod.Metadata.Uid, "volumes", "kubernetes.io~empty-dir", "work", "order"))}"));
        Assert.Equal("True", pod.Status.Conditions.Single(c => c.Type == "Initialized").Status);
    }

    [Fact]
    public async Task SimulatedPod_IsRunningAndReadyAtOnce_WithoutAProcess_AndGoesAtOnceWhenDeleted()
    {
        var container = new V1Container
        {
            Name = "nginx",
            Image = "nginx:1.27",
            ReadinessProbe = new V1Probe { HttpGet = new V1HTTPGetAction { Path = "/", Port = 80 } },
        };
        await cluster.CreateAsync(PodRunnerCluster.Pod("kwok", container));

        var pod = await cluster.WaitForAsync("kwok", PodRunnerCluster.IsReady, "Ready");

        Assert.Equal("Running", pod.Status.Phase);
        var status = pod.Status.ContainerStatuses.Single();
        Assert.True(status.Ready);
        Assert.NotNull(status.State.Running);
        Assert.StartsWith("dsop://simulated/", status.ContainerID, StringComparison.Ordinal);
        using (var log = new StreamReader(await cluster.Client.CoreV1.ReadNamespacedPodLogAsync("kwok", "default")))
        {
            Assert.Equal("", await log.ReadToEndAsync());
        }

        await cluster.Client.CoreV1.DeleteNamespacedPodAsync("kwok", "default");
        await cluster.WaitForGoneAsync("kwok", seconds: 5);
    }

    [Fact]
    public async Task SecretVolume_ProjectsItemsWithTheirModes_AndAClaimGetsADirectoryThatOutlivesThePod()
    {
        await cluster.Client.CoreV1.CreateNamespacedSecretAsync(
            new V1Secret { Metadata = new V1ObjectMeta { Name = "creds" }, Data = new Dictionary<string, byte[]> { ["token"] = Encoding.UTF8.GetBytes("s3cret"), ["other"] = [1] } }, "default");
        var pod = PodRunnerCluster.Pod("secretive", new V1Container { Name = "app", Image = "busybox" });
        pod.Spec.Volumes =
        [
            new V1Volume
            {
                Name = "creds",
                Secret = new V1SecretVolumeSource { SecretName = "creds", Items = [new V1KeyToPath { Key = "token", Path = "auth/token", Mode = 256 }] },
            },
            new V1Volume { Name = "weights", PersistentVolumeClaim = new V1PersistentVolumeClaimVolumeSource { ClaimName = "weights" } },
        ];
        pod = await cluster.CreateAsync(pod);
        await cluster.WaitForAsync("secretive", PodRunnerCluster.IsReady, "Ready");

        var volume = Path.Combine(cluster.Root, "pods", pod.Metadata.Uid, "volumes", "kubernetes.io~secret", "creds");
        Assert.Equal("s3cret", await File.ReadAllTextAsync(Path.Combine(volume, "auth", "token")));
        Assert.Equal(UnixFileMode.UserRead, File.GetUnixFileMode(Path.Combine(volume, "..data", "auth", "token")));
        Assert.False(File.Exists(Path.Combine(volume, "other")));
        Assert.NotNull(new FileInfo(Path.Combine(volume, "..data")).LinkTarget);
        await cluster.Client.CoreV1.DeleteNamespacedPodAsync("secretive", "default");
        await cluster.WaitForGoneAsync("secretive");
        Assert.True(Directory.Exists(Path.Combine(cluster.Root, "pvc", "default", "weights")));
        Assert.False(Directory.Exists(volume));
    }
}
