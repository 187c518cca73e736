using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using DeepSeekOperator.Api.Schema;
using DeepSeekOperator.Api.V1Alpha1;
using DeepSeekOperator.Controller.Children;
using DeepSeekOperator.Controller.Placement;
using DeepSeekOperator.Moe;
using DeepSeekOperator.Serving.Placement;
using DeepSeekOperator.Tests;
using k8s;
using k8s.Models;

namespace DeepSeekOperator.Controller.Tests.Children;

/// <summary>The set of children of the sample models, their metadata, the placement, and the specs that cannot have children.</summary>
public sealed class ModelChildrenTests
{
    public static TheoryData<string> SampleFiles => [Samples.TinyFile, Samples.DeepSeekV3File];

    [Fact]
    public void TinySample_FourShards_OneOfEachChildPlusOnePlacementDeploymentServiceAndBudgetPerShard()
    {
        var children = Samples.Build(Samples.TinyFile);

        string[] perShard = [.. Enumerable.Range(0, 4).Select(k => $"tiny-shard-{k}")];
        string[] expected =
        [
            "ServiceAccount/tiny-serving", "Role/tiny-serving", "RoleBinding/tiny-serving",
            "ConfigMap/tiny-placement", .. Enumerable.Range(0, 4).Select(k => $"ConfigMap/tiny-placement-shard-{k}"), "ConfigMap/tiny-config",
            "Deployment/tiny-router", .. perShard.Select(n => $"Deployment/{n}"),
            .. perShard.Select(n => $"Service/{n}"), "Service/tiny",
            "PodDisruptionBudget/tiny-router", .. perShard.Select(n => $"PodDisruptionBudget/{n}"),
            "NetworkPolicy/tiny-routers", "NetworkPolicy/tiny-shards",
            "ServiceMonitor/tiny",
        ];
        Assert.Equal(expected, Samples.All(children).Select(o => $"{o.Kind}/{o.Metadata.Name}"));
        Assert.All(Samples.All(children), o => Assert.Equal("default", o.Metadata.NamespaceProperty));
        Assert.Equal("http://tiny.default.svc.cluster.local:8000/v1", children.Endpoint);
    }

    [Fact]
    public void DeepSeekV3Sample_ThirtyTwoShards_ThirtyTwoDeploymentsServicesAndBudgets()
    {
        var children = Samples.Build(Samples.DeepSeekV3File);

        Assert.Equal(32, children.ShardDeployments.Count);
        Assert.Equal(Enumerable.Range(0, 32).Select(k => $"deepseek-v3-shard-{k}"), children.ShardServices.Select(s => s.Metadata.Name));
        Assert.Equal(33, children.DisruptionBudgets.Count);
        Assert.Equal(2, children.RouterDeployment.Spec.Replicas);
        Assert.All(children.ShardDeployments, d => Assert.Equal(1, d.Spec.Replicas));
        Assert.All(Samples.All(children), o => Assert.Equal("models", o.Metadata.NamespaceProperty));
    }

    [Theory]
    [MemberData(nameof(SampleFiles))]
    public void EveryChild_ControllerOwnerReferenceAndStandardLabels(string file)
    {
        var model = Samples.Read(file);
        var children = ModelChildren.Build(model, Samples.ConfigOf(model), Samples.Settings);
        var name = model.Metadata.Name;

        Assert.All(Samples.All(children), child =>
        {
            var owner = Assert.Single(child.Metadata.OwnerReferences);
            Assert.Equal((DeepSeekModel.GroupVersion, DeepSeekModel.KindName, name, model.Metadata.Uid, true, true),
                (owner.ApiVersion, owner.Kind, owner.Name, owner.Uid, owner.Controller, owner.BlockOwnerDeletion));

            var labels = child.Metadata.Labels;
            Assert.Equal("deepseek-model", labels["app.kubernetes.io/name"]);
            Assert.Equal(name, labels["app.kubernetes.io/instance"]);
            Assert.Equal("deepseek-operator", labels["app.kubernetes.io/managed-by"]);
            Assert.Equal(name, labels["app.kubernetes.io/part-of"]);
            Assert.Contains(labels["app.kubernetes.io/component"], new[] { "router", "shard", "gateway", "placement", "config", "rbac", "network", "monitoring" });
            var shard = Regex.Match(child.Metadata.Name, $"^{name}-(?:placement-)?shard-([0-9]+)$");
            Assert.Equal(shard.Success ? shard.Groups[1].Value : null, labels.TryGetValue("moe.deepseek-operator.io/shard", out var k) ? k : null);
        });
        Assert.All(children.ShardDeployments, d => Assert.Equal("shard", d.Metadata.Labels["app.kubernetes.io/component"]));
        Assert.Equal("router", children.RouterDeployment.Metadata.Labels["app.kubernetes.io/component"]);
        Assert.Equal("gateway", children.GatewayService.Metadata.Labels["app.kubernetes.io/component"]);
        Assert.Equal("placement", children.PlacementConfigMap.Metadata.Labels["app.kubernetes.io/component"]);
    }

    [Theory]
    [MemberData(nameof(SampleFiles))]
    public void Selectors_MatchTheirPodsAndNoOtherComponentsPods(string file)
    {
        var children = Samples.Build(file);
        var routerPods = children.RouterDeployment.Spec.Template.Metadata.Labels;

        Assert.All(Samples.Deployments(children), d => Assert.True(Samples.Matches(d.Spec.Selector.MatchLabels, d.Spec.Template.Metadata.Labels)));
        Assert.True(Samples.Matches(children.GatewayService.Spec.Selector, routerPods));
        for (var k = 0; k < children.ShardDeployments.Count; k++)
        {
            var pods = children.ShardDeployments[k].Spec.Template.Metadata.Labels;
            Assert.True(Samples.Matches(children.ShardServices[k].Spec.Selector, pods));
            Assert.True(Samples.Matches(children.DisruptionBudgets[k + 1].Spec.Selector.MatchLabels, pods));
            Assert.False(Samples.Matches(children.ShardServices[k].Spec.Selector, routerPods));
            Assert.All(children.ShardDeployments.Where((_, other) => other != k),
                d => Assert.False(Samples.Matches(children.ShardServices[k].Spec.Selector, d.Spec.Template.Metadata.Labels)));
        }

        Assert.True(Samples.Matches(children.DisruptionBudgets[0].Spec.Selector.MatchLabels, routerPods));
        Assert.All(children.DisruptionBudgets, b => Assert.Equal("1", b.Spec.MaxUnavailable.Value));
    }

    [Theory]
    [MemberData(nameof(SampleFiles))]
    public void NetworkPolicies_OnlyThisModelsRoutersReachShardGrpc_AnyoneTheRouterPort_PrometheusTheShardMetrics(string file)
    {
        var children = Samples.Build(file);
        var routerPods = children.RouterDeployment.Spec.Template.Metadata.Labels;
        var shardPods = children.ShardDeployments.Select(d => d.Spec.Template.Metadata.Labels).ToList();
        var routers = children.NetworkPolicies.Single(p => p.Metadata.Name.EndsWith("-routers", StringComparison.Ordinal)).Spec;
        var shards = children.NetworkPolicies.Single(p => p.Metadata.Name.EndsWith("-shards", StringComparison.Ordinal)).Spec;

        Assert.True(Samples.Matches(routers.PodSelector.MatchLabels, routerPods));
        Assert.All(shardPods, pods => Assert.False(Samples.Matches(routers.PodSelector.MatchLabels, pods)));
        var open = Assert.Single(routers.Ingress);
        Assert.Null(open.FromProperty);
        Assert.Equal("8000", Assert.Single(open.Ports).Port.Value);

        Assert.All(shardPods, pods => Assert.True(Samples.Matches(shards.PodSelector.MatchLabels, pods)));
        Assert.False(Samples.Matches(shards.PodSelector.MatchLabels, routerPods));
        Assert.Equal(["Ingress"], shards.PolicyTypes);
        var grpc = shards.Ingress.Single(r => r.Ports.Single().Port.Value == "9000");
        var peer = Assert.Single(grpc.FromProperty);
        Assert.Null(peer.NamespaceSelector);
        Assert.True(Samples.Matches(peer.PodSelector.MatchLabels, routerPods));
        Assert.All(shardPods, pods => Assert.False(Samples.Matches(peer.PodSelector.MatchLabels, pods)));
        var metrics = shards.Ingress.Single(r => r.Ports.Single().Port.Value == "9100");
        Assert.Equal("monitoring", Assert.Single(metrics.FromProperty).NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"]);
        Assert.Equal(2, shards.Ingress.Count);
    }

    [Theory]
    [InlineData(Samples.TinyFile, 16, 4, 4)]
    [InlineData(Samples.DeepSeekV3File, 256, 32, 9)]
    public void PlacementConfigMap_ParsesAsRevisionOneAndFitsTheModel(string file, int experts, int shards, int slotsPerShard)
    {
        var model = Samples.Read(file);
        var config = Samples.ConfigOf(model);
        var children = ModelChildren.Build(model, config, Samples.Settings);

        var placement = ExpertPlacement.Parse(children.PlacementConfigMap.Data["placement.json"]);
        Assert.Empty(placement.Validate(config));
        Assert.Equal(experts, config.NRoutedExperts);
        Assert.Equal((1L, model.Metadata.Name, shards, slotsPerShard), (placement.Revision, placement.ModelId, placement.Shards, placement.SlotsPerShard));
        Assert.Equal(config.MoeLayers, placement.Layers.Select(l => l.Layer));
        Assert.Equal(children.Placement.Serialize(), placement.Serialize());
        var name = model.Metadata.Name;
        Assert.Equal([.. Enumerable.Range(0, shards).Select(k => $"{name}-placement-shard-{k}")], children.ShardPlacementConfigMaps.Select(c => c.Metadata.Name));
        Assert.All(children.ShardPlacementConfigMaps.Append(children.PlacementConfigMap), configMap =>
        {
            Assert.Equal("placement.json", Assert.Single(configMap.Data).Key);
            Assert.Equal(PublishedPlacement.Json(placement), configMap.Data["placement.json"]);
            Assert.Equal("placement", configMap.Metadata.Labels["app.kubernetes.io/component"]);
        });
    }

    [Fact]
    public void DeepSeekV3Placement_EachConfigMapUnder1MiB_TheirSumOver()
    {
        var children = Samples.Build(Samples.DeepSeekV3File);

        var sizes = children.ShardPlacementConfigMaps.Append(children.PlacementConfigMap).Select(c => Encoding.UTF8.GetByteCount(c.Data["placement.json"])).ToList();

        Assert.Equal(33, sizes.Count);
        Assert.All(sizes, size => Assert.InRange(size, 1, 1024 * 1024));
        Assert.True(sizes.Sum() > 1024 * 1024, $"the 33 placements together are {sizes.Sum()} bytes, which one ConfigMap would hold");
    }

    [Fact]
    public void PublishedPlacementThatFits_KeptAsItIs_ConfigMapWithoutData()
    {
        var model = Samples.Read(Samples.TinyFile);
        var config = Samples.ConfigOf(model);
        var published = Published(Samples.Build(Samples.TinyFile));
        var balanced = PlacementGenerator.RoundRobin(config, model.Metadata.Name, 5, 4, 4).Serialize();
        published["tiny-placement"].Data["placement.json"] = balanced;

        var children = ModelChildren.Build(model, config, Samples.Settings, publishedPlacement: published.GetValueOrDefault);

        Assert.Null(children.PlacementConfigMap.Data);
        Assert.All(children.ShardPlacementConfigMaps, configMap => Assert.Null(configMap.Data));
        Assert.Equal(balanced, children.Placement.Serialize());
    }

    [Theory]
    [InlineData(2, 0)]
    [InlineData(4, 3)]
    public void PublishedPlacementNoLongerFitting_NextRevisionContiguousOnEveryKey(int shards, int redundantSlots)
    {
        var model = Samples.Read(Samples.TinyFile);
        var config = Samples.ConfigOf(model);
        var published = Published(Samples.Build(Samples.TinyFile));
        published["tiny-placement-shard-1"].Data["placement.json"] = PlacementGenerator.RoundRobin(config, model.Metadata.Name, 6, 4, 4).Serialize();
        model.Spec = model.Spec with { Experts = model.Spec.Experts with { Shards = shards, RedundantSlots = redundantSlots } };

        var children = ModelChildren.Build(model, config, Samples.Settings, publishedPlacement: published.GetValueOrDefault);

        var expected = PlacementGenerator.Contiguous(config, model.Metadata.Name, 7, shards, children.Placement.SlotsPerShard);
        Assert.Equal(expected.Serialize(), children.Placement.Serialize());
        Assert.Equal(shards, children.ShardPlacementConfigMaps.Count);
        Assert.All(children.ShardPlacementConfigMaps.Append(children.PlacementConfigMap), configMap => Assert.Equal(PublishedPlacement.Json(expected), Assert.Single(configMap.Data).Value));
    }

    // The placement ConfigMaps of built children, as a cluster would hold them, by name.
    private static Dictionary<string, V1ConfigMap> Published(ModelChildren children) =>
        children.ShardPlacementConfigMaps.Append(children.PlacementConfigMap).ToDictionary(c => c.Metadata.Name, StringComparer.Ordinal);

    [Fact]
    public void ConfigConfigMap_HoldsTheServingSettingsAsJson()
    {
        var children = Samples.Build(Samples.DeepSeekV3File);

        var settings = JsonNode.Parse(children.ConfigConfigMap.Data["serving.json"])!;
        Assert.Equal("pvc", (string?)settings["source"]);
        Assert.Equal("bfloat16", (string?)settings["dtype"]);
        Assert.Equal("cuda", (string?)settings["device"]);
        Assert.Equal(children.Endpoint, (string?)settings["endpoint"]);
        Assert.Equal(16384, (int?)settings["router"]!["maxBatchTokens"]);
        Assert.True((bool?)settings["router"]!["apiKeyRequired"]);
        Assert.Equal(9, (int?)settings["shards"]!["slotsPerShard"]);
        Assert.Equal("deepseek-v3-placement", (string?)settings["placement"]!["configMap"]);
    }

    [Fact]
    public void ServiceMonitor_ScrapesGatewayHttpAndShardMetricsPortsOfThisModel()
    {
        var children = Samples.Build(Samples.TinyFile);

        var json = JsonNode.Parse(KubernetesJson.Serialize(children.ServiceMonitor))!;
        Assert.Equal("monitoring.coreos.com/v1", (string?)json["apiVersion"]);
        Assert.Equal("ServiceMonitor", (string?)json["kind"]);
        var selector = json["spec"]!["selector"]!;
        var matchLabels = selector["matchLabels"]!.AsObject().ToDictionary(p => p.Key, p => (string)p.Value!);
        var components = selector["matchExpressions"]![0]!["values"]!.AsArray().Select(v => (string)v!).ToList();
        Assert.True(Samples.Matches(matchLabels, children.GatewayService.Metadata.Labels));
        Assert.All(children.ShardServices, s => Assert.True(Samples.Matches(matchLabels, s.Metadata.Labels)));
        Assert.Equal(["gateway", "shard"], components);
        Assert.Equal(["http", "metrics"], json["spec"]!["endpoints"]!.AsArray().Select(e => (string)e!["port"]!));
        Assert.Contains(children.GatewayService.Spec.Ports, p => p.Name == "http");
        Assert.All(children.ShardServices, s => Assert.Contains(s.Spec.Ports, p => p.Name == "metrics"));
    }

    [Fact]
    public void ServiceMonitor_LabelsEveryTargetWithTheModelComponentAndShardOfItsPod_AsTheScrapeConfigExample()
    {
        var children = Samples.Build(Samples.TinyFile);
        var example = File.ReadAllText(Repository.PathOf("config/prometheus/prometheus.yml"));

        var json = JsonNode.Parse(KubernetesJson.Serialize(children.ServiceMonitor))!;
        var endpoints = json["spec"]!["endpoints"]!.AsArray();
        Assert.Equal(2, endpoints.Count);
        foreach (var endpoint in endpoints)
        {
            var relabelings = endpoint!["relabelings"]!.AsArray()
                .Select(r => (Source: (string)Assert.Single(r!["sourceLabels"]!.AsArray())!, Target: (string)r!["targetLabel"]!, Action: (string)r!["action"]!))
                .ToList();
            Assert.Equal(["model", "component", "shard"], relabelings.Select(r => r.Target));
            Assert.All(relabelings, r => Assert.Equal("replace", r.Action));
            Assert.All(relabelings, r => Assert.Contains($"- source_labels: [{r.Source}]\n        target_label: {r.Target}\n", example, StringComparison.Ordinal));

            Assert.Equal(
                new Dictionary<string, string> { ["model"] = "tiny", ["component"] = "router" },
                Relabel(relabelings, children.RouterDeployment.Spec.Template.Metadata.Labels));
            Assert.All(children.ShardDeployments.Select((d, k) => (d.Spec.Template.Metadata.Labels, k)), shard => Assert.Equal(
                new Dictionary<string, string> { ["model"] = "tiny", ["component"] = "shard", ["shard"] = shard.k.ToString(CultureInfo.InvariantCulture) },
                Relabel(relabelings, shard.Labels)));
        }
    }

    // What replace relabelings with the default regex and replacement make of a pod's labels as Kubernetes discovery
    // names them (__meta_kubernetes_pod_label_ and the key with every character outside [a-zA-Z0-9_] as '_'): an empty
    // value leaves the label out.
    private static Dictionary<string, string> Relabel(IEnumerable<(string Source, string Target, string Action)> relabelings, IDictionary<string, string> podLabels)
    {
        var discovered = podLabels.ToDictionary(l => "__meta_kubernetes_pod_label_" + Regex.Replace(l.Key, "[^a-zA-Z0-9_]", "_"), l => l.Value, StringComparer.Ordinal);
        return relabelings
            .Select(r => (r.Target, Value: discovered.GetValueOrDefault(r.Source, "")))
            .Where(l => l.Value.Length > 0)
            .ToDictionary(l => l.Target, l => l.Value, StringComparer.Ordinal);
    }

    [Fact]
    public void Children_RoundTripThroughKubernetesJson()
    {
        var children = Samples.Build(Samples.DeepSeekV3File);

        AssertRoundTrips(children.ServiceAccount);
        AssertRoundTrips(children.Role);
        AssertRoundTrips(children.RoleBinding);
        AssertRoundTrips(children.PlacementConfigMap);
        AssertRoundTrips(children.ConfigConfigMap);
        AssertRoundTrips(children.RouterDeployment);
        Assert.All(children.ShardDeployments, AssertRoundTrips);
        Assert.All(children.ShardServices, AssertRoundTrips);
        AssertRoundTrips(children.GatewayService);
        Assert.All(children.DisruptionBudgets, AssertRoundTrips);
        Assert.All(children.NetworkPolicies, AssertRoundTrips);
    }

    [Fact]
    public void Role_GrantsOnlyGetListWatchOnEndpointSlices_BoundToTheServingAccount()
    {
        var children = Samples.Build(Samples.TinyFile);

        var rule = Assert.Single(children.Role.Rules);
        Assert.Equal(["discovery.k8s.io"], rule.ApiGroups);
        Assert.Equal(["endpointslices"], rule.Resources);
        Assert.Equal(["get", "list", "watch"], rule.Verbs);
        Assert.Null(rule.ResourceNames);
        Assert.Equal(children.Role.Metadata.Name, children.RoleBinding.RoleRef.Name);
        var subject = Assert.Single(children.RoleBinding.Subjects);
        Assert.Equal(("ServiceAccount", "tiny-serving", "default"), (subject.Kind, subject.Name, subject.NamespaceProperty));
        Assert.All(Samples.Deployments(children), d => Assert.Equal("tiny-serving", d.Spec.Template.Spec.ServiceAccountName));
    }

    [Fact]
    public void NameTooLongForAShardService_RefusedNamingMetadataName()
    {
        var model = Samples.Read(Samples.TinyFile);
        model.Metadata.Name = new string('m', 56);

        var error = Assert.Throws<InvalidModelSpecException>(() => ModelChildren.Build(model, Samples.ConfigOf(model), Samples.Settings)).Error;

        Assert.Equal(("metadata.name", FieldErrorType.TooLong), (error.Field, error.Type));
        Assert.Contains($"\"{model.Metadata.Name}-shard-3\" would be 64 characters", error.Detail, StringComparison.Ordinal);
        Assert.StartsWith("metadata.name: Too long:", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void NameAtTheLimit_FiftyTwoCharactersAndShard1023_Accepted()
    {
        var model = Samples.Read(Samples.TinyFile);
        model.Metadata.Name = new string('m', DeepSeekModel.MaxNameLength);
        model.Spec = model.Spec with { Experts = model.Spec.Experts with { Shards = 1024 } };

        var children = ModelChildren.Build(model, new ModelConfig { NRoutedExperts = 1024 }, Samples.Settings);

        Assert.Equal(63, children.ShardServices[^1].Metadata.Name.Length);
    }

    [Fact]
    public void NameStartingWithADigit_RefusedNamingMetadataName()
    {
        var model = Samples.Read(Samples.TinyFile);
        model.Metadata.Name = "7b";

        var error = Assert.Throws<InvalidModelSpecException>(() => ModelChildren.Build(model, Samples.ConfigOf(model), Samples.Settings)).Error;

        Assert.Equal("metadata.name", error.Field);
    }

    [Fact]
    public void MoreShardsThanRoutedExperts_RefusedNamingSpecExpertsShards()
    {
        var model = Samples.Read(Samples.TinyFile);
        model.Spec = model.Spec with { Experts = model.Spec.Experts with { Shards = 17 } };

        var error = Assert.Throws<InvalidModelSpecException>(() => ModelChildren.Build(model, Samples.ConfigOf(model), Samples.Settings)).Error;

        Assert.Equal("spec.experts.shards", error.Field);
        Assert.Contains("16 routed experts", error.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void RedundantSlotsBeyondTheExperts_RefusedNamingSpecExpertsRedundantSlots()
    {
        var model = Samples.Read(Samples.TinyFile);
        model.Spec = model.Spec with { Experts = model.Spec.Experts with { RedundantSlots = 13 } };

        var error = Assert.Throws<InvalidModelSpecException>(() => ModelChildren.Build(model, Samples.ConfigOf(model), Samples.Settings)).Error;

        Assert.Equal("spec.experts.redundantSlots", error.Field);
    }

    [Theory]
    [InlineData(3, 0, "divide experts.shards (4)")]
    [InlineData(1, 5, "4 nodes would hold 4 of the model's experts each, fewer than the 9 slots per shard")]
    public void ShardsPerNodeNotFittingTheShardsOrTheModel_RefusedNamingSpecPlacementShardsPerNode(int shardsPerNode, int redundantSlots, string detail)
    {
        var model = Samples.Read(Samples.TinyFile);
        model.Spec = model.Spec with
        {
            Experts = model.Spec.Experts with { RedundantSlots = redundantSlots },
            Placement = model.Spec.Placement with { ShardsPerNode = shardsPerNode },
        };

        var error = Assert.Throws<InvalidModelSpecException>(() => ModelChildren.Build(model, Samples.ConfigOf(model), Samples.Settings)).Error;

        Assert.Equal("spec.placement.shardsPerNode", error.Field);
        Assert.Contains(detail, error.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Float16_RefusedNamingSpecModelDtype()
    {
        var model = Samples.Read(Samples.TinyFile);
        model.Spec = model.Spec with { Model = model.Spec.Model with { Dtype = ModelDtype.Float16 } };

        var error = Assert.Throws<InvalidModelSpecException>(() => ModelChildren.Build(model, Samples.ConfigOf(model), Samples.Settings)).Error;

        Assert.Equal(("spec.model.dtype", FieldErrorType.NotSupported), (error.Field, error.Type));
    }

    private static void AssertRoundTrips<T>(T child)
        where T : IKubernetesObject<V1ObjectMeta>
    {
        var json = KubernetesJson.Serialize(child);
        Assert.Equal(json, KubernetesJson.Serialize(KubernetesJson.Deserialize<T>(json)));
        Assert.Equal(child.Kind, (string?)JsonNode.Parse(json)!["kind"]);
    }
}
