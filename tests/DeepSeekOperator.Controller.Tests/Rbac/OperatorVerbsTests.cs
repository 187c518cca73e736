using DeepSeekOperator.Api;
using DeepSeekOperator.Api.V1Alpha1;
using DeepSeekOperator.Controller.Autoscaling;
using DeepSeekOperator.Controller.Children;
using DeepSeekOperator.Controller.Hosting;
using DeepSeekOperator.Controller.Placement;
using DeepSeekOperator.Controller.Rbac;
using DeepSeekOperator.Controller.Reconciling;
using DeepSeekOperator.Controller.Reconciling.Internal;
using DeepSeekOperator.Controller.Tests.Children;
using DeepSeekOperator.Controller.Tests.Hosting;
using DeepSeekOperator.Controller.Tests.Prometheus;
using DeepSeekOperator.Controller.Tests.Reconciling;
using DeepSeekOperator.DevCluster;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace DeepSeekOperator.Controller.Tests.Rbac;

/// <summary>
/// The real operator (host, leader election, informers, reconciler) against the emulator, every request it makes
/// recorded: the generated RBAC grants each of them, and every verb it grants is used.
/// </summary>
public sealed class OperatorVerbsTests
{
    private const string Models = "models";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    // Granted and never called: RBAC lets the operator create the serving pods' Role and bind it only while it holds
    // what that Role grants (escalation prevention), so these are checked against the Role in the next test instead.
    private static readonly HashSet<(string ApiGroup, string Resource, string Verb)> GrantedForEscalationOnly =
    [
        ("discovery.k8s.io", "endpointslices", "get"),
        ("discovery.k8s.io", "endpointslices", "list"),
        ("discovery.k8s.io", "endpointslices", "watch"),
    ];

    [Fact]
    public async Task OperatorScenario_EveryRequestGranted_AndEveryGrantedVerbUsed()
    {
        var recorder = new RequestRecorder();
        using var loggers = LoggerFactory.Create(logging => logging.AddProvider(recorder));
        await using var server = await ApiServer.StartAsync(new ApiServerOptions(), loggers);
        using var setup = new Kubernetes(new KubernetesClientConfiguration { Host = server.HttpUri!.ToString() });
        var children = new ChildClient(setup);
        await using var prometheus = await PrometheusStub.StartAsync();
        prometheus.AnswerData("""{"resultType":"vector","result":[{"metric":{},"value":[1735689600,"96"]}]}""");
        var directory = Directory.CreateTempSubdirectory("dsop-rbac-").FullName;
        try
        {
            var kubeconfig = Path.Combine(directory, "kubeconfig");
            server.WriteKubeconfig(kubeconfig);
            await ArrangeAsync(setup);

            var host = await OperatorHost.StartAsync(
                new OperatorHostOptions
                {
                    BindAddress = "127.0.0.1",
                    Port = 0,
                    Kubeconfig = kubeconfig,
                    LeaseNamespace = OperatorRbac.Namespace,
                    LeaseDuration = TimeSpan.FromSeconds(4),
                    RenewDeadline = TimeSpan.FromSeconds(3),
                    RetryPeriod = TimeSpan.FromMilliseconds(500),
                },
                // A short resync: the ServiceMonitor is not watched, an edit of it is put back by the next resync.
                [
                    DeepSeekModelController.Factory(new DeepSeekModelControllerOptions { Settings = Samples.Settings, ResyncPeriod = TimeSpan.FromSeconds(1) }),
                    ModelAutoscaler.Factory(new ModelAutoscalerOptions()),
                    RebalancerController.Factory(new RebalancerOptions { Settings = Samples.Settings }),
                ],
                logging => logging.ClearProviders());
            await using (host)
            {
                // Created: every child and a status.
                var model = await CreateModelAsync(setup, "tiny", _ => { });
                var desired = ModelChildren.Build(model, Samples.ConfigOf(model), Samples.Settings);
                await Operators.EventuallyAsync(async () => (await ReadModelAsync(setup, "tiny")).Status?.ObservedGeneration == model.Metadata.Generation, Patience, "tiny's status written");

                // Every kind of child edited is put back (update), a deleted one recreated.
                foreach (var child in Owned(desired))
                {
                    var live = (await children.ReadAsync(child, CancellationToken.None))!;
                    live.Metadata.Labels[ChildLabels.NameKey] = "edited";
                    await children.ReplaceAsync(child, KubernetesJson.Serialize(live), CancellationToken.None);
                }

                await Operators.EventuallyAsync(async () => await AllRestoredAsync(children, desired), Patience, "every edited child put back");
                await setup.CoreV1.DeleteNamespacedServiceAsync("tiny-shard-2", Models);
                await Operators.EventuallyAsync(async () => await ExistsAsync(setup, "tiny-shard-2"), Patience, "the deleted Service recreated");

                // A spec change rolls out.
                await ChangeModelAsync(setup, "tiny", m => m.Spec = m.Spec with { Router = m.Spec.Router with { Replicas = 3 } });
                await Operators.EventuallyAsync(async () => (await setup.AppsV1.ReadNamespacedDeploymentAsync("tiny-router", Models)).Spec.Replicas == 3, Patience, "the router scaled");

                // Fewer shards: the Deployments, Services and PodDisruptionBudgets of the others deleted.
                await ChangeModelAsync(setup, "tiny", m => m.Spec = m.Spec with { Experts = m.Spec.Experts with { Shards = 2 } });
                await Operators.EventuallyAsync(
                    async () => (await setup.PolicyV1.ListNamespacedPodDisruptionBudgetAsync(Models)).Items.All(b => b.Metadata.Name != "tiny-shard-3")
                        && !await ExistsAsync(setup, "tiny-shard-3")
                        && (await setup.AppsV1.ListNamespacedDeploymentAsync(Models)).Items.All(d => d.Metadata.Name != "tiny-shard-3" || d.Metadata.DeletionTimestamp is not null),
                    Patience,
                    "shard 3's children deleted");

                // A checkpoint: a pod reads its config.json; a new source gets a new reader and the old one is deleted.
                static Action<DeepSeekModel> HostPath(string path) => m => m.Spec = m.Spec with { Model = m.Spec.Model with { Source = new ModelSource { HostPath = new HostPathSource { Path = path } } } };
                var checkpoint = await CreateModelAsync(setup, "ckpt", HostPath("/models/a"));
                var first = ModelConfigReader.PodName(checkpoint, Samples.Settings);
                await Operators.EventuallyAsync(async () => await ReaderExistsAsync(setup, first), Patience, "the config.json reader created");
                await ChangeModelAsync(setup, "ckpt", HostPath("/models/b"));
                await Operators.EventuallyAsync(async () => !await ReaderExistsAsync(setup, first), Patience, "the earlier reader deleted");

                // Autoscaled: the autoscaler writes the router's scale.
                await CreateModelAsync(setup, "scaled", m => m.Spec = m.Spec with
                {
                    Autoscaling = m.Spec.Autoscaling with { Enabled = true, PrometheusUrl = prometheus.BaseAddress.ToString(), Interval = "1s" },
                });
                await Operators.EventuallyAsync(
                    async () => (await setup.AppsV1.ListNamespacedDeploymentAsync(Models)).Items.Any(d => d.Metadata.Name == "scaled-router" && d.Spec.Replicas > 1),
                    Patience,
                    "the autoscaled router scaled up");

                // An invalid spec: a Warning Event.
                await CreateModelAsync(setup, "broken", m => m.Spec = m.Spec with { Experts = m.Spec.Experts with { Shards = 17 } });
                await Operators.EventuallyAsync(
                    async () => (await setup.CoreV1.ListNamespacedEventAsync(Models)).Items.Any(e => e.Reason == DeepSeekModelReconciler.InvalidSpec),
                    Patience,
                    "the InvalidSpec event");
            }

            // Disposing the host gave its lease up: a lease update.
            var seen = recorder.Requests
                .Select(request => ApiRequest.Parse(request.Method, request.Path, request.Query) ?? throw new Xunit.Sdk.XunitException($"{request.Method} {request.Path} names no resource"))
                .ToList();

            var denied = seen.Where(request => !Granted(request)).Select(request => $"{request.Verb} {request.ApiGroup}/{request.Resource} ({request.Method} {request.Path})").Distinct().ToList();
            Assert.True(denied.Count == 0, "Not granted by OperatorPermissions:\n" + string.Join("\n", denied));

            var used = seen.Select(request => (request.ApiGroup, request.Resource, request.Verb)).ToHashSet();
            var unused = OperatorPermissions.ClusterWide.Concat(OperatorPermissions.LeaderElection)
                .SelectMany(rule => rule.Verbs.Select(verb => (rule.ApiGroup, rule.Resource, Verb: verb)))
                .Where(grant => !used.Contains(grant) && !GrantedForEscalationOnly.Contains(grant))
                .Select(grant => $"{grant.Verb} {grant.ApiGroup}/{grant.Resource}")
                .ToList();
            Assert.True(unused.Count == 0, "Granted but never used:\n" + string.Join("\n", unused));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void ServingRole_EveryRuleAlsoGrantedToTheOperator_SoItMayCreateAndBindIt()
    {
        var role = Samples.Build(Samples.TinyFile).BuiltIn.OfType<V1Role>().Single();

        var missing = role.Rules
            .SelectMany(rule => rule.ApiGroups.SelectMany(group => rule.Resources.SelectMany(resource => rule.Verbs.Select(verb => (group, resource, verb)))))
            .Where(grant => !OperatorPermissions.ClusterWide.Any(rule => rule.Grants(grant.group, grant.resource, grant.verb)))
            .ToList();

        Assert.Empty(missing);
        Assert.All(GrantedForEscalationOnly, grant => Assert.Contains(role.Rules, rule =>
            rule.ApiGroups.Contains(grant.ApiGroup) && rule.Resources.Contains(grant.Resource) && rule.Verbs.Contains(grant.Verb)));
    }

    private static async Task<bool> ReaderExistsAsync(Kubernetes client, string name) =>
        (await client.CoreV1.ListNamespacedPodAsync(Models)).Items.Any(pod => pod.Metadata.Name == name);

    // Leases only in the operator's namespace, through the leader election Role; the rest anywhere.
    private static bool Granted(ApiRequest request) =>
        OperatorPermissions.ClusterWide.Any(rule => rule.Grants(request.ApiGroup, request.Resource, request.Verb))
        || (request.Namespace == OperatorRbac.Namespace && OperatorPermissions.LeaderElection.Any(rule => rule.Grants(request.ApiGroup, request.Resource, request.Verb)));

    private static async Task ArrangeAsync(Kubernetes setup)
    {
        await setup.ApiextensionsV1.CreateCustomResourceDefinitionAsync(CustomResourceDefinitions.DeepSeekModel());
        foreach (var ns in new[] { Models, OperatorRbac.Namespace })
        {
            await setup.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = ns } });
        }

        await PrometheusOperatorCrd.InstallAsync(setup, Models);

        await Operators.EventuallyAsync(async () =>
        {
            try
            {
                await setup.CustomObjects.ListNamespacedCustomObjectAsync(DeepSeekModel.Group, DeepSeekModel.Version, Models, DeepSeekModel.Plural);
                return true;
            }
            catch (HttpOperationException)
            {
                return false;
            }
        }, Patience, "the CRD served");
    }

    private static async Task<DeepSeekModel> CreateModelAsync(Kubernetes setup, string name, Action<DeepSeekModel> change)
    {
        var sample = Samples.Read(Samples.TinyFile);
        sample.Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = Models };
        change(sample);
        var created = await setup.CustomObjects.CreateNamespacedCustomObjectAsync(sample, DeepSeekModel.Group, DeepSeekModel.Version, Models, DeepSeekModel.Plural);
        return KubernetesJson.Deserialize<DeepSeekModel>(KubernetesJson.Serialize(created));
    }

    // Read, change, replace; again on a conflict (the operator writes the status meanwhile), as client-go's RetryOnConflict.
    private static async Task ChangeModelAsync(Kubernetes setup, string name, Action<DeepSeekModel> change)
    {
        for (var attempt = 1; ; attempt++)
        {
            var model = await ReadModelAsync(setup, name);
            change(model);
            try
            {
                await setup.CustomObjects.ReplaceNamespacedCustomObjectAsync(model, DeepSeekModel.Group, DeepSeekModel.Version, Models, DeepSeekModel.Plural, name);
                return;
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.Conflict && attempt < 5)
            {
            }
        }
    }

    private static async Task<DeepSeekModel> ReadModelAsync(Kubernetes setup, string name)
    {
        var read = await setup.CustomObjects.GetNamespacedCustomObjectAsync(DeepSeekModel.Group, DeepSeekModel.Version, Models, DeepSeekModel.Plural, name);
        return KubernetesJson.Deserialize<DeepSeekModel>(KubernetesJson.Serialize(read));
    }

    // The ServiceMonitor too: the scenario installs its CRD.
    private static IEnumerable<IKubernetesObject<V1ObjectMeta>> Owned(ModelChildren desired) => desired.BuiltIn.Append(desired.ServiceMonitor);

    private static async Task<bool> AllRestoredAsync(ChildClient children, ModelChildren desired)
    {
        foreach (var child in Owned(desired))
        {
            if ((await children.ReadAsync(child, CancellationToken.None))?.Metadata.Labels[ChildLabels.NameKey] != child.Metadata.Labels[ChildLabels.NameKey])
            {
                return false;
            }
        }

        return true;
    }

    private static async Task<bool> ExistsAsync(Kubernetes setup, string service)
    {
        try
        {
            await setup.CoreV1.ReadNamespacedServiceAsync(service, Models);
            return true;
        }
        catch (HttpOperationException)
        {
            return false;
        }
    }
}
