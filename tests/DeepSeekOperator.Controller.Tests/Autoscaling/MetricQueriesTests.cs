using System.Text.RegularExpressions;
using DeepSeekOperator.Api.V1Alpha1;
using DeepSeekOperator.Controller.Autoscaling;

namespace DeepSeekOperator.Controller.Tests.Autoscaling;

public sealed class MetricQueriesTests
{
    [Theory]
    [InlineData(RouterMetric.InflightRequests, """sum(dsop_router_inflight_requests{namespace="models",pod=~"tiny-router-[a-z0-9]+-[a-z0-9]+"})""")]
    [InlineData(RouterMetric.QueueDepth, """sum(dsop_router_queue_depth{namespace="models",pod=~"tiny-router-[a-z0-9]+-[a-z0-9]+"})""")]
    [InlineData(RouterMetric.TokensPerSecond, """sum(rate(dsop_router_tokens_total{namespace="models",pod=~"tiny-router-[a-z0-9]+-[a-z0-9]+"}[1m]))""")]
    public void Router_SumsOverTheRouterPodsOfTheModel(RouterMetric metric, string expected) =>
        Assert.Equal(expected, MetricQueries.Router(metric, "models", "tiny"));

    [Theory]
    [InlineData(ShardMetric.TokensPerSecond, """sum(rate(dsop_shard_tokens_total{namespace="models",pod=~"tiny-shard-1-[a-z0-9]+-[a-z0-9]+"}[1m]))""")]
    [InlineData(ShardMetric.ForwardUtilization, """sum(rate(dsop_shard_forward_seconds_sum{namespace="models",pod=~"tiny-shard-1-[a-z0-9]+-[a-z0-9]+"}[1m]))""")]
    public void Shard_SumsOverThatShardsPods(ShardMetric metric, string expected) =>
        Assert.Equal(expected, MetricQueries.Shard(metric, "models", "tiny", 1));

    [Theory]
    [InlineData("tiny-shard-1-7d4b9c8f6-x2x9k", true)]
    [InlineData("tiny-shard-10-7d4b9c8f6-x2x9k", false)]
    [InlineData("tiny-router-7d4b9c8f6-x2x9k", false)]
    [InlineData("other-tiny-shard-1-7d4b9c8f6-x2x9k", false)]
    public void ShardPods_AnchoredAsPrometheusAnchorsThem_NeverMatchAnotherShard(string pod, bool matches) =>
        Assert.Equal(matches, Regex.IsMatch(pod, "^(?:" + MetricQueries.ShardPods("tiny", 1) + ")$"));

    [Fact]
    public void Expand_ReplacesEveryPlaceholder()
    {
        var query = MetricQueries.Expand("""sum(load{namespace="$namespace",model="$model",pod=~"$pods",shard="$shard"})""", "models", "tiny", 2);

        Assert.Equal("""sum(load{namespace="models",model="tiny",pod=~"tiny-shard-2-[a-z0-9]+-[a-z0-9]+",shard="2"})""", query);
    }

    [Fact]
    public void Expand_ForRouters_TheShardIsEmpty() =>
        Assert.Equal("""sum(load{pod=~"tiny-router-[a-z0-9]+-[a-z0-9]+",shard=""})""", MetricQueries.Expand("""sum(load{pod=~"$pods",shard="$shard"})""", "models", "tiny", null));
}
