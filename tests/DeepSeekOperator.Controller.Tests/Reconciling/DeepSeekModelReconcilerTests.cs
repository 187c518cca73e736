using System.Diagnostics;
using System.Text.Json.Nodes;
using DeepSeekOperator.Api;
using DeepSeekOperator.Api.V1Alpha1;
using DeepSeekOperator.Controller.Children;
using DeepSeekOperator.Controller.Placement;
using DeepSeekOperator.Controller.Reconciling;
using DeepSeekOperator.Controller.Reconciling.Internal;
using DeepSeekOperator.Controller.Runtime;
using DeepSeekOperator.Controller.Tests.Children;
using DeepSeekOperator.DevCluster.Tests;
using DeepSeekOperator.Moe;
using DeepSeekOperator.Serving.Placement;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;

namespace DeepSeekOperator.Controller.Tests.Reconciling;

/// <summary>The reconciler against the dev cluster's API server, with the tiny sample (no pods run, so nothing is ready).</summary>
public sealed class DeepSeekModelReconcilerTests
{
    private const string Namespace = "models";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);
    private static readonly ObjectKey Key = new(Namespace, "tiny");

    [Fact]
    public async Task TinySample_Reconciled_EveryChildOwnedAndStatusShowsThem()
    {
        await using var world = await World.StartAsync();
        var model = await world.ModelAsync();

        Assert.Equal(ReconcileOutcome.Done, (await world.ReconcileAsync()).Outcome);

        var expected = ModelChildren.Build(model, Samples.ConfigOf(model), Samples.Settings);
        foreach (var child in expected.BuiltIn)
        {
            var live = await world.Children.ReadAsync(child, CancellationToken.None);
            Assert.NotNull(live);
            var owner = Assert.Single(live.Metadata.OwnerReferences);
            Assert.Equal((model.Metadata.Uid, true), (owner.Uid, owner.Controller));
        }

        var status = (await world.ReadModelAsync()).Status!;
        Assert.Equal(model.Metadata.Generation, status.ObservedGeneration);
        Assert.Equal(ModelPhase.Progressing, status.Phase);
        Assert.Equal(expected.Endpoint, status.Endpoint);
        Assert.Equal(16, status.Experts);
        Assert.Equal(new ReplicaStatus { Replicas = 0, ReadyReplicas = 0 }, status.Routers);
        Assert.Equal([0, 1, 2, 3], status.Shards!.Select(shard => shard.Index));
        Assert.All(status.Shards!, shard => Assert.Equal(expected.Placement.SlotsPerShard, shard.Experts));
        Assert.Equal(new PlacementStatus { ConfigMap = "tiny-placement", Revision = expected.Placement.Revision }, status.Placement);
        var ready = Assert.Single(status.Conditions!, c => c.Type == ConditionTypes.Ready);
        Assert.Equal(("False", "WaitingForReplicas", model.Metadata.Generation), (ready.Status, ready.Reason, ready.ObservedGeneration));
        Assert.Contains(status.Conditions!, c => c is { Type: ConditionTypes.Progressing, Status: "True" });
        Assert.Contains(status.Conditions!, c => c is { Type: ConditionTypes.Degraded, Status: "False" });
        var created = Assert.Single((await world.Client.CoreV1.ListNamespacedEventAsync(Namespace)).Items, e => e.Reason == "Created");
        Assert.Equal(EventRecorder.Normal, created.Type);
        Assert.Equal(
            "Created ServiceAccount tiny-serving; Role tiny-serving; RoleBinding tiny-serving; "
            + "ConfigMap tiny-placement, tiny-placement-shard-0, tiny-placement-shard-1, tiny-placement-shard-2, tiny-placement-shard-3 and 1 more; "
            + "Deployment tiny-router, tiny-shard-0, tiny-shard-1, tiny-shard-2, tiny-shard-3; Service tiny-shard-0, tiny-shard-1, tiny-shard-2, tiny-shard-3, tiny; "
            + "PodDisruptionBudget tiny-router, tiny-shard-0, tiny-shard-1, tiny-shard-2, tiny-shard-3; NetworkPolicy tiny-routers, tiny-shards",
            created.Message);
    }

    [Fact]
    public async Task ReconciledTwice_SecondWritesNothing()
    {
        await using var world = await World.StartAsync();
        var model = await world.ModelAsync();
        await world.ReconcileAsync();
        var before = await world.VersionsAsync(model);

        Assert.Equal(ReconcileOutcome.Done, (await world.ReconcileAsync()).Outcome);

        Assert.Equal(before, await world.VersionsAsync(model));
    }

    [Fact]
    public async Task OwnStatusWrite_NeedsNoReconcile_AnotherWritersStatusAndASpecChangeDo()
    {
        await using var world = await World.StartAsync();
        var model = await world.ModelAsync();
        await world.ReconcileAsync();
        await world.StatusCachedAsync(status => status is not null);
        var written = world.Models.Get(Key)!;

        Assert.True(world.Reconciler.IsOwnStatusUpdate(model, written));

        var current = await world.ReadModelAsync();
        current.Status = current.Status! with { Autoscaling = new AutoscalingStatus { Shards = [new ShardScalingDecision { Index = 0, Current = 1, Desired = 2 }] } };
        await world.Client.CustomObjects.ReplaceNamespacedCustomObjectStatusAsync(current, DeepSeekModel.Group, DeepSeekModel.Version, Namespace, DeepSeekModel.Plural, Key.Name);
        await world.StatusCachedAsync(status => status?.Autoscaling is not null);
        Assert.False(world.Reconciler.IsOwnStatusUpdate(written, world.Models.Get(Key)!));

        var changed = await world.ChangeAsync(written, m => m.Spec = m.Spec with { Router = m.Spec.Router with { Replicas = 2 } });
        Assert.False(world.Reconciler.IsOwnStatusUpdate(written, changed));
    }

    [Fact]
    public async Task StatusChangedByAnotherWriterWhileCached_ReconcileKeepsTheirPartAndWritesOnlyWhatChanged()
    {
        await using var world = await World.StartAsync();
        await world.ModelAsync();
        await world.ReconcileAsync();
        await world.StatusCachedAsync(status => status is not null);
        var current = await world.ReadModelAsync();
        current.Status = current.Status! with { Autoscaling = new AutoscalingStatus { Shards = [new ShardScalingDecision { Index = 0, Current = 1, Desired = 1 }] } };
        await world.Client.CustomObjects.ReplaceNamespacedCustomObjectStatusAsync(current, DeepSeekModel.Group, DeepSeekModel.Version, Namespace, DeepSeekModel.Plural, Key.Name);
        var version = (await world.ReadModelAsync()).Metadata.ResourceVersion;

        Assert.Equal(ReconcileOutcome.Done, (await world.ReconcileAsync()).Outcome);

        var after = await world.ReadModelAsync();
        Assert.Equal(version, after.Metadata.ResourceVersion);
        Assert.NotNull(after.Status!.Autoscaling);
    }

    [Fact]
    public async Task CacheBehindTheServer_CreateOfAnExistingChildConflicts_RetriedAndTheNextReconcileConverges()
    {
        await using var world = await World.StartAsync();
        var model = await world.ModelAsync();
        await world.ReconcileAsync();
        var before = await world.VersionsAsync(model);
        var neverSynced = new Informer<V1ConfigMap>(world.Client, new InformerOptions { Namespace = Namespace }, TimeProvider.System, NullLogger<Informer<V1ConfigMap>>.Instance);
        var stale = world.NewReconciler(world.Caches with { ConfigMaps = neverSynced });

        var conflicted = await stale.ReconcileAsync(Key, CancellationToken.None);

        Assert.Equal(ReconcileOutcome.Error, conflicted.Outcome);
        Assert.StartsWith("Conflict", conflicted.Error, StringComparison.Ordinal);
        Assert.Equal(ReconcileOutcome.Done, (await world.ReconcileAsync()).Outcome);
        Assert.Equal(before, await world.VersionsAsync(model));
    }

    [Fact]
    public async Task DeletedChildAndEditedRouterReplicas_PutBackByTheNextReconcile()
    {
        await using var world = await World.StartAsync();
        await world.ModelAsync();
        await world.ReconcileAsync();
        await world.Client.CoreV1.DeleteNamespacedServiceAsync("tiny-shard-2", Namespace);
        var router = await world.Client.AppsV1.ReadNamespacedDeploymentAsync("tiny-router", Namespace);
        router.Spec.Replicas = 5;
        await world.Client.AppsV1.ReplaceNamespacedDeploymentAsync(router, "tiny-router", Namespace);

        Assert.Equal(ReconcileOutcome.Done, (await world.ReconcileAsync()).Outcome);

        Assert.Equal("tiny-shard-2", (await world.Client.CoreV1.ReadNamespacedServiceAsync("tiny-shard-2", Namespace)).Metadata.Name);
        Assert.Equal(1, (await world.Client.AppsV1.ReadNamespacedDeploymentAsync("tiny-router", Namespace)).Spec.Replicas);
        var events = (await world.Client.CoreV1.ListNamespacedEventAsync(Namespace)).Items;
        Assert.Equal(2, events.Count(e => e.Reason == "Created"));
        Assert.Contains(events, e => e.Reason == "Created" && e.Message == "Created Service tiny-shard-2");
        Assert.Equal("Updated Deployment tiny-router", Assert.Single(events, e => e.Reason == "Updated").Message);
    }

    [Fact]
    public async Task RouterReplicasChanged_RouterDeploymentUpdatedAndObservedGenerationFollows()
    {
        await using var world = await World.StartAsync();
        var model = await world.ModelAsync();
        await world.ReconcileAsync();
        model = await world.ChangeAsync(model, m => m.Spec = m.Spec with { Router = m.Spec.Router with { Replicas = 3 } });

        Assert.Equal(ReconcileOutcome.Done, (await world.ReconcileAsync()).Outcome);

        Assert.Equal(3, (await world.Client.AppsV1.ReadNamespacedDeploymentAsync("tiny-router", Namespace)).Spec.Replicas);
        Assert.Equal(model.Metadata.Generation, (await world.ReadModelAsync()).Status!.ObservedGeneration);
    }

    [Fact]
    public async Task ShardCountReduced_ShardsBeyondItDeleted_ThePlacementCoversTheRest()
    {
        await using var world = await World.StartAsync();
        var model = await world.ModelAsync();
        await world.ReconcileAsync();

        model = await world.ChangeAsync(model, m => m.Spec = m.Spec with { Experts = m.Spec.Experts with { Shards = 2 } });
        Assert.Equal(ReconcileOutcome.Done, (await world.ReconcileAsync()).Outcome);

        string[] shards = ["tiny-shard-0", "tiny-shard-1"];
        Assert.Equal(shards, (await world.Client.AppsV1.ListNamespacedDeploymentAsync(Namespace)).Items
            .Where(d => d.Metadata.DeletionTimestamp is null).Select(d => d.Metadata.Name).Where(n => n.Contains("-shard-", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
        Assert.Equal(shards, (await world.Client.CoreV1.ListNamespacedServiceAsync(Namespace)).Items
            .Select(s => s.Metadata.Name).Where(n => n.Contains("-shard-", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
        Assert.Equal(shards, (await world.Client.PolicyV1.ListNamespacedPodDisruptionBudgetAsync(Namespace)).Items
            .Select(b => b.Metadata.Name).Where(n => n.Contains("-shard-", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
        var data = (await world.Client.CoreV1.ReadNamespacedConfigMapAsync("tiny-placement", Namespace)).Data;
        var placement = ExpertPlacement.Parse(data["placement.json"]);
        Assert.Equal((2, 2L), (placement.Shards, placement.Revision));
        Assert.Equal(PublishedPlacement.Json(placement), (await world.Client.CoreV1.ReadNamespacedConfigMapAsync("tiny-placement-shard-1", Namespace)).Data["placement.json"]);
        Assert.Equal(["tiny-placement-shard-0", "tiny-placement-shard-1"], (await world.Client.CoreV1.ListNamespacedConfigMapAsync(Namespace)).Items
            .Select(c => c.Metadata.Name).Where(n => n.Contains("-shard-", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
        Assert.Equal(2L, (await world.ReadModelAsync()).Status!.Placement!.Revision);
        Assert.Equal(2, (await world.ReadModelAsync()).Status!.Shards!.Count);
        Assert.Contains((await world.Client.CoreV1.ListNamespacedEventAsync(Namespace)).Items, e => e.Reason == "Deleted" && e.Message == "Deleted Deployment tiny-shard-3: the spec no longer has it");

        var versions = await world.VersionsAsync(model);
        Assert.Equal(ReconcileOutcome.Done, (await world.ReconcileAsync()).Outcome);
        Assert.Equal(versions, await world.VersionsAsync(model));
    }

    [Fact]
    public async Task PublishedPlacementThatFitsTheSpec_KeptByTheReconcile_StatusShowsItsRevision()
    {
        await using var world = await World.StartAsync();
        var model = await world.ModelAsync();
        await world.ReconcileAsync();
        var published = PlacementGenerator.RoundRobin(Samples.ConfigOf(model), "tiny", 7, 4, 4).Serialize();
        foreach (var name in new[] { "tiny-placement", "tiny-placement-shard-0" })
        {
            var configMap = await world.Client.CoreV1.ReadNamespacedConfigMapAsync(name, Namespace);
            configMap.Data = new Dictionary<string, string> { ["placement.json"] = published };
            await world.Client.CoreV1.ReplaceNamespacedConfigMapAsync(configMap, name, Namespace);
        }

        Assert.Equal(ReconcileOutcome.Done, (await world.ReconcileAsync()).Outcome);

        async Task<string> PlacementOf(string name) => (await world.Client.CoreV1.ReadNamespacedConfigMapAsync(name, Namespace)).Data["placement.json"];
        Assert.Equal((published, published), (await PlacementOf("tiny-placement"), await PlacementOf("tiny-placement-shard-0")));
        Assert.Equal(1L, ExpertPlacement.Parse(await PlacementOf("tiny-placement-shard-1")).Revision);
        Assert.Equal(7L, (await world.ReadModelAsync()).Status!.Placement!.Revision);
    }

    [Fact]
    public async Task MoreShardsThanExperts_ReadyFalseInvalidSpecNamingTheField_WarningEventOnce()
    {
        await using var world = await World.StartAsync();
        var model = await world.ModelAsync(m => m.Spec = m.Spec with { Experts = m.Spec.Experts with { Shards = 17 } });

        Assert.Equal(ReconcileOutcome.Done, (await world.ReconcileAsync()).Outcome);
        Assert.Equal(ReconcileOutcome.Done, (await world.ReconcileAsync()).Outcome);

        var status = (await world.ReadModelAsync()).Status!;
        Assert.Equal((ModelPhase.Failed, model.Metadata.Generation), (status.Phase, status.ObservedGeneration));
        var ready = Assert.Single(status.Conditions!, c => c.Type == ConditionTypes.Ready);
        Assert.Equal(("False", DeepSeekModelReconciler.InvalidSpec), (ready.Status, ready.Reason));
        Assert.StartsWith("spec.experts.shards", ready.Message, StringComparison.Ordinal);
        Assert.Empty((await world.Client.AppsV1.ListNamespacedDeploymentAsync(Namespace)).Items);
        var events = (await world.Client.CoreV1.ListNamespacedEventAsync(Namespace)).Items.Where(e => e.Reason == DeepSeekModelReconciler.InvalidSpec).ToList();
        Assert.Equal(EventRecorder.Warning, Assert.Single(events).Type);
    }

    [Fact]
    public async Task NoServiceMonitorCrd_ReconcileSucceedsWithoutServiceMonitor()
    {
        await using var world = await World.StartAsync();
        await world.ModelAsync();

        Assert.Equal(ReconcileOutcome.Done, (await world.ReconcileAsync()).Outcome);

        Assert.Null(await PrometheusOperatorCrd.ReadAsync(world.Client, Namespace, Key.Name));
    }

    [Fact]
    public async Task ServiceMonitorCrdInstalled_OneOwnedServiceMonitorPerModel_EditPutBack()
    {
        await using var world = await World.StartAsync();
        await PrometheusOperatorCrd.InstallAsync(world.Client, Namespace);
        var model = await world.ModelAsync();

        Assert.Equal(ReconcileOutcome.Done, (await world.ReconcileAsync()).Outcome);

        var expected = ModelChildren.Build(model, Samples.ConfigOf(model), Samples.Settings).ServiceMonitor;
        var monitors = await world.Client.CustomObjects.ListNamespacedCustomObjectAsync(ServiceMonitor.Group, ServiceMonitor.Version, Namespace, ServiceMonitor.Plural);
        var item = Assert.Single(JsonNode.Parse(KubernetesJson.Serialize(monitors))!["items"]!.AsArray());
        var live = KubernetesJson.Deserialize<ServiceMonitor>(item!.ToJsonString());
        Assert.Equal(expected.Metadata.Name, live.Metadata.Name);
        var owner = Assert.Single(live.Metadata.OwnerReferences);
        Assert.Equal((model.Metadata.Uid, true), (owner.Uid, owner.Controller));
        Assert.True(JsonNode.DeepEquals(expected.Spec, live.Spec), live.Spec.ToJsonString());

        live.Spec["endpoints"] = new JsonArray();
        await world.Client.CustomObjects.ReplaceNamespacedCustomObjectAsync(live, ServiceMonitor.Group, ServiceMonitor.Version, Namespace, ServiceMonitor.Plural, live.Metadata.Name);
        Assert.Equal(ReconcileOutcome.Done, (await world.ReconcileAsync()).Outcome);

        Assert.True(JsonNode.DeepEquals(expected.Spec, (await PrometheusOperatorCrd.ReadAsync(world.Client, Namespace, Key.Name))!.Spec));
    }

    [Fact]
    public async Task HostPathModel_FirstReconcile_CreatesTheReaderPodAndReportsReadingModelConfig()
    {
        await using var world = await World.StartAsync();
        var model = await world.ModelAsync(HostPath("/models/tiny"));

        Assert.Equal(ReconcileOutcome.Done, (await world.ReconcileAsync()).Outcome);

        var pod = Assert.Single(await world.ReadersAsync());
        Assert.Equal(ModelConfigReader.PodName(model, Samples.Settings), pod.Metadata.Name);
        Assert.Equal(("/models/tiny", "Directory"), (pod.Spec.Volumes.Single(v => v.Name == "model").HostPath.Path, pod.Spec.Volumes.Single(v => v.Name == "model").HostPath.Type));
        Assert.Contains(pod.Spec.Containers[0].VolumeMounts, m => m is { Name: "model", MountPath: "/model", ReadOnlyProperty: true });
        var args = DeepSeekOperator.Cli.Dsop.BuildRootCommand().Parse([.. pod.Spec.Containers[0].Args]);
        Assert.Empty(args.Errors);
        Assert.Equal("/model", args.GetValue<DirectoryInfo>("--model")!.FullName);
        var status = (await world.ReadModelAsync()).Status!;
        Assert.Equal(ModelPhase.Pending, status.Phase);
        Assert.Contains(status.Conditions!, c => c is { Type: ConditionTypes.Progressing, Status: "True", Reason: DeepSeekModelReconciler.ReadingModelConfig });
        Assert.Contains(status.Conditions!, c => c is { Type: ConditionTypes.Ready, Status: "False", Reason: DeepSeekModelReconciler.ReadingModelConfig });
        Assert.Empty((await world.Client.AppsV1.ListNamespacedDeploymentAsync(Namespace)).Items);
        Assert.Contains((await world.Client.CoreV1.ListNamespacedEventAsync(Namespace)).Items, e => e.Reason == DeepSeekModelReconciler.ReadingModelConfig);
    }

    [Fact]
    public async Task ReaderSucceeded_ChildrenBuiltFromItsConfig_AndARestartedOperatorRunsNoSecondReader()
    {
        await using var world = await World.StartAsync();
        var model = await world.ModelAsync(HostPath("/models/tiny"));
        await world.ReconcileAsync();
        var pod = Assert.Single(await world.ReadersAsync());

        await world.EndReaderAsync(pod, "Succeeded", SyntheticModel.Config(Moe.SyntheticPreset.Tiny).ToJson(indented: false));
        Assert.Equal(ReconcileOutcome.Done, (await world.ReconcileAsync()).Outcome);

        Assert.Equal(5, (await world.Client.AppsV1.ListNamespacedDeploymentAsync(Namespace)).Items.Count);
        var status = (await world.ReadModelAsync()).Status!;
        Assert.Equal((ModelPhase.Progressing, 16), (status.Phase, status.Experts));
        Assert.Contains(status.Conditions!, c => c is { Type: ConditionTypes.Ready, Status: "False", Reason: "WaitingForReplicas" });

        var restarted = world.NewReconciler();
        await world.CachesCurrentAsync();
        Assert.Equal(ReconcileOutcome.Done, (await restarted.ReconcileAsync(Key, CancellationToken.None)).Outcome);

        Assert.Equal(pod.Metadata.Uid, Assert.Single(await world.ReadersAsync()).Metadata.Uid);
        Assert.Equal(ModelPhase.Progressing, (await world.ReadModelAsync()).Status!.Phase);
    }

    [Fact]
    public async Task ReaderConfigWithFewerRoutedExpertsThanShards_InvalidSpecNamingShards()
    {
        await using var world = await World.StartAsync();
        await world.ModelAsync(HostPath("/models/two-experts"));
        await world.ReconcileAsync();
        var twoExperts = SyntheticModel.Config(Moe.SyntheticPreset.Tiny) with { NRoutedExperts = 2, NumExpertsPerToken = 2, NGroup = 1, TopKGroup = 1 };

        await world.EndReaderAsync(Assert.Single(await world.ReadersAsync()), "Succeeded", twoExperts.ToJson(indented: false));
        Assert.Equal(ReconcileOutcome.Done, (await world.ReconcileAsync()).Outcome);

        var ready = Assert.Single((await world.ReadModelAsync()).Status!.Conditions!, c => c.Type == ConditionTypes.Ready);
        Assert.Equal(("False", DeepSeekModelReconciler.InvalidSpec), (ready.Status, ready.Reason));
        Assert.StartsWith("spec.experts.shards", ready.Message, StringComparison.Ordinal);
        Assert.Empty((await world.Client.AppsV1.ListNamespacedDeploymentAsync(Namespace)).Items);
    }

    [Fact]
    public async Task ReaderFailed_ModelConfigUnavailableWithItsMessage_NoNewReaderUntilTheSourceChanges()
    {
        await using var world = await World.StartAsync();
        var model = await world.ModelAsync(HostPath("/models/broken"));
        await world.ReconcileAsync();
        var failed = Assert.Single(await world.ReadersAsync());
        const string Message = "/model/config.json: n_routed_experts: must be an integer, got \"many\"";

        await world.EndReaderAsync(failed, "Failed", Message);
        Assert.Equal(ReconcileOutcome.Done, (await world.ReconcileAsync()).Outcome);
        Assert.Equal(ReconcileOutcome.Done, (await world.ReconcileAsync()).Outcome);

        var status = (await world.ReadModelAsync()).Status!;
        Assert.Equal(ModelPhase.Failed, status.Phase);
        var ready = Assert.Single(status.Conditions!, c => c.Type == ConditionTypes.Ready);
        Assert.Equal(("False", DeepSeekModelReconciler.ModelConfigUnavailable), (ready.Status, ready.Reason));
        Assert.Contains(Message, ready.Message, StringComparison.Ordinal);
        Assert.Equal(failed.Metadata.Uid, Assert.Single(await world.ReadersAsync()).Metadata.Uid);
        Assert.Single((await world.Client.CoreV1.ListNamespacedEventAsync(Namespace)).Items, e => e.Reason == DeepSeekModelReconciler.ModelConfigUnavailable);

        model = await world.ChangeAsync(model, m => m.Spec = HostPathSpec(m.Spec, "/models/fixed"));
        Assert.Equal(ReconcileOutcome.Done, (await world.ReconcileAsync()).Outcome);

        var reader = Assert.Single(await world.ReadersAsync(), p => p.Metadata.DeletionTimestamp is null);
        Assert.Equal(ModelConfigReader.PodName(model, Samples.Settings), reader.Metadata.Name);
        Assert.Equal("/models/fixed", reader.Spec.Volumes.Single(v => v.Name == "model").HostPath.Path);
        Assert.Equal(DeepSeekModelReconciler.ReadingModelConfig, (await world.ReadModelAsync()).Status!.Conditions!.Single(c => c.Type == ConditionTypes.Ready).Reason);
    }

    [Fact]
    public async Task AutoscalingEnabled_CreatedWithTheLastDecisionOrTheClampedSpec_LiveReplicasLeftAlone()
    {
        await using var world = await World.StartAsync();
        await world.ModelAsync(model => model.Spec = model.Spec with
        {
            Autoscaling = model.Spec.Autoscaling with
            {
                Enabled = true,
                PrometheusUrl = "http://prometheus.monitoring:9090",
                Routers = model.Spec.Autoscaling.Routers with { MinReplicas = 2, MaxReplicas = 5 },
            },
        });
        await world.ReconcileAsync();
        var router = await world.Client.AppsV1.ReadNamespacedDeploymentAsync("tiny-router", Namespace);
        Assert.Equal(2, router.Spec.Replicas);
        Assert.Equal(ReplicaOwnership.Autoscaler, router.Metadata.Annotations[ReplicaOwnership.AnnotationKey]);

        // The autoscaler scaled the router and decided 3 for shard 1, whose Deployment is then deleted.
        await world.Client.AppsV1.PatchNamespacedDeploymentScaleAsync(new V1Patch("""{"spec":{"replicas":4}}""", V1Patch.PatchType.MergePatch), "tiny-router", Namespace);
        var model = await world.ReadModelAsync();
        model.Status = model.Status! with { Autoscaling = new AutoscalingStatus { Shards = [new ShardScalingDecision { Index = 1, Current = 1, Desired = 3 }] } };
        await world.Client.CustomObjects.ReplaceNamespacedCustomObjectStatusAsync(model, DeepSeekModel.Group, DeepSeekModel.Version, Namespace, DeepSeekModel.Plural, Key.Name);
        await world.StatusCachedAsync(status => status?.Autoscaling?.Shards is [_]);
        await world.Client.AppsV1.DeleteNamespacedDeploymentAsync("tiny-shard-1", Namespace);
        Assert.Equal(ReconcileOutcome.Done, (await world.ReconcileAsync()).Outcome);

        Assert.Equal(4, (await world.Client.AppsV1.ReadNamespacedDeploymentAsync("tiny-router", Namespace)).Spec.Replicas);
        Assert.Equal(3, (await world.Client.AppsV1.ReadNamespacedDeploymentAsync("tiny-shard-1", Namespace)).Spec.Replicas);
        Assert.Equal(1, (await world.Client.AppsV1.ReadNamespacedDeploymentAsync("tiny-shard-2", Namespace)).Spec.Replicas);
    }

    [Fact]
    public async Task HorizontalPodAutoscalerTargetsTheRouter_ItsReplicasLeftAlone_UntilTheAutoscalerGoes()
    {
        await using var world = await World.StartAsync();
        await world.ModelAsync();
        var hpa = new V2HorizontalPodAutoscaler
        {
            Metadata = new V1ObjectMeta { Name = "keda-hpa-tiny", NamespaceProperty = Namespace },
            Spec = new V2HorizontalPodAutoscalerSpec
            {
                ScaleTargetRef = new V2CrossVersionObjectReference { ApiVersion = "apps/v1", Kind = "Deployment", Name = "tiny-router" },
                MinReplicas = 1,
                MaxReplicas = 10,
            },
        };
        await world.Client.AutoscalingV2.CreateNamespacedHorizontalPodAutoscalerAsync(hpa, Namespace);
        await world.AutoscalersCachedAsync(1);
        await world.ReconcileAsync();
        var router = await world.Client.AppsV1.ReadNamespacedDeploymentAsync("tiny-router", Namespace);
        Assert.Equal(1, router.Spec.Replicas);
        Assert.Equal("HorizontalPodAutoscaler/keda-hpa-tiny", router.Metadata.Annotations[ReplicaOwnership.AnnotationKey]);
        Assert.Equal(ReplicaOwnership.Spec, (await world.Client.AppsV1.ReadNamespacedDeploymentAsync("tiny-shard-0", Namespace)).Metadata.Annotations[ReplicaOwnership.AnnotationKey]);

        await world.Client.AppsV1.PatchNamespacedDeploymentScaleAsync(new V1Patch("""{"spec":{"replicas":6}}""", V1Patch.PatchType.MergePatch), "tiny-router", Namespace);
        await world.ReconcileAsync();
        Assert.Equal(6, (await world.Client.AppsV1.ReadNamespacedDeploymentAsync("tiny-router", Namespace)).Spec.Replicas);

        await world.Client.AutoscalingV2.DeleteNamespacedHorizontalPodAutoscalerAsync("keda-hpa-tiny", Namespace);
        await world.AutoscalersCachedAsync(0);
        await world.ReconcileAsync();
        router = await world.Client.AppsV1.ReadNamespacedDeploymentAsync("tiny-router", Namespace);
        Assert.Equal(1, router.Spec.Replicas);
        Assert.Equal(ReplicaOwnership.Spec, router.Metadata.Annotations[ReplicaOwnership.AnnotationKey]);
    }

    private static Action<DeepSeekModel> HostPath(string path) => model => model.Spec = HostPathSpec(model.Spec, path);

    private static DeepSeekModelSpec HostPathSpec(DeepSeekModelSpec spec, string path) =>
        spec with { Model = spec.Model with { Source = new ModelSource { HostPath = new HostPathSource { Path = path } } } };

    /// <summary>An API server with the CRD and a namespace, the models' cache running, and the reconciler under test.</summary>
    private sealed class World : IAsyncDisposable
    {
        private readonly CancellationTokenSource stop = new();
        private readonly Task informerRun;

        private World(RunningApiServer api, Informer<DeepSeekModel> models)
        {
            Api = api;
            Models = models;
            Caches = new ModelCaches(
                models, Cache<V1Deployment>(api.Client), Cache<V1Service>(api.Client), Cache<V1PodDisruptionBudget>(api.Client), Cache<V1ConfigMap>(api.Client),
                Cache<V1ServiceAccount>(api.Client), Cache<V1Role>(api.Client), Cache<V1RoleBinding>(api.Client), Cache<V1NetworkPolicy>(api.Client), Cache<V1Pod>(api.Client),
                Cache<V2HorizontalPodAutoscaler>(api.Client));
            informerRun = Task.WhenAll(Caches.All.Select(cache => cache.RunAsync(stop.Token)));
            Reconciler = NewReconciler();
            Children = new ChildClient(api.Client);
        }

        public RunningApiServer Api { get; }

        public Kubernetes Client => Api.Client;

        public Informer<DeepSeekModel> Models { get; }

        public ModelCaches Caches { get; }

        public DeepSeekModelReconciler Reconciler { get; }

        public ChildClient Children { get; }

        public static async Task<World> StartAsync()
        {
            var api = await RunningApiServer.StartAsync();
            await api.Client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(CustomResourceDefinitions.DeepSeekModel());
            await api.Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = Namespace } });
            await EventuallyAsync(async () =>
            {
                try
                {
                    await api.Client.CustomObjects.ListNamespacedCustomObjectAsync(DeepSeekModel.Group, DeepSeekModel.Version, Namespace, DeepSeekModel.Plural);
                    return true;
                }
                catch (k8s.Autorest.HttpOperationException)
                {
                    return false;
                }
            });
            var models = new Informer<DeepSeekModel>(api.Client, new InformerOptions { Namespace = Namespace }, TimeProvider.System, NullLogger<Informer<DeepSeekModel>>.Instance);
            return new World(api, models);
        }

        /// <summary>Creates the tiny sample (changed by <paramref name="change"/>) and waits until the cache has it.</summary>
        public async Task<DeepSeekModel> ModelAsync(Action<DeepSeekModel>? change = null)
        {
            var sample = Samples.Read(Samples.TinyFile);
            sample.Metadata = new V1ObjectMeta { Name = Key.Name, NamespaceProperty = Namespace };
            change?.Invoke(sample);
            var created = await Client.CustomObjects.CreateNamespacedCustomObjectAsync(sample, DeepSeekModel.Group, DeepSeekModel.Version, Namespace, DeepSeekModel.Plural);
            return await CachedAsync(KubernetesJson.Deserialize<DeepSeekModel>(KubernetesJson.Serialize(created)));
        }

        /// <summary>Applies <paramref name="change"/> to the model's spec and waits until the cache has the new generation.</summary>
        public async Task<DeepSeekModel> ChangeAsync(DeepSeekModel model, Action<DeepSeekModel> change)
        {
            var current = await ReadModelAsync();
            change(current);
            var replaced = await Client.CustomObjects.ReplaceNamespacedCustomObjectAsync(current, DeepSeekModel.Group, DeepSeekModel.Version, Namespace, DeepSeekModel.Plural, Key.Name);
            var result = KubernetesJson.Deserialize<DeepSeekModel>(KubernetesJson.Serialize(replaced));
            Assert.True(result.Metadata.Generation > model.Metadata.Generation);
            return await CachedAsync(result);
        }

        public async Task<DeepSeekModel> ReadModelAsync()
        {
            var read = await Client.CustomObjects.GetNamespacedCustomObjectAsync(DeepSeekModel.Group, DeepSeekModel.Version, Namespace, DeepSeekModel.Plural, Key.Name);
            return KubernetesJson.Deserialize<DeepSeekModel>(KubernetesJson.Serialize(read));
        }

        /// <summary>Reconciles once the caches hold what the API server has, as the controller's queue would have it.</summary>
        public async Task<ReconcileResult> ReconcileAsync()
        {
            await CachesCurrentAsync();
            return await Reconciler.ReconcileAsync(Key, CancellationToken.None);
        }

        /// <summary>A reconciler as a restarted operator has it: nothing in memory.</summary>
        public DeepSeekModelReconciler NewReconciler(ModelCaches? caches = null) => new(
            caches ?? Caches, Api.Client, Samples.Settings, new EventRecorder(Api.Client, "test", TimeProvider.System, NullLogger<EventRecorder>.Instance),
            TimeProvider.System, TimeSpan.Zero, NullLogger<DeepSeekModelReconciler>.Instance);

        /// <summary>The model's config.json reader pods.</summary>
        public async Task<IList<V1Pod>> ReadersAsync() =>
            (await Client.CoreV1.ListNamespacedPodAsync(Namespace, labelSelector: ChildLabels.ComponentKey + "=" + ChildLabels.ConfigReader)).Items;

        /// <summary>Plays the kubelet: the reader's container terminated with <paramref name="message"/> and the pod in <paramref name="phase"/>.</summary>
        public async Task EndReaderAsync(V1Pod pod, string phase, string message)
        {
            var live = await Client.CoreV1.ReadNamespacedPodAsync(pod.Metadata.Name, Namespace);
            live.Status = new V1PodStatus
            {
                Phase = phase,
                ContainerStatuses =
                [
                    new V1ContainerStatus
                    {
                        Name = "dsop", Image = live.Spec.Containers[0].Image, ImageID = "", Ready = false, RestartCount = 0,
                        State = new V1ContainerState { Terminated = new V1ContainerStateTerminated { ExitCode = phase == "Succeeded" ? 0 : 1, Message = message } },
                    },
                ],
            };
            await Client.CoreV1.ReplaceNamespacedPodStatusAsync(live, pod.Metadata.Name, Namespace);
        }

        /// <summary>The resourceVersion of the model and of every child, by kind and name.</summary>
        public async Task<Dictionary<string, string>> VersionsAsync(DeepSeekModel model)
        {
            var versions = new Dictionary<string, string> { ["model"] = (await ReadModelAsync()).Metadata.ResourceVersion };
            foreach (var child in ModelChildren.Build(model, Samples.ConfigOf(model), Samples.Settings).BuiltIn)
            {
                versions[child.Kind + "/" + child.Metadata.Name] = (await Children.ReadAsync(child, CancellationToken.None))!.Metadata.ResourceVersion;
            }

            return versions;
        }

        private async Task<DeepSeekModel> CachedAsync(DeepSeekModel model)
        {
            await EventuallyAsync(() => Task.FromResult(Models.Get(Key)?.Metadata.Generation == model.Metadata.Generation));
            return Models.Get(Key)!;
        }

        private static async Task EventuallyAsync(Func<Task<bool>> condition)
        {
            var clock = Stopwatch.StartNew();
            while (!await condition())
            {
                Assert.True(clock.Elapsed < Patience, "not within " + Patience);
                await Task.Delay(20);
            }
        }

        /// <summary>Waits until the cache holds <paramref name="count"/> HorizontalPodAutoscalers.</summary>
        public Task AutoscalersCachedAsync(int count) => EventuallyAsync(() => Task.FromResult(Caches.HorizontalPodAutoscalers.List().Count == count));

        /// <summary>Waits until the cached model's status satisfies <paramref name="condition"/>.</summary>
        public Task StatusCachedAsync(Func<DeepSeekModelStatus?, bool> condition) => EventuallyAsync(() => Task.FromResult(condition(Models.Get(Key)?.Status)));

        /// <summary>Waits until every cache the reconciler reads holds what the API server has now, object by object.</summary>
        public Task CachesCurrentAsync() => EventuallyAsync(async () =>
            Same((await Client.AppsV1.ListNamespacedDeploymentAsync(Namespace)).Items, Caches.Deployments)
            && Same((await Client.CoreV1.ListNamespacedServiceAsync(Namespace)).Items, Caches.Services)
            && Same((await Client.PolicyV1.ListNamespacedPodDisruptionBudgetAsync(Namespace)).Items, Caches.DisruptionBudgets)
            && Same((await Client.CoreV1.ListNamespacedConfigMapAsync(Namespace)).Items, Caches.ConfigMaps)
            && Same((await Client.CoreV1.ListNamespacedServiceAccountAsync(Namespace)).Items, Caches.ServiceAccounts)
            && Same((await Client.RbacAuthorizationV1.ListNamespacedRoleAsync(Namespace)).Items, Caches.Roles)
            && Same((await Client.RbacAuthorizationV1.ListNamespacedRoleBindingAsync(Namespace)).Items, Caches.RoleBindings)
            && Same((await Client.NetworkingV1.ListNamespacedNetworkPolicyAsync(Namespace)).Items, Caches.NetworkPolicies)
            && Same((await Client.CoreV1.ListNamespacedPodAsync(Namespace)).Items, Caches.ConfigReaders)
            && Same([KubernetesJson.Deserialize<DeepSeekModel>(KubernetesJson.Serialize(await Client.CustomObjects.GetNamespacedCustomObjectAsync(
                DeepSeekModel.Group, DeepSeekModel.Version, Namespace, DeepSeekModel.Plural, Key.Name)))], Models));

        private static bool Same<T>(IEnumerable<T> live, Informer<T> cache)
            where T : class, IKubernetesObject<V1ObjectMeta> =>
            live.Select(Version).Order(StringComparer.Ordinal).SequenceEqual(cache.List().Select(Version).Order(StringComparer.Ordinal));

        private static string Version(IKubernetesObject<V1ObjectMeta> obj) => obj.Metadata.Name + "@" + obj.Metadata.ResourceVersion;

        private static Informer<T> Cache<T>(Kubernetes client)
            where T : class, IKubernetesObject<V1ObjectMeta> =>
            new(client, new InformerOptions { Namespace = Namespace }, TimeProvider.System, NullLogger<Informer<T>>.Instance);

        public async ValueTask DisposeAsync()
        {
            await stop.CancelAsync();
            await informerRun;
            stop.Dispose();
            await Api.DisposeAsync();
        }
    }
}
