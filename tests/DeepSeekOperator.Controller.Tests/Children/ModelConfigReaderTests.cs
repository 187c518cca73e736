using DeepSeekOperator.Api.V1Alpha1;
using DeepSeekOperator.Cli;
using DeepSeekOperator.Controller.Children;
using DeepSeekOperator.Moe;
using k8s;
using k8s.Models;

namespace DeepSeekOperator.Controller.Tests.Children;

/// <summary>The pod that reads a checkpoint's config.json: mounted and scheduled as the shards, running <c>dsop model config</c>.</summary>
public sealed class ModelConfigReaderTests
{
    [Fact]
    public void PvcModel_ReaderMountsTheSourceAsTheShardsAndRunsModelConfigIntoTheTerminationLog()
    {
        var model = Samples.Read(Samples.DeepSeekV3File);
        var shard = ModelChildren.Build(model, new ModelConfig(), Samples.Settings).ShardDeployments[0].Spec.Template.Spec;

        var pod = ModelConfigReader.Pod(model, Samples.Settings);

        Assert.Matches("^deepseek-v3-config-[0-9a-f]{8}$", pod.Metadata.Name);
        Assert.Equal(ChildLabels.ConfigReader, pod.Metadata.Labels[ChildLabels.ComponentKey]);
        Assert.Equal(ChildLabels.ManagedBy, pod.Metadata.Labels[ChildLabels.ManagedByKey]);
        var owner = Assert.Single(pod.Metadata.OwnerReferences);
        Assert.Equal((model.Metadata.Uid, true), (owner.Uid, owner.Controller));
        var spec = pod.Spec;
        Assert.Equal(("Never", false, 1800L), (spec.RestartPolicy, spec.AutomountServiceAccountToken, spec.ActiveDeadlineSeconds));
        Assert.Equal(Json(shard.Volumes.Single(v => v.Name == "model")), Json(spec.Volumes.Single(v => v.Name == "model")));
        Assert.Equal(Json(shard.SecurityContext), Json(spec.SecurityContext));
        Assert.Equal(Json(shard.NodeSelector), Json(spec.NodeSelector));
        Assert.Equal(Json(shard.Tolerations), Json(spec.Tolerations));
        Assert.Equal(Json(shard.ImagePullSecrets), Json(spec.ImagePullSecrets));
        var container = Assert.Single(spec.Containers);
        var shardContainer = shard.Containers[0];
        Assert.Equal(shardContainer.Image, container.Image);
        Assert.Equal(Json(shardContainer.VolumeMounts.Single(m => m.Name == "model")), Json(container.VolumeMounts.Single(m => m.Name == "model")));
        Assert.Equal(Json(shardContainer.SecurityContext), Json(container.SecurityContext));
        Assert.Equal(("/dev/termination-log", "FallbackToLogsOnError"), (container.TerminationMessagePath, container.TerminationMessagePolicy));
        Assert.DoesNotContain(container.Resources.Limits.Keys, k => k == "nvidia.com/gpu");

        var parsed = Dsop.BuildRootCommand().Parse([.. container.Args]);
        Assert.Empty(parsed.Errors);
        Assert.Equal("config", parsed.CommandResult.Command.Name);
        Assert.Equal("/model", parsed.GetValue<DirectoryInfo>("--model")!.FullName);
        Assert.Equal("/dev/termination-log", parsed.GetValue<FileInfo>("--output")!.FullName);
    }

    [Fact]
    public void PodName_ChangesWithTheSourceOrTheImage_NotWithOtherFields()
    {
        static DeepSeekModel V3(Func<DeepSeekModelSpec, DeepSeekModelSpec> change)
        {
            var model = Samples.Read(Samples.DeepSeekV3File);
            model.Spec = change(model.Spec);
            return model;
        }

        var name = ModelConfigReader.PodName(V3(spec => spec), Samples.Settings);
        var moreShards = V3(spec => spec with { Experts = spec.Experts with { Shards = 8 } });
        var otherClaim = V3(spec => spec with { Model = spec.Model with { Source = new ModelSource { HostPath = new HostPathSource { Path = "/models/v3" } } } });
        var otherImage = V3(spec => spec with { Runtime = spec.Runtime with { Image = "registry.local/dsop:other" } });

        Assert.Equal(name, ModelConfigReader.PodName(moreShards, Samples.Settings));
        Assert.NotEqual(name, ModelConfigReader.PodName(otherClaim, Samples.Settings));
        Assert.NotEqual(name, ModelConfigReader.PodName(otherImage, Samples.Settings));
    }

    [Fact]
    public void SyntheticModel_HasNoReader()
    {
        Assert.Throws<ArgumentException>(() => ModelConfigReader.Pod(Samples.Read(Samples.TinyFile), Samples.Settings));
    }

    [Fact]
    public void Read_EmptyOrBadMessage_NamesThePodAndTheKey()
    {
        var pod = new V1Pod { Metadata = new V1ObjectMeta { Name = "v3-config-0123abcd" }, Status = new V1PodStatus { Phase = "Succeeded" } };
        Assert.Equal("the termination message of pod v3-config-0123abcd: is empty", Assert.Throws<ModelConfigException>(() => ModelConfigReader.Read(pod)).Message);

        pod.Status.ContainerStatuses =
        [
            new V1ContainerStatus { Name = "dsop", State = new V1ContainerState { Terminated = new V1ContainerStateTerminated { Message = """{"n_routed_experts": 0}""" } } },
        ];
        Assert.StartsWith("the termination message of pod v3-config-0123abcd: n_routed_experts:", Assert.Throws<ModelConfigException>(() => ModelConfigReader.Read(pod)).Message, StringComparison.Ordinal);
    }

    private static string Json(object? value) => KubernetesJson.Serialize(value);
}
