using k8s;

namespace DeepSeekOperator.DevCluster.Tests.Networking;

public sealed class EndpointsControllerTests
{
    [Fact]
    public async Task Endpoints_ListReadyAndNotReadyAddresses_AndFollowReadiness()
    {
        await using var cluster = await NetworkingCluster.StartAsync();
        await cluster.ServiceAsync("api", "web");
        var port = new k8s.Models.V1ContainerPort { Name = "web", ContainerPort = 8080 };
        await cluster.PodAsync("api-0", "api", "127.0.0.40", ready: true, port);
        await cluster.PodAsync("api-1", "api", "127.0.0.41", ready: false, port);

        var endpoints = await cluster.EndpointsAsync("api", e => e.Subsets?.SingleOrDefault()?.NotReadyAddresses?.Count == 1, "one ready and one not-ready address");
        var subset = Assert.Single(endpoints.Subsets);
        var ready = Assert.Single(subset.Addresses);
        Assert.Equal(("127.0.0.40", "api-0", "dev-node-1"), (ready.Ip, ready.TargetRef.Name, ready.NodeName));
        Assert.Equal("127.0.0.41", Assert.Single(subset.NotReadyAddresses).Ip);
        var endpointPort = Assert.Single(subset.Ports);
        Assert.Equal(("http", 8080, "TCP"), (endpointPort.Name, endpointPort.Port, endpointPort.Protocol));
        Assert.Equal("front", endpoints.Metadata.Labels["tier"]);
        Assert.True(endpoints.Metadata.Annotations.ContainsKey("endpoints.kubernetes.io/last-change-trigger-time"));

        await cluster.RunningAsync("api-1", "127.0.0.41", ready: true);
        await cluster.EndpointsAsync("api", e => e.Subsets?.SingleOrDefault() is { NotReadyAddresses: null, Addresses.Count: 2 }, "api-1 turning ready");

        await cluster.Client.CoreV1.DeleteNamespacedPodAsync("api-0", "default");
        endpoints = await cluster.EndpointsAsync("api", e => e.Subsets?.SingleOrDefault()?.Addresses?.Count == 1, "terminating api-0 dropped");
        Assert.Equal("127.0.0.41", endpoints.Subsets[0].Addresses[0].Ip);

        await cluster.Client.CoreV1.DeleteNamespacedServiceAsync("api", "default");
        await Conformance.Eventually.GoneAsync(() => cluster.Client.CoreV1.ReadNamespacedEndpointsAsync("api", "default"), "the endpoints of the deleted service");
    }
}
