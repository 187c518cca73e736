using k8s;
using k8s.Models;

namespace DeepSeekOperator.DevCluster.Tests;

public sealed class EventsTests
{
    [Fact]
    public async Task EventRecordedThroughEventsV1_ShowsAsCoreEvent_WithTheInvolvedObject()
    {
        await using var running = await RunningApiServer.StartAsync();
        var client = running.Client;
        var now = DateTime.UtcNow;

        await client.EventsV1.CreateNamespacedEventAsync(
            new Eventsv1Event
            {
                Metadata = new V1ObjectMeta { Name = "web.1" },
                EventTime = now,
                ReportingController = "deepseek-operator",
                ReportingInstance = "operator-0",
                Action = "Scale",
                Reason = "ScaledUp",
                Note = "routers 1 -> 2",
                Type = "Normal",
                Regarding = new V1ObjectReference { Kind = "DeepSeekModel", Name = "web", NamespaceProperty = "default" },
            },
            "default");

        var core = await client.CoreV1.ListNamespacedEventAsync("default", fieldSelector: "involvedObject.name=web");
        var events = await client.EventsV1.ListNamespacedEventAsync("default", fieldSelector: "regarding.name=web");

        var seen = Assert.Single(core.Items);
        Assert.Equal("routers 1 -> 2", seen.Message);
        Assert.Equal("deepseek-operator", seen.ReportingComponent);
        Assert.Equal("DeepSeekModel", seen.InvolvedObject.Kind);
        Assert.Equal("routers 1 -> 2", Assert.Single(events.Items).Note);
    }

    [Fact]
    public async Task CoreEvent_ReadThroughEventsV1_HasTheRenamedFields()
    {
        await using var running = await RunningApiServer.StartAsync();
        var client = running.Client;

        await client.CoreV1.CreateNamespacedEventAsync(
            new Corev1Event
            {
                Metadata = new V1ObjectMeta { Name = "pod.1" },
                InvolvedObject = new V1ObjectReference { Kind = "Pod", Name = "p", NamespaceProperty = "default" },
                Reason = "Started",
                Message = "Started container",
                Source = new V1EventSource { Component = "kubelet" },
                Count = 3,
                Type = "Normal",
            },
            "default");

        var read = await client.EventsV1.ReadNamespacedEventAsync("pod.1", "default");

        Assert.Equal("Started container", read.Note);
        Assert.Equal("p", read.Regarding.Name);
        Assert.Equal(3, read.DeprecatedCount);
        Assert.Equal("kubelet", read.DeprecatedSource.Component);
    }
}
