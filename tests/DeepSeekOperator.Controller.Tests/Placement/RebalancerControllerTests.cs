using System.Net;
using DeepSeekOperator.Controller.Placement;
using DeepSeekOperator.Controller.Tests.Prometheus;
using Prometheus;

namespace DeepSeekOperator.Controller.Tests.Placement;

/// <summary>How the rebalancer's controller reaches the routers.</summary>
public sealed class RebalancerControllerTests
{
    [Fact]
    public async Task RouterCalls_GoStraightToThePod_EvenWithAProxyConfigured()
    {
        await using var pod = await MetricsEndpoint.StartAsync(Metrics.NewCustomRegistry());
        using var handler = RebalancerController.RouterHandler();

        // A proxy nothing listens on: a call that went through it would fail.
        handler.Proxy = new WebProxy("http://127.0.0.1:9");
        using var http = new HttpClient(handler, disposeHandler: false) { Timeout = TimeSpan.FromSeconds(10) };
        using var response = await http.GetAsync(new Uri($"http://{pod.Address}/metrics"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(handler.UseProxy);
    }
}
