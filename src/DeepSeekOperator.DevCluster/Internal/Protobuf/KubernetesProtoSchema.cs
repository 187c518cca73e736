using System.Collections.Frozen;

namespace DeepSeekOperator.DevCluster.Internal.Protobuf;

/// <summary>
/// The protobuf messages the dev cluster reads, with the field numbers of Kubernetes 1.32's <c>generated.proto</c> files
/// (<c>k8s.io/api/{core,apps,rbac,policy}/v1</c> and <c>k8s.io/apimachinery</c>): the objects that <c>kubectl create</c>'s
/// generators and <c>kubectl run</c> send. <c>Keep</c> marks a field whose zero value stays in the JSON: a Go pointer, or a
/// JSON tag without <c>omitempty</c>.
/// </summary>
internal static class KubernetesProtoSchema
{
    private const bool Keep = true;

    private static readonly FrozenDictionary<(string ApiVersion, string Kind), string> TopLevel =
        new Dictionary<(string, string), string>
        {
            [("v1", "Namespace")] = "v1.Namespace",
            [("v1", "ConfigMap")] = "v1.ConfigMap",
            [("v1", "Secret")] = "v1.Secret",
            [("v1", "ServiceAccount")] = "v1.ServiceAccount",
            [("v1", "Service")] = "v1.Service",
            [("v1", "Pod")] = "v1.Pod",
            [("apps/v1", "Deployment")] = "v1.Deployment",
            [("rbac.authorization.k8s.io/v1", "Role")] = "v1.Role",
            [("rbac.authorization.k8s.io/v1", "ClusterRole")] = "v1.ClusterRole",
            [("rbac.authorization.k8s.io/v1", "RoleBinding")] = "v1.RoleBinding",
            [("rbac.authorization.k8s.io/v1", "ClusterRoleBinding")] = "v1.ClusterRoleBinding",
            [("policy/v1", "PodDisruptionBudget")] = "v1.PodDisruptionBudget",
        }.ToFrozenDictionary();

    private static readonly FrozenDictionary<string, ProtoMessage> Messages = Build(
        // k8s.io/apimachinery/pkg/apis/meta/v1
        Message("v1.ObjectMeta",
            Str(1, "name"), Str(2, "generateName"), Str(3, "namespace"), Str(4, "selfLink"), Str(5, "uid"),
            Str(6, "resourceVersion"), I64(7, "generation"), Time(8, "creationTimestamp"), Time(9, "deletionTimestamp"),
            I64(10, "deletionGracePeriodSeconds", Keep), StrMap(11, "labels"), StrMap(12, "annotations"),
            Msgs(13, "ownerReferences", "v1.OwnerReference"), Strs(14, "finalizers"),
            Msgs(17, "managedFields", "v1.ManagedFieldsEntry")),
        Message("v1.OwnerReference",
            Str(5, "apiVersion", Keep), Str(1, "kind", Keep), Str(3, "name", Keep), Str(4, "uid", Keep),
            Bool(6, "controller", Keep), Bool(7, "blockOwnerDeletion", Keep)),
        Message("v1.ManagedFieldsEntry",
            Str(1, "manager"), Str(2, "operation"), Str(3, "apiVersion"), Time(4, "time"), Str(6, "fieldsType"),
            new ProtoField(7, "fieldsV1", ProtoKind.RawJson), Str(8, "subresource")),
        Message("v1.LabelSelector",
            StrMap(1, "matchLabels"), Msgs(2, "matchExpressions", "v1.LabelSelectorRequirement")),
        Message("v1.LabelSelectorRequirement",
            Str(1, "key", Keep), Str(2, "operator", Keep), Strs(3, "values")),

        // k8s.io/api/core/v1
        Message("v1.Namespace",
            Msg(1, "metadata", "v1.ObjectMeta"), Msg(2, "spec", "v1.NamespaceSpec"), Msg(3, "status", "v1.NamespaceStatus")),
        Message("v1.NamespaceSpec", Strs(1, "finalizers")),
        Message("v1.NamespaceStatus", Str(1, "phase"), Msgs(2, "conditions", "v1.NamespaceCondition")),
        Message("v1.NamespaceCondition",
            Str(1, "type", Keep), Str(2, "status", Keep), Time(4, "lastTransitionTime"), Str(5, "reason"), Str(6, "message")),
        Message("v1.ConfigMap",
            Msg(1, "metadata", "v1.ObjectMeta"), Bool(4, "immutable", Keep), StrMap(2, "data"),
            new ProtoField(3, "binaryData", ProtoKind.BytesMap)),
        Message("v1.Secret",
            Msg(1, "metadata", "v1.ObjectMeta"), Bool(5, "immutable", Keep), new ProtoField(2, "data", ProtoKind.BytesMap),
            StrMap(4, "stringData"), Str(3, "type")),
        Message("v1.ServiceAccount",
            Msg(1, "metadata", "v1.ObjectMeta"), Msgs(2, "secrets", "v1.ObjectReference"),
            Msgs(3, "imagePullSecrets", "v1.LocalObjectReference"), Bool(4, "automountServiceAccountToken", Keep)),
        Message("v1.ObjectReference",
            Str(1, "kind"), Str(2, "namespace"), Str(3, "name"), Str(4, "uid"), Str(5, "apiVersion"), Str(6, "resourceVersion"),
            Str(7, "fieldPath")),
        Message("v1.LocalObjectReference", Str(1, "name")),
        Message("v1.Service",
            Msg(1, "metadata", "v1.ObjectMeta"), Msg(2, "spec", "v1.ServiceSpec"), Msg(3, "status", "v1.ServiceStatus")),
        Message("v1.ServiceSpec",
            Msgs(1, "ports", "v1.ServicePort"), StrMap(2, "selector"), Str(3, "clusterIP"), Strs(18, "clusterIPs"), Str(4, "type"),
            Strs(5, "externalIPs"), Str(7, "sessionAffinity"), Str(8, "loadBalancerIP"), Strs(9, "loadBalancerSourceRanges"),
            Str(10, "externalName"), Str(11, "externalTrafficPolicy"), I32(12, "healthCheckNodePort"),
            Bool(13, "publishNotReadyAddresses"), Msg(14, "sessionAffinityConfig", "v1.SessionAffinityConfig"),
            Strs(19, "ipFamilies"), Str(17, "ipFamilyPolicy", Keep), Bool(20, "allocateLoadBalancerNodePorts", Keep),
            Str(21, "loadBalancerClass", Keep), Str(22, "internalTrafficPolicy", Keep), Str(23, "trafficDistribution", Keep)),
        Message("v1.SessionAffinityConfig", Msg(1, "clientIP", "v1.ClientIPConfig")),
        Message("v1.ClientIPConfig", I32(1, "timeoutSeconds", Keep)),
        Message("v1.ServicePort",
            Str(1, "name"), Str(2, "protocol"), Str(6, "appProtocol", Keep), I32(3, "port", Keep), IntOrString(4, "targetPort"),
            I32(5, "nodePort")),
        Message("v1.ServiceStatus", Msg(1, "loadBalancer", "v1.LoadBalancerStatus")),
        Message("v1.LoadBalancerStatus"),
        Message("v1.Pod",
            Msg(1, "metadata", "v1.ObjectMeta"), Msg(2, "spec", "v1.PodSpec"), Msg(3, "status", "v1.PodStatus")),
        Message("v1.PodTemplateSpec", Msg(1, "metadata", "v1.ObjectMeta"), Msg(2, "spec", "v1.PodSpec")),
        Message("v1.PodSpec",
            Msgs(20, "initContainers", "v1.Container"), Msgs(2, "containers", "v1.Container"), Str(3, "restartPolicy"),
            I64(4, "terminationGracePeriodSeconds", Keep), I64(5, "activeDeadlineSeconds", Keep), Str(6, "dnsPolicy"),
            StrMap(7, "nodeSelector"), Str(8, "serviceAccountName"), Str(9, "serviceAccount"),
            Bool(21, "automountServiceAccountToken", Keep), Str(10, "nodeName"), Bool(11, "hostNetwork"), Bool(12, "hostPID"),
            Bool(13, "hostIPC"), Bool(27, "shareProcessNamespace", Keep), Msgs(15, "imagePullSecrets", "v1.LocalObjectReference"),
            Str(16, "hostname"), Str(17, "subdomain"), Str(19, "schedulerName"), Msgs(22, "tolerations", "v1.Toleration"),
            Str(24, "priorityClassName"), I32(25, "priority", Keep), Msgs(28, "readinessGates", "v1.PodReadinessGate"),
            Str(29, "runtimeClassName", Keep), Bool(30, "enableServiceLinks", Keep), Str(31, "preemptionPolicy", Keep),
            QuantityMap(32, "overhead"), Bool(35, "setHostnameAsFQDN", Keep), Msg(36, "os", "v1.PodOS"),
            Bool(37, "hostUsers", Keep), Msgs(38, "schedulingGates", "v1.PodSchedulingGate"),
            Msg(40, "resources", "v1.ResourceRequirements")),
        Message("v1.Toleration",
            Str(1, "key"), Str(2, "operator"), Str(3, "value"), Str(4, "effect"), I64(5, "tolerationSeconds", Keep)),
        Message("v1.PodReadinessGate", Str(1, "conditionType", Keep)),
        Message("v1.PodOS", Str(1, "name", Keep)),
        Message("v1.PodSchedulingGate", Str(1, "name", Keep)),
        Message("v1.PodStatus",
            Str(1, "phase"), Str(3, "message"), Str(4, "reason"), Str(5, "hostIP"), Str(6, "podIP"), Time(7, "startTime"),
            Str(9, "qosClass"), Str(11, "nominatedNodeName"), Str(14, "resize")),
        Message("v1.Container",
            Str(1, "name", Keep), Str(2, "image"), Strs(3, "command"), Strs(4, "args"), Str(5, "workingDir"),
            Msgs(6, "ports", "v1.ContainerPort"), Msgs(19, "envFrom", "v1.EnvFromSource"), Msgs(7, "env", "v1.EnvVar"),
            Msg(8, "resources", "v1.ResourceRequirements"), Msgs(23, "resizePolicy", "v1.ContainerResizePolicy"),
            Str(24, "restartPolicy", Keep), Str(13, "terminationMessagePath"), Str(20, "terminationMessagePolicy"),
            Str(14, "imagePullPolicy"), Bool(16, "stdin"), Bool(17, "stdinOnce"), Bool(18, "tty")),
        Message("v1.ContainerPort",
            Str(1, "name"), I32(2, "hostPort"), I32(3, "containerPort", Keep), Str(4, "protocol"), Str(5, "hostIP")),
        Message("v1.ContainerResizePolicy", Str(1, "resourceName", Keep), Str(2, "restartPolicy", Keep)),
        Message("v1.EnvVar", Str(1, "name", Keep), Str(2, "value"), Msg(3, "valueFrom", "v1.EnvVarSource")),
        Message("v1.EnvVarSource",
            Msg(1, "fieldRef", "v1.ObjectFieldSelector"), Msg(2, "resourceFieldRef", "v1.ResourceFieldSelector"),
            Msg(3, "configMapKeyRef", "v1.ConfigMapKeySelector"), Msg(4, "secretKeyRef", "v1.SecretKeySelector")),
        Message("v1.ObjectFieldSelector", Str(1, "apiVersion"), Str(2, "fieldPath", Keep)),
        Message("v1.ResourceFieldSelector",
            Str(1, "containerName"), Str(2, "resource", Keep), new ProtoField(3, "divisor", ProtoKind.Quantity)),
        Message("v1.ConfigMapKeySelector",
            Inline(1, "localObjectReference", "v1.LocalObjectReference"), Str(2, "key", Keep), Bool(3, "optional", Keep)),
        Message("v1.SecretKeySelector",
            Inline(1, "localObjectReference", "v1.LocalObjectReference"), Str(2, "key", Keep), Bool(3, "optional", Keep)),
        Message("v1.EnvFromSource",
            Str(1, "prefix"), Msg(2, "configMapRef", "v1.ConfigMapEnvSource"), Msg(3, "secretRef", "v1.SecretEnvSource")),
        Message("v1.ConfigMapEnvSource",
            Inline(1, "localObjectReference", "v1.LocalObjectReference"), Bool(2, "optional", Keep)),
        Message("v1.SecretEnvSource",
            Inline(1, "localObjectReference", "v1.LocalObjectReference"), Bool(2, "optional", Keep)),
        Message("v1.ResourceRequirements",
            QuantityMap(1, "limits"), QuantityMap(2, "requests"), Msgs(3, "claims", "v1.ResourceClaim")),
        Message("v1.ResourceClaim", Str(1, "name", Keep), Str(2, "request")),

        // k8s.io/api/apps/v1
        Message("v1.Deployment",
            Msg(1, "metadata", "v1.ObjectMeta"), Msg(2, "spec", "v1.DeploymentSpec"), Msg(3, "status", "v1.DeploymentStatus")),
        Message("v1.DeploymentSpec",
            I32(1, "replicas", Keep), Msg(2, "selector", "v1.LabelSelector"), Msg(3, "template", "v1.PodTemplateSpec"),
            Msg(4, "strategy", "v1.DeploymentStrategy"), I32(5, "minReadySeconds"), I32(6, "revisionHistoryLimit", Keep),
            Bool(7, "paused"), I32(9, "progressDeadlineSeconds", Keep)),
        Message("v1.DeploymentStrategy", Str(1, "type"), Msg(2, "rollingUpdate", "v1.RollingUpdateDeployment")),
        Message("v1.RollingUpdateDeployment", IntOrString(1, "maxUnavailable"), IntOrString(2, "maxSurge")),
        Message("v1.DeploymentStatus",
            I64(1, "observedGeneration"), I32(2, "replicas"), I32(3, "updatedReplicas"), I32(7, "readyReplicas"),
            I32(4, "availableReplicas"), I32(5, "unavailableReplicas"), I32(8, "collisionCount", Keep)),

        // k8s.io/api/rbac/v1
        Message("v1.Role", Msg(1, "metadata", "v1.ObjectMeta"), Msgs(2, "rules", "v1.PolicyRule")),
        Message("v1.ClusterRole",
            Msg(1, "metadata", "v1.ObjectMeta"), Msgs(2, "rules", "v1.PolicyRule"),
            Msg(3, "aggregationRule", "v1.AggregationRule")),
        Message("v1.AggregationRule", Msgs(1, "clusterRoleSelectors", "v1.LabelSelector")),
        Message("v1.PolicyRule",
            Strs(1, "verbs"), Strs(2, "apiGroups"), Strs(3, "resources"), Strs(4, "resourceNames"), Strs(5, "nonResourceURLs")),
        Message("v1.RoleBinding",
            Msg(1, "metadata", "v1.ObjectMeta"), Msgs(2, "subjects", "v1.Subject"), Msg(3, "roleRef", "v1.RoleRef")),
        Message("v1.ClusterRoleBinding",
            Msg(1, "metadata", "v1.ObjectMeta"), Msgs(2, "subjects", "v1.Subject"), Msg(3, "roleRef", "v1.RoleRef")),
        Message("v1.Subject", Str(1, "kind", Keep), Str(2, "apiGroup"), Str(3, "name", Keep), Str(4, "namespace")),
        Message("v1.RoleRef", Str(1, "apiGroup", Keep), Str(2, "kind", Keep), Str(3, "name", Keep)),

        // k8s.io/api/policy/v1
        Message("v1.PodDisruptionBudget",
            Msg(1, "metadata", "v1.ObjectMeta"), Msg(2, "spec", "v1.PodDisruptionBudgetSpec"),
            Msg(3, "status", "v1.PodDisruptionBudgetStatus")),
        Message("v1.PodDisruptionBudgetSpec",
            IntOrString(1, "minAvailable"), Msg(2, "selector", "v1.LabelSelector"), IntOrString(3, "maxUnavailable"),
            Str(4, "unhealthyPodEvictionPolicy", Keep)),
        Message("v1.PodDisruptionBudgetStatus",
            I64(1, "observedGeneration"), I32(3, "disruptionsAllowed", Keep), I32(4, "currentHealthy", Keep),
            I32(5, "desiredHealthy", Keep), I32(6, "expectedPods", Keep)));

    /// <summary>The message an object of <paramref name="apiVersion"/> and <paramref name="kind"/> is encoded as; null when the table has none.</summary>
    public static ProtoMessage? ForKind(string apiVersion, string kind) =>
        TopLevel.TryGetValue((apiVersion, kind), out var name) ? Messages[name] : null;

    /// <summary>A message type the table defines.</summary>
    public static ProtoMessage Get(string name) => Messages[name];

    private static FrozenDictionary<string, ProtoMessage> Build(params ProtoMessage[] messages)
    {
        var byName = messages.ToDictionary(message => message.Name);
        var missing = messages
            .SelectMany(message => message.Fields.Values)
            .Select(field => field.Message)
            .FirstOrDefault(name => name is not null && !byName.ContainsKey(name));
        return missing is null
            ? byName.ToFrozenDictionary()
            : throw new InvalidOperationException($"the protobuf schema table refers to {missing}, which it does not define");
    }

    private static ProtoMessage Message(string name, params ProtoField[] fields) =>
        new(name, fields.ToFrozenDictionary(field => field.Number));

    private static ProtoField Str(int number, string name, bool keep = false) => new(number, name, ProtoKind.String, KeepZero: keep);

    private static ProtoField Strs(int number, string name) => new(number, name, ProtoKind.String, Repeated: true);

    private static ProtoField Bool(int number, string name, bool keep = false) => new(number, name, ProtoKind.Bool, KeepZero: keep);

    private static ProtoField I32(int number, string name, bool keep = false) => new(number, name, ProtoKind.Int32, KeepZero: keep);

    private static ProtoField I64(int number, string name, bool keep = false) => new(number, name, ProtoKind.Int64, KeepZero: keep);

    private static ProtoField Msg(int number, string name, string message) => new(number, name, ProtoKind.Message, message);

    private static ProtoField Msgs(int number, string name, string message) =>
        new(number, name, ProtoKind.Message, message, Repeated: true);

    private static ProtoField Inline(int number, string name, string message) => new(number, name, ProtoKind.Inline, message);

    private static ProtoField Time(int number, string name) => new(number, name, ProtoKind.Time);

    private static ProtoField IntOrString(int number, string name) => new(number, name, ProtoKind.IntOrString);

    private static ProtoField StrMap(int number, string name) => new(number, name, ProtoKind.StringMap);

    private static ProtoField QuantityMap(int number, string name) => new(number, name, ProtoKind.QuantityMap);
}
