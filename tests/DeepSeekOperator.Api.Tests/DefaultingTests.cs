using System.Text.Json.Nodes;
using DeepSeekOperator.Api.V1Alpha1;
using k8s;

namespace DeepSeekOperator.Api.Tests;

public class DefaultingTests
{
    private const string Minimal = """
        apiVersion: moe.deepseek-operator.io/v1alpha1
        kind: DeepSeekModel
        metadata: {name: minimal}
        spec:
          model:
            source:
              synthetic: {}
        """;

    private static DeepSeekModel Read(string yaml)
    {
        var result = DeepSeekModelManifest.Read(yaml);
        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        return result.Model!;
    }

    [Fact]
    public void MinimalManifest_GetsEveryDocumentedDefault()
    {
        var spec = Read(Minimal).Spec;
        Assert.Equal(ModelDtype.BFloat16, spec.Model.Dtype);
        Assert.Equal(SyntheticPreset.Tiny, spec.Model.Source.Synthetic!.Preset);
        Assert.Equal(0, spec.Model.Source.Synthetic.Seed);
        Assert.Equal(ComputeDevice.Cuda, spec.Runtime.Device);
        Assert.Equal(PullPolicy.IfNotPresent, spec.Runtime.ImagePullPolicy);
        Assert.Null(spec.Runtime.Image);
        Assert.Equal(1, spec.Router.Replicas);
        Assert.Equal((1, 1, 0), (spec.Experts.Shards, spec.Experts.ReplicasPerShard, spec.Experts.RedundantSlots));
        Assert.False(spec.Autoscaling.Enabled);
        Assert.Equal("15s", spec.Autoscaling.Interval);
        Assert.Equal((1, 8, RouterMetric.InflightRequests, 32.0),
            (spec.Autoscaling.Routers.MinReplicas, spec.Autoscaling.Routers.MaxReplicas, spec.Autoscaling.Routers.Target.Metric, spec.Autoscaling.Routers.Target.AverageValue));
        Assert.Equal((1, 4, ShardMetric.TokensPerSecond, 20000.0),
            (spec.Autoscaling.Shards.MinReplicas, spec.Autoscaling.Shards.MaxReplicas, spec.Autoscaling.Shards.Target.Metric, spec.Autoscaling.Shards.Target.AverageValue));
        Assert.Equal((0, 100), (spec.Autoscaling.Behavior.ScaleUp.StabilizationWindowSeconds, spec.Autoscaling.Behavior.ScaleUp.MaxChangePercent));
        Assert.Equal((300, 50), (spec.Autoscaling.Behavior.ScaleDown.StabilizationWindowSeconds, spec.Autoscaling.Behavior.ScaleDown.MaxChangePercent));
        Assert.Equal((PlacementStrategy.Balanced, "10m", 1.15), (spec.Placement.Strategy, spec.Placement.RebalanceInterval, spec.Placement.MinImbalance));
        Assert.Equal((8000, 8192, 256), (spec.Serving.Port, spec.Serving.MaxBatchTokens, spec.Serving.MaxConcurrentRequests));
        Assert.Null(spec.Serving.ApiKeySecret);
    }

    [Fact]
    public void SchemaDefaults_EqualTheDefaultsOfObjectsBuiltInCSharp()
    {
        // The API server applies the schema's defaults; code that builds a spec gets the initializers'. They must agree.
        var fromSchema = Read(Minimal).Spec;
        var fromCSharp = new DeepSeekModelSpec { Model = new ModelSpec { Source = new ModelSource { Synthetic = new SyntheticSource() } } };
        Assert.Equal(KubernetesJson.Serialize(fromCSharp), KubernetesJson.Serialize(fromSchema));
    }

    [Fact]
    public void PartlyGivenObject_KeepsItsOwnValuesAndGetsTheDefaultsOfItsPlace()
    {
        var autoscaling = Read(Minimal + """

              autoscaling:
                shards: {maxReplicas: 10}
                behavior:
                  scaleDown: {maxChangePercent: 20}
            """).Spec.Autoscaling;
        Assert.Equal(10, autoscaling.Shards.MaxReplicas);
        Assert.Equal(1, autoscaling.Shards.MinReplicas);
        Assert.Equal(ShardMetric.TokensPerSecond, autoscaling.Shards.Target.Metric);
        Assert.Equal(20000, autoscaling.Shards.Target.AverageValue);
        Assert.Equal(20, autoscaling.Behavior.ScaleDown.MaxChangePercent);
        Assert.Equal(300, autoscaling.Behavior.ScaleDown.StabilizationWindowSeconds);
        Assert.Equal(8, autoscaling.Routers.MaxReplicas);
    }

    [Fact]
    public void NullField_IsDroppedThenDefaulted_AsTheApiServerDoes()
    {
        var spec = Read(Minimal + "\n  router: {replicas: null}\n  serving: null").Spec;
        Assert.Equal(1, spec.Router.Replicas);
        Assert.Equal(8000, spec.Serving.Port);
    }

    [Fact]
    public void Read_DoesNotModifyTheParsedDocument()
    {
        var document = JsonNode.Parse("""{"apiVersion":"moe.deepseek-operator.io/v1alpha1","kind":"DeepSeekModel","metadata":{"name":"x"},"spec":{"model":{"source":{"synthetic":{}}}}}""");
        var before = document!.ToJsonString();
        Assert.True(DeepSeekModelManifest.Read(document).IsValid);
        Assert.Equal(before, document.ToJsonString());
    }
}
