using k8s;
using k8s.Models;

namespace DeepSeekOperator.DevCluster.Tests.Kubectl;

/// <summary>Manifests and API calls the kubectl tests share.</summary>
internal static class Manifests
{
    /// <summary>A Deployment <c>web</c> with two containers, <c>app</c> (nginx:1.25) and <c>sidecar</c> (busybox:1.36).</summary>
    public const string TwoContainerDeployment = """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
          labels: {app: web}
        spec:
          replicas: 1
          selector:
            matchLabels: {app: web}
          template:
            metadata:
              labels: {app: web}
            spec:
              containers:
              - name: app
                image: nginx:1.25
              - name: sidecar
                image: busybox:1.36
        """;

    /// <summary>Sets the status of the DeepSeekModel as the operator would: Ready, one router, four shards, 64 experts.</summary>
    public static Task SetReadyStatusAsync(Kubernetes client, string ns, string name) =>
        client.CustomObjects.PatchNamespacedCustomObjectStatusAsync(
            new V1Patch(
                """
                {"status": {
                  "phase": "Ready",
                  "endpoint": "http://tiny.default.svc:8000/v1",
                  "experts": 64,
                  "readyShards": 4,
                  "routers": {"replicas": 1, "readyReplicas": 1},
                  "conditions": [{"type": "Ready", "status": "True", "reason": "AllShardsReady", "message": "serving", "lastTransitionTime": "2026-01-01T00:00:00Z"}]
                }}
                """,
                V1Patch.PatchType.MergePatch),
            "moe.deepseek-operator.io",
            "v1alpha1",
            ns,
            "deepseekmodels",
            name);
}
