using System.Net;
using System.Text.Json.Nodes;
using DeepSeekOperator.Api;
using DeepSeekOperator.Api.V1Alpha1;
using DeepSeekOperator.Controller.Children;
using DeepSeekOperator.Controller.Placement;
using DeepSeekOperator.DevCluster.Tests;
using DeepSeekOperator.Serving.Placement;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace DeepSeekOperator.Controller.Tests.Children;

/// <summary>The children of the samples and of every model source are accepted by the dev cluster's API server, which validates built-in kinds as kube-apiserver does.</summary>
public sealed class ChildrenAdmissionTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task ChildrenOfEverySource_CreatedInTheDevCluster_AcceptedAndReadBackUnchanged()
    {
        await using var api = await RunningApiServer.StartAsync();
        await api.Client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(CustomResourceDefinitions.DeepSeekModel());
        var hostPath = Samples.Read(Samples.DeepSeekV3File);
        hostPath.Spec = hostPath.Spec with { Model = hostPath.Spec.Model with { Source = new ModelSource { HostPath = new HostPathSource { Path = "/models/v3" } } } };
        var image = Samples.Read(Samples.DeepSeekV3File);
        image.Spec = image.Spec with { Model = image.Spec.Model with { Source = new ModelSource { Image = new ImageSource { Reference = "registry.local/models/dsv3:1" } } } };
        var cases = new (string Namespace, DeepSeekModel Model)[]
        {
            ("synthetic", Samples.Read(Samples.TinyFile)),
            ("pvc", Samples.Read(Samples.DeepSeekV3File)),
            ("host-path", hostPath),
            ("image", image),
        };

        foreach (var (ns, sample) in cases)
        {
            await api.Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = ns } });
            var model = await CreateModelAsync(api.Client, sample, ns);
            var children = ModelChildren.Build(model, Samples.ConfigOf(model), Samples.Settings);

            foreach (var child in children.BuiltIn)
            {
                var created = await CreateAsync(api.Client, child, ns);
                Assert.Equal(child.Metadata.Labels, created.Metadata.Labels);
                Assert.Equal(model.Metadata.Uid, Assert.Single(created.Metadata.OwnerReferences).Uid);
            }

            var deployment = await api.Client.AppsV1.ReadNamespacedDeploymentAsync(children.RouterDeployment.Metadata.Name, ns);
            Assert.Equal(children.RouterDeployment.Spec.Template.Spec.Containers[0].Args, deployment.Spec.Template.Spec.Containers[0].Args);
            Assert.Equal(
                KubernetesJson.Serialize(children.RouterDeployment.Spec.Template.Spec.Volumes),
                KubernetesJson.Serialize(deployment.Spec.Template.Spec.Volumes));
        }
    }

    [Fact]
    public async Task DeepSeekV3PlannedPlacement_EveryPlacementConfigMapAccepted_AllInOneRefusedAsTooLong()
    {
        await using var api = await RunningApiServer.StartAsync();
        await api.Client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(CustomResourceDefinitions.DeepSeekModel());
        var model = await CreateModelAsync(api.Client, Samples.Read(Samples.DeepSeekV3File), "default");
        var config = Samples.ConfigOf(model);
        var children = ModelChildren.Build(model, config, Samples.Settings);
        var random = new Random(8);
        var load = new ExpertLoad(config.MoeLayers.Select(layer => new LayerLoad(layer, [.. Enumerable.Range(0, config.NRoutedExperts).Select(_ => Math.Round(1e6 * random.NextDouble() * random.NextDouble()))])));
        var planned = PlacementPlanner.Plan(config, load, model.Metadata.Name, 2, children.Placement.Shards, children.Placement.SlotsPerShard);
        Assert.Equal((32, 9), (planned.Shards, planned.SlotsPerShard));

        foreach (var configMap in children.ShardPlacementConfigMaps.Append(children.PlacementConfigMap))
        {
            configMap.Data = PublishedPlacement.Data(planned);
            var created = await api.Client.CoreV1.CreateNamespacedConfigMapAsync(configMap, "default");
            Assert.Equal(planned.Serialize(), ExpertPlacement.Parse(created.Data["placement.json"]).Serialize());
        }

        var allInOne = new V1ConfigMap
        {
            Metadata = new V1ObjectMeta { Name = "all-in-one" },
            Data = Enumerable.Range(0, 33).ToDictionary(k => $"shard-{k}.json", _ => PublishedPlacement.Json(planned)),
        };
        var refused = await Assert.ThrowsAsync<HttpOperationException>(() => api.Client.CoreV1.CreateNamespacedConfigMapAsync(allInOne, "default"));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.Response.StatusCode);
        Assert.Equal("ConfigMap \"all-in-one\" is invalid: []: Too long: must have at most 1048576 bytes", (string?)JsonNode.Parse(refused.Response.Content)!["message"]);
    }

    private static async Task<IKubernetesObject<V1ObjectMeta>> CreateAsync(Kubernetes client, IKubernetesObject<V1ObjectMeta> child, string ns) => child switch
    {
        V1ServiceAccount o => await client.CoreV1.CreateNamespacedServiceAccountAsync(o, ns),
        V1Role o => await client.RbacAuthorizationV1.CreateNamespacedRoleAsync(o, ns),
        V1RoleBinding o => await client.RbacAuthorizationV1.CreateNamespacedRoleBindingAsync(o, ns),
        V1ConfigMap o => await client.CoreV1.CreateNamespacedConfigMapAsync(o, ns),
        V1Deployment o => await client.AppsV1.CreateNamespacedDeploymentAsync(o, ns),
        V1Service o => await client.CoreV1.CreateNamespacedServiceAsync(o, ns),
        V1PodDisruptionBudget o => await client.PolicyV1.CreateNamespacedPodDisruptionBudgetAsync(o, ns),
        V1NetworkPolicy o => await client.NetworkingV1.CreateNamespacedNetworkPolicyAsync(o, ns),
        _ => throw new ArgumentOutOfRangeException(nameof(child), child.Kind, "not a kind the children include"),
    };

    // The sample in the namespace; retried briefly while the new CRD becomes served. The server assigns the uid.
    private static async Task<DeepSeekModel> CreateModelAsync(Kubernetes client, DeepSeekModel sample, string ns)
    {
        sample.Metadata = new V1ObjectMeta { Name = sample.Metadata.Name, NamespaceProperty = ns };
        using var deadline = new CancellationTokenSource(Patience);
        while (true)
        {
            try
            {
                var created = await client.CustomObjects.CreateNamespacedCustomObjectAsync(
                    sample, DeepSeekModel.Group, DeepSeekModel.Version, ns, DeepSeekModel.Plural, cancellationToken: deadline.Token);
                return KubernetesJson.Deserialize<DeepSeekModel>(KubernetesJson.Serialize(created));
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(20), deadline.Token);
            }
        }
    }
}
