using System.Globalization;
using DeepSeekOperator.Api.V1Alpha1;
using DeepSeekOperator.Cli;
using DeepSeekOperator.Controller.Children;
using k8s.Models;

namespace DeepSeekOperator.Controller.Tests.Children;

/// <summary>The router and shard pod templates: the dsop command lines, volumes per model source, GPUs, probes and the security context.</summary>
public sealed class PodTemplateTests
{
    public static TheoryData<string> SampleFiles => [Samples.TinyFile, Samples.DeepSeekV3File];

    [Theory]
    [MemberData(nameof(SampleFiles))]
    public void RouterAndShardArgs_ParseWithTheDsopCommandLine(string file)
    {
        var model = Samples.Read(file);
        var children = ModelChildren.Build(model, Samples.ConfigOf(model), Samples.Settings);

        var router = Parse(children.RouterDeployment);
        Assert.Equal("router", router.CommandResult.Command.Name);
        Assert.Equal("endpointslices", router.GetValue<string>("--discovery"));
        Assert.Equal(model.Metadata.Name, router.GetValue<string>("--service-prefix"));
        Assert.Equal(model.Metadata.NamespaceProperty, router.GetValue<string>("--namespace"));
        Assert.Equal("grpc", router.GetValue<string>("--shard-port-name"));
        Assert.Equal(model.Spec.Serving.Port, router.GetValue<int>("--port"));
        Assert.Equal(PodIp, router.GetValue<string>("--bind"));
        Assert.Equal(model.Spec.Serving.MaxBatchTokens, router.GetValue<int>("--max-batch-tokens"));
        Assert.Equal(model.Spec.Serving.MaxConcurrentRequests, router.GetValue<int>("--max-concurrent-requests"));
        Assert.Equal("/etc/dsop/placement/placement.json", router.GetValue<FileInfo>("--placement")!.FullName);
        Assert.Equal(model.Metadata.Name, router.GetValue<string>("--model-id"));
        Assert.Equal(model.Spec.Serving.ApiKeySecret is null ? null : "/etc/dsop/api-key/api-key", router.GetValue<FileInfo?>("--api-key-file")?.FullName);

        for (var k = 0; k < children.ShardDeployments.Count; k++)
        {
            var shard = Parse(children.ShardDeployments[k]);
            Assert.Equal("shard", shard.CommandResult.Command.Name);
            Assert.Equal(k, shard.GetValue<int>("--shard-index"));
            Assert.Equal(9000, shard.GetValue<int>("--port"));
            Assert.Equal(9100, shard.GetValue<int>("--metrics-port"));
            Assert.Equal(PodIp, shard.GetValue<string>("--bind"));
            Assert.Equal("/etc/dsop/placement/placement.json", shard.GetValue<FileInfo>("--placement")!.FullName);
        }
    }

    [Fact]
    public void SyntheticSource_PresetAndSeedFlags_NoModelVolume()
    {
        var children = Samples.Build(Samples.TinyFile);

        Assert.All(Samples.Deployments(children), d =>
        {
            var parsed = Parse(d);
            Assert.Equal("tiny", parsed.GetValue<string>("--synthetic"));
            Assert.Equal(7, parsed.GetValue<int>("--seed"));
            Assert.Equal(0, parsed.GetValue<double>("--skew"));
            Assert.Null(parsed.GetValue<DirectoryInfo?>("--model"));
            Assert.Equal("f32", parsed.GetValue<string>("--dtype"));
            Assert.DoesNotContain(d.Spec.Template.Spec.Volumes, v => v.Name == "model");
            Assert.DoesNotContain(d.Spec.Template.Spec.Containers[0].VolumeMounts, m => m.MountPath == "/model");
        });
    }

    [Fact]
    public void SyntheticSourceWithSkew_SkewFlagOnRoutersAndShards()
    {
        var model = Samples.Read(Samples.TinyFile);
        model.Spec = model.Spec with { Model = model.Spec.Model with { Source = new ModelSource { Synthetic = model.Spec.Model.Source.Synthetic! with { Skew = 0.75 } } } };

        var children = ModelChildren.Build(model, Samples.ConfigOf(model), Samples.Settings);

        Assert.All(Samples.Deployments(children), d => Assert.Equal(0.75, Parse(d).GetValue<double>("--skew")));
    }

    [Fact]
    public void PvcSource_ClaimMountedReadOnlyWithItsSubPath()
    {
        var children = Samples.Build(Samples.DeepSeekV3File);

        Assert.All(Samples.Deployments(children), d =>
        {
            var volume = ModelVolume(d);
            Assert.Equal(("dsv3-weights", true), (volume.PersistentVolumeClaim.ClaimName, volume.PersistentVolumeClaim.ReadOnlyProperty));
            var mount = d.Spec.Template.Spec.Containers[0].VolumeMounts.Single(m => m.Name == "model");
            Assert.Equal(("/model", "DeepSeek-V3", true), (mount.MountPath, mount.SubPath, mount.ReadOnlyProperty));
            Assert.Equal("/model", Parse(d).GetValue<DirectoryInfo>("--model")!.FullName);
            Assert.Equal("bf16", Parse(d).GetValue<string>("--dtype"));
        });
    }

    [Fact]
    public void HostPathSource_DirectoryOfTheNodeMountedAtModel()
    {
        var children = WithSource(new ModelSource { HostPath = new HostPathSource { Path = "/models/DeepSeek-V3" } });

        Assert.All(Samples.Deployments(children), d =>
        {
            Assert.Equal(("/models/DeepSeek-V3", "Directory"), (ModelVolume(d).HostPath.Path, ModelVolume(d).HostPath.Type));
            Assert.Null(d.Spec.Template.Spec.Containers[0].VolumeMounts.Single(m => m.Name == "model").SubPath);
            Assert.Equal("/model", Parse(d).GetValue<DirectoryInfo>("--model")!.FullName);
        });
    }

    [Fact]
    public void ImageSource_OciImageVolumeWithItsPullPolicy()
    {
        var children = WithSource(new ModelSource { Image = new ImageSource { Reference = "registry.local/models/dsv3:1", PullPolicy = PullPolicy.Always } });

        Assert.All(Samples.Deployments(children), d =>
        {
            Assert.Equal(("registry.local/models/dsv3:1", "Always"), (ModelVolume(d).Image.Reference, ModelVolume(d).Image.PullPolicy));
            Assert.Equal("/model", Parse(d).GetValue<DirectoryInfo>("--model")!.FullName);
        });
    }

    [Fact]
    public void CudaDevice_OneGpuLimitAndDeviceCuda_EvenWhenTheSpecNamesNone()
    {
        var model = Samples.Read(Samples.DeepSeekV3File);
        model.Spec = model.Spec with { Router = model.Spec.Router with { Resources = null } };
        var children = ModelChildren.Build(model, Samples.ConfigOf(model), Samples.Settings);

        Assert.All(Samples.Deployments(children), d =>
        {
            Assert.Equal("1", d.Spec.Template.Spec.Containers[0].Resources.Limits["nvidia.com/gpu"].ToString());
            Assert.Equal("cuda", Parse(d).GetValue<string>("--device"));
        });
        Assert.Equal("96Gi", children.ShardDeployments[0].Spec.Template.Spec.Containers[0].Resources.Limits["memory"].ToString());
        Assert.Equal("8", children.ShardDeployments[0].Spec.Template.Spec.Containers[0].Resources.Requests["cpu"].ToString());
    }

    [Fact]
    public void CpuDevice_NoGpuResourceAndDeviceCpu()
    {
        var children = Samples.Build(Samples.TinyFile);

        Assert.All(Samples.Deployments(children), d =>
        {
            var resources = d.Spec.Template.Spec.Containers[0].Resources;
            Assert.DoesNotContain("nvidia.com/gpu", resources.Limits.Keys);
            Assert.DoesNotContain("nvidia.com/gpu", resources.Requests.Keys);
            Assert.Equal("cpu", Parse(d).GetValue<string>("--device"));
        });
        Assert.Equal("512Mi", children.RouterDeployment.Spec.Template.Spec.Containers[0].Resources.Requests["memory"].ToString());
    }

    [Theory]
    [MemberData(nameof(SampleFiles))]
    public void EveryPod_NonRootReadOnlyNoPrivilegesRuntimeDefaultSeccomp_WritableTmp(string file)
    {
        var children = Samples.Build(file);

        Assert.All(Samples.Deployments(children), d =>
        {
            var pod = d.Spec.Template.Spec;
            Assert.Equal((true, 65532L, "RuntimeDefault"), (pod.SecurityContext.RunAsNonRoot, pod.SecurityContext.RunAsUser, pod.SecurityContext.SeccompProfile.Type));
            var container = Assert.Single(pod.Containers);
            Assert.Equal((true, false, true), (container.SecurityContext.ReadOnlyRootFilesystem, container.SecurityContext.AllowPrivilegeEscalation, container.SecurityContext.RunAsNonRoot));
            Assert.Equal(["ALL"], container.SecurityContext.Capabilities.Drop);
            Assert.NotNull(pod.Volumes.Single(v => v.Name == container.VolumeMounts.Single(m => m.MountPath == "/tmp").Name).EmptyDir);
            var placement = container.VolumeMounts.Single(m => m.MountPath == "/etc/dsop/placement");
            var source = pod.Volumes.Single(v => v.Name == placement.Name).ConfigMap;
            var configMap = d.Spec.Template.Metadata.Labels.TryGetValue("moe.deepseek-operator.io/shard", out var shard)
                ? children.ShardPlacementConfigMaps[int.Parse(shard, CultureInfo.InvariantCulture)].Metadata.Name
                : children.PlacementConfigMap.Metadata.Name;
            Assert.Equal(configMap, source.Name);
            Assert.Equal(("placement.json", "placement.json"), (Assert.Single(source.Items).Key, source.Items[0].Path));
            Assert.Equal("metadata.namespace", container.Env.Single(e => e.Name == "POD_NAMESPACE").ValueFrom.FieldRef.FieldPath);
        });
    }

    [Fact]
    public void Image_FromTheSpec_ElseTheOperatorsDefault_WithPullPolicyAndSecrets()
    {
        var tiny = Samples.Build(Samples.TinyFile);
        var v3 = Samples.Build(Samples.DeepSeekV3File);

        Assert.All(Samples.Deployments(tiny), d => Assert.Equal(Samples.Settings.RuntimeImage, d.Spec.Template.Spec.Containers[0].Image));
        Assert.All(Samples.Deployments(tiny), d => Assert.Null(d.Spec.Template.Spec.ImagePullSecrets));
        Assert.All(Samples.Deployments(v3), d =>
        {
            Assert.Equal(("registry.local/deepseek-operator/dsop:0.1.0", "IfNotPresent"), (d.Spec.Template.Spec.Containers[0].Image, d.Spec.Template.Spec.Containers[0].ImagePullPolicy));
            Assert.Equal("registry-credentials", Assert.Single(d.Spec.Template.Spec.ImagePullSecrets).Name);
        });
    }

    [Fact]
    public void Probes_RouterOnItsHttpPort_ShardOnItsMetricsPort_StartupAllowsTheLoadTimeout()
    {
        var children = Samples.Build(Samples.TinyFile);
        var router = children.RouterDeployment.Spec.Template;
        var shard = children.ShardDeployments[0].Spec.Template;

        foreach (var (template, port, number) in new[] { (router, "http", "8000"), (shard, "metrics", "9100") })
        {
            var container = template.Spec.Containers[0];
            Assert.Equal(("/healthz", port), (container.LivenessProbe.HttpGet.Path, container.LivenessProbe.HttpGet.Port.Value));
            Assert.Equal(("/readyz", port), (container.ReadinessProbe.HttpGet.Path, container.ReadinessProbe.HttpGet.Port.Value));
            Assert.Equal(("/healthz", port), (container.StartupProbe.HttpGet.Path, container.StartupProbe.HttpGet.Port.Value));
            Assert.True(container.StartupProbe.PeriodSeconds * container.StartupProbe.FailureThreshold >= Samples.Settings.ModelLoadTimeout.TotalSeconds);
            Assert.Contains(container.Ports, p => p.Name == port && p.ContainerPort.ToString(System.Globalization.CultureInfo.InvariantCulture) == number);
            Assert.Equal(("true", number, "/metrics"), (template.Metadata.Annotations["prometheus.io/scrape"], template.Metadata.Annotations["prometheus.io/port"], template.Metadata.Annotations["prometheus.io/path"]));
        }
    }

    [Fact]
    public void Scheduling_FromRouterAndExpertsSpecs_ShardReplicasSpreadOverHostnames_TokenOnlyForRouters()
    {
        var children = Samples.Build(Samples.DeepSeekV3File);
        var router = children.RouterDeployment.Spec.Template.Spec;

        Assert.Equal("NVIDIA-H100-80GB-HBM3", router.NodeSelector["nvidia.com/gpu.product"]);
        Assert.Equal("nvidia.com/gpu", Assert.Single(router.Tolerations).Key);
        Assert.Null(router.TopologySpreadConstraints);
        Assert.True(router.AutomountServiceAccountToken);
        Assert.All(children.ShardDeployments, d =>
        {
            var pod = d.Spec.Template.Spec;
            Assert.False(pod.AutomountServiceAccountToken);
            Assert.Equal("NoSchedule", Assert.Single(pod.Tolerations).Effect);
            var spread = Assert.Single(pod.TopologySpreadConstraints);
            Assert.Equal(("kubernetes.io/hostname", "ScheduleAnyway", 1), (spread.TopologyKey, spread.WhenUnsatisfiable, spread.MaxSkew));
            Assert.Equal(d.Spec.Selector.MatchLabels, spread.LabelSelector.MatchLabels);
        });
    }

    [Fact]
    public void ApiKeySecret_MountedOnRoutersOnly()
    {
        var children = Samples.Build(Samples.DeepSeekV3File);

        var secret = children.RouterDeployment.Spec.Template.Spec.Volumes.Single(v => v.Secret is not null).Secret;
        Assert.Equal("deepseek-v3-api", secret.SecretName);
        Assert.Equal(("api-key", "api-key"), (Assert.Single(secret.Items).Key, secret.Items[0].Path));
        Assert.All(children.ShardDeployments, d => Assert.DoesNotContain(d.Spec.Template.Spec.Volumes, v => v.Secret is not null));
    }

    /// <summary>The container's args as the kubelet runs them (<c>$(VAR)</c> of its downward-API env expanded), parsed by <c>dsop</c>.</summary>
    private static System.CommandLine.ParseResult Parse(V1Deployment deployment)
    {
        var container = deployment.Spec.Template.Spec.Containers[0];
        var fieldValues = new Dictionary<string, string> { ["status.podIP"] = PodIp, ["metadata.namespace"] = deployment.Metadata.NamespaceProperty };
        var variables = container.Env.ToDictionary(e => e.Name, e => e.Value ?? fieldValues[e.ValueFrom.FieldRef.FieldPath]);
        var args = container.Args.Select(a => System.Text.RegularExpressions.Regex.Replace(a, @"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", m => variables.GetValueOrDefault(m.Groups[1].Value, m.Value)));
        var result = Dsop.BuildRootCommand().Parse([.. args]);
        Assert.True(result.Errors.Count == 0, $"{deployment.Metadata.Name}: {string.Join("; ", result.Errors.Select(e => e.Message))}");
        return result;
    }

    private const string PodIp = "10.244.1.7";

    private static V1Volume ModelVolume(V1Deployment deployment) => deployment.Spec.Template.Spec.Volumes.Single(v => v.Name == "model");

    private static ModelChildren WithSource(ModelSource source)
    {
        var model = Samples.Read(Samples.DeepSeekV3File);
        model.Spec = model.Spec with { Model = model.Spec.Model with { Source = source } };
        return ModelChildren.Build(model, Samples.ConfigOf(model), Samples.Settings);
    }
}
