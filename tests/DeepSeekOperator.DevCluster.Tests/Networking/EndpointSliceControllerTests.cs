using k8s;
using k8s.Models;

namespace DeepSeekOperator.DevCluster.Tests.Networking;

public sealed class EndpointSliceControllerTests
{
    [Fact]
    public async Task EndpointSlice_FollowsPodReadiness_Termination_DeletionAndNewPods()
    {
        await using var cluster = await NetworkingCluster.StartAsync();
        var service = await cluster.ServiceAsync("web", 8080);
        await cluster.PodAsync("web-0", "web", "127.0.0.10", ready: true);
        await cluster.PodAsync("web-1", "web", "127.0.0.11", ready: false);

        var slices = await cluster.SlicesAsync("web", s => NetworkingCluster.Summary(s).Count == 2, "both pods listed");
        var slice = Assert.Single(slices);
        Assert.StartsWith("web-", slice.Metadata.Name, StringComparison.Ordinal);
        Assert.Equal(["127.0.0.10 T/T/F", "127.0.0.11 F/F/F"], NetworkingCluster.Summary(slices));
        Assert.Equal("IPv4", slice.AddressType);
        Assert.Equal("endpointslice-controller.k8s.io", slice.Metadata.Labels["endpointslice.kubernetes.io/managed-by"]);
        Assert.Equal("front", slice.Metadata.Labels["tier"]);
        Assert.False(slice.Metadata.Labels.ContainsKey("service.kubernetes.io/headless"));
        var owner = Assert.Single(slice.Metadata.OwnerReferences);
        Assert.Equal(("Service", "web", service.Metadata.Uid, true), (owner.Kind, owner.Name, owner.Uid, owner.Controller));
        var port = Assert.Single(slice.Ports);
        Assert.Equal(("http", 8080, "TCP"), (port.Name, port.Port, port.Protocol));
        var first = slice.Endpoints.Single(e => e.TargetRef.Name == "web-0");
        Assert.Equal(("Pod", "default", NetworkingCluster.NodeName, "zone-a"), (first.TargetRef.Kind, first.TargetRef.NamespaceProperty, first.NodeName, first.Zone));
        Assert.True(slice.Metadata.Annotations.ContainsKey("endpoints.kubernetes.io/last-change-trigger-time"));

        await cluster.RunningAsync("web-1", "127.0.0.11", ready: true);
        await cluster.SlicesAsync("web", s => NetworkingCluster.Summary(s).SequenceEqual(["127.0.0.10 T/T/F", "127.0.0.11 T/T/F"]), "web-1 turning ready");

        await cluster.RunningAsync("web-0", "127.0.0.10", ready: false);
        await cluster.SlicesAsync("web", s => NetworkingCluster.Summary(s).SequenceEqual(["127.0.0.10 F/F/F", "127.0.0.11 T/T/F"]), "web-0 turning unready");

        await cluster.Client.CoreV1.DeleteNamespacedPodAsync("web-1", "default");
        await cluster.SlicesAsync("web", s => NetworkingCluster.Summary(s).SequenceEqual(["127.0.0.10 F/F/F", "127.0.0.11 F/T/T"]), "web-1 terminating");

        await cluster.Client.CoreV1.DeleteNamespacedPodAsync("web-1", "default", gracePeriodSeconds: 0);
        await cluster.PodAsync("web-2", "web", "127.0.0.12", ready: true);
        slices = await cluster.SlicesAsync("web", s => NetworkingCluster.Summary(s).SequenceEqual(["127.0.0.10 F/F/F", "127.0.0.12 T/T/F"]), "web-1 gone and web-2 added");
        Assert.Equal(slice.Metadata.Name, Assert.Single(slices).Metadata.Name);
    }

    [Fact]
    public async Task NamedTargetPort_ResolvesToEachPodsOwnContainerPort()
    {
        await using var cluster = await NetworkingCluster.StartAsync();
        await cluster.ServiceAsync("metrics", "metrics", portName: "scrape");
        await cluster.PodAsync("metrics-a", "metrics", "127.0.0.20", ready: true, new V1ContainerPort { Name = "metrics", ContainerPort = 9090 });
        await cluster.PodAsync("metrics-b", "metrics", "127.0.0.21", ready: true, new V1ContainerPort { Name = "metrics", ContainerPort = 9191 });

        var slices = await cluster.SlicesAsync("metrics", s => NetworkingCluster.Summary(s).Count == 2, "both pods listed");

        var byPort = slices.ToDictionary(s => Assert.Single(s.Ports).Port!.Value, s => Assert.Single(s.Endpoints).TargetRef.Name);
        Assert.Equal(new Dictionary<int, string> { [9090] = "metrics-a", [9191] = "metrics-b" }, byPort);
        Assert.All(slices, s => Assert.Equal("scrape", s.Ports[0].Name));
        var endpoints = await cluster.EndpointsAsync("metrics", e => e.Subsets?.Count == 2, "two subsets");
        Assert.Equal(
            ["127.0.0.20:9090", "127.0.0.21:9191"],
            endpoints.Subsets.Select(s => $"{Assert.Single(s.Addresses).Ip}:{Assert.Single(s.Ports).Port}").Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task ServiceWithoutPods_HasOnePlaceholderSlice_AndDeletingTheServiceRemovesIt()
    {
        await using var cluster = await NetworkingCluster.StartAsync();
        await cluster.ServiceAsync("idle", 8080, headless: true);

        var placeholder = Assert.Single(await cluster.SlicesAsync("idle", s => s.Count == 1, "the placeholder slice"));
        Assert.Null(placeholder.Endpoints);
        Assert.Equal("", placeholder.Metadata.Labels["service.kubernetes.io/headless"]);

        await cluster.Client.CoreV1.DeleteNamespacedServiceAsync("idle", "default");

        await cluster.SlicesAsync("idle", s => s.Count == 0, "slices of the deleted service collected");
    }

    [Fact]
    public async Task FirstEndpoints_AreWrittenOverThePlaceholderSlice_NotIntoANewOne()
    {
        await using var cluster = await NetworkingCluster.StartAsync();
        await cluster.ServiceAsync("late", 8080);
        var placeholder = Assert.Single(await cluster.SlicesAsync("late", s => s.Count == 1, "the placeholder slice"));

        await cluster.PodAsync("late-0", "late", "127.0.0.30", ready: true);

        var slice = Assert.Single(await cluster.SlicesAsync("late", s => NetworkingCluster.Summary(s).Count == 1, "the pod listed"));
        Assert.Equal((placeholder.Metadata.Name, placeholder.Metadata.Uid), (slice.Metadata.Name, slice.Metadata.Uid));
        Assert.Equal(("http", 8080), (Assert.Single(slice.Ports).Name, Assert.Single(slice.Ports).Port!.Value));
        Assert.Equal("IPv4", slice.AddressType);
    }

    [Fact]
    public async Task ManyPods_AreSplitIntoSlicesOfAtMostAHundred()
    {
        await using var cluster = await NetworkingCluster.StartAsync();
        await cluster.ServiceAsync("wide", 8080);
        await Task.WhenAll(Enumerable.Range(0, 130).Select(i => cluster.PodAsync($"wide-{i:D3}", "wide", $"127.0.1.{i}", ready: true)));

        var slices = await cluster.SlicesAsync("wide", s => NetworkingCluster.Summary(s).Count == 130, "all pods listed");

        Assert.All(slices, s => Assert.InRange(s.Endpoints.Count, 1, 100));
        Assert.Equal(2, slices.Count);
        Assert.Equal(130, slices.SelectMany(s => s.Endpoints).Select(e => e.Addresses[0]).Distinct().Count());
    }

    [Fact]
    public async Task SlicesOfOtherManagers_AreLeftAlone()
    {
        await using var cluster = await NetworkingCluster.StartAsync();
        await cluster.ServiceAsync("mixed", 8080);
        await cluster.Client.DiscoveryV1.CreateNamespacedEndpointSliceAsync(
            new V1EndpointSlice
            {
                Metadata = new V1ObjectMeta
                {
                    Name = "mixed-external",
                    Labels = new Dictionary<string, string> { ["kubernetes.io/service-name"] = "mixed", ["endpointslice.kubernetes.io/managed-by"] = "my-controller.example.com" },
                },
                AddressType = "IPv4",
                Endpoints = [new V1Endpoint { Addresses = ["127.0.0.99"] }],
            },
            "default");
        await cluster.PodAsync("mixed-0", "mixed", "127.0.0.30", ready: true);

        var slices = await cluster.SlicesAsync("mixed", s => NetworkingCluster.Summary(s).Count == 2, "the pod listed beside the external slice");

        Assert.Contains(slices, s => s.Metadata.Name == "mixed-external" && s.Endpoints[0].Addresses[0] == "127.0.0.99");
    }
}
