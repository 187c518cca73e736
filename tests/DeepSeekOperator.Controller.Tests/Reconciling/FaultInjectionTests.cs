using System.Globalization;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using DeepSeekOperator.Api;
using DeepSeekOperator.Api.V1Alpha1;
using DeepSeekOperator.Controller.Children;
using DeepSeekOperator.Controller.Reconciling;
using DeepSeekOperator.Controller.Reconciling.Internal;
using DeepSeekOperator.Controller.Tests.Children;
using DeepSeekOperator.DevCluster.Tests;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Prometheus;

namespace DeepSeekOperator.Controller.Tests.Reconciling;

/// <summary>
/// The DeepSeekModel controller with a client whose chosen requests fail as a busy or contended API server fails them:
/// it retries and converges, and the failures show in its metrics.
/// </summary>
public sealed class FaultInjectionTests
{
    private const string Namespace = "models";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task ConflictsAndServerErrors_RetriedUntilConverged_AndCountedAsReconcileErrors()
    {
        var deploymentConflict = new Fault(HttpMethod.Put, "/apis/apps/v1/namespaces/models/deployments/tiny-router", HttpStatusCode.Conflict, 1);
        var statusConflict = new Fault(HttpMethod.Put, "/deepseekmodels/tiny/status", HttpStatusCode.Conflict, 1);
        var serviceError = new Fault(HttpMethod.Post, "/api/v1/namespaces/models/services", HttpStatusCode.InternalServerError, 1);
        var configMapError = new Fault(HttpMethod.Post, "/api/v1/namespaces/models/configmaps", HttpStatusCode.InternalServerError, 1);
        await using var api = await RunningApiServer.StartAsync();
        await api.Client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(CustomResourceDefinitions.DeepSeekModel());
        await api.Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = Namespace } });
        using var faulty = FaultyClient(api, deploymentConflict, statusConflict, serviceError, configMapError);
        var registry = Metrics.NewCustomRegistry();
        var managed = DeepSeekModelController.Factory(new DeepSeekModelControllerOptions { Settings = Samples.Settings, Namespace = Namespace, Workers = 2 })(
            faulty, NullLoggerFactory.Instance, registry);
        using var stop = new CancellationTokenSource();
        var running = Task.WhenAll(managed.Informers.Select(informer => informer.RunAsync(stop.Token)).Append(managed.Controller.RunAsync(stop.Token)));
        try
        {
            // Created: a ConfigMap and a Service create fail with 500, the first status write with 409.
            var model = await TinyModel.CreateAsync(api.Client, Namespace, Patience);
            await ConvergedAsync(api.Client, model);

            // Changed: the router Deployment's update conflicts once.
            var current = await TinyModel.ReadAsync(api.Client, Namespace);
            current.Spec = current.Spec with { Router = current.Spec.Router with { Replicas = 3 } };
            var replaced = await api.Client.CustomObjects.ReplaceNamespacedCustomObjectAsync(current, DeepSeekModel.Group, DeepSeekModel.Version, Namespace, DeepSeekModel.Plural, "tiny");
            model = KubernetesJson.Deserialize<DeepSeekModel>(KubernetesJson.Serialize(replaced));
            await ConvergedAsync(api.Client, model);

            Assert.Equal(3, (await api.Client.AppsV1.ReadNamespacedDeploymentAsync("tiny-router", Namespace)).Spec.Replicas);
            Assert.All(new[] { deploymentConflict, statusConflict, serviceError, configMapError }, fault => Assert.True(fault.Spent));

            // The 500s and the Deployment conflict failed a reconcile each (the status conflict was retried within one);
            // a real conflict, with the emulator's controllers writing Deployment status, may add to them.
            Assert.True(await MetricAsync(registry, """dsop_reconcile_errors_total{controller="deepseekmodel"}""") >= 3);
            Assert.Equal(
                await MetricAsync(registry, """dsop_reconcile_errors_total{controller="deepseekmodel"}"""),
                await MetricAsync(registry, """dsop_reconcile_total{controller="deepseekmodel",result="error"}"""));
        }
        finally
        {
            await stop.CancelAsync();
            await running;
        }
    }

    // A client of the API server's HTTPS port, as RunningApiServer.CreateClient makes one, with the faults in front.
    private static Kubernetes FaultyClient(RunningApiServer api, params Fault[] faults) => new(
        new KubernetesClientConfiguration
        {
            Host = api.Server.HttpsUri.ToString(),
            AccessToken = api.Server.Token,
            SslCaCerts = [X509Certificate2.CreateFromPem(api.Server.CertificateAuthorityPem)],
        },
        new FaultHandler(faults));

    // The status reports the model's generation and every child exists.
    private static Task ConvergedAsync(Kubernetes client, DeepSeekModel model)
    {
        var children = new ChildClient(client);
        return EventuallyAsync(
            async () =>
            {
                if ((await TinyModel.ReadAsync(client, Namespace)).Status?.ObservedGeneration != model.Metadata.Generation)
                {
                    return false;
                }

                foreach (var child in ModelChildren.Build(model, Samples.ConfigOf(model), Samples.Settings).BuiltIn)
                {
                    if (await children.ReadAsync(child, CancellationToken.None) is null)
                    {
                        return false;
                    }
                }

                return true;
            },
            $"generation {model.Metadata.Generation} converged");
    }

    private static async Task<double?> MetricAsync(CollectorRegistry registry, string series)
    {
        using var text = new MemoryStream();
        await registry.CollectAndExportAsTextAsync(text);
        var line = System.Text.Encoding.UTF8.GetString(text.ToArray()).Split('\n').SingleOrDefault(l => l.StartsWith(series + " ", StringComparison.Ordinal));
        return line is null ? null : double.Parse(line[(series.Length + 1)..], CultureInfo.InvariantCulture);
    }

    private static Task EventuallyAsync(Func<Task<bool>> condition, string what) => TinyModel.EventuallyAsync(condition, what, Patience);

    /// <summary>Fails the next <paramref name="times"/> requests with <paramref name="method"/> whose path ends with <paramref name="pathSuffix"/>.</summary>
    private sealed class Fault(HttpMethod method, string pathSuffix, HttpStatusCode status, int times)
    {
        private int matched;

        /// <summary>Whether every one of the failures was injected.</summary>
        public bool Spent => Volatile.Read(ref matched) >= times;

        /// <summary>The status to answer <paramref name="request"/> with, or null to let it through.</summary>
        public HttpStatusCode? Answer(HttpRequestMessage request) =>
            request.Method == method
            && request.RequestUri!.AbsolutePath.EndsWith(pathSuffix, StringComparison.Ordinal)
            && Interlocked.Increment(ref matched) <= times
                ? status
                : null;
    }

    /// <summary>Answers a request a <see cref="Fault"/> matches with its status and a Kubernetes Status body, without sending it.</summary>
    private sealed class FaultHandler(IReadOnlyList<Fault> faults) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            foreach (var fault in faults)
            {
                if (fault.Answer(request) is { } status)
                {
                    var body = KubernetesJson.Serialize(new V1Status { Kind = "Status", ApiVersion = "v1", Status = "Failure", Code = (int)status, Message = "injected " + status });
                    return Task.FromResult(new HttpResponseMessage(status) { RequestMessage = request, Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json") });
                }
            }

            return base.SendAsync(request, cancellationToken);
        }
    }
}
