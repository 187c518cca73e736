using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal.Protobuf;

namespace DeepSeekOperator.DevCluster.Tests.Protobuf;

public sealed class ProtobufObjectDecoderTests
{
    [Fact]
    public void Namespace_AsKubectlCreateSendsIt_DecodesToTheObjectWithEmptySpecAndStatus()
    {
        var body = ProtoWriter.Envelope("v1", "Namespace", ns => ns
            .Message(1, meta => KubectlMeta(meta, "demo", ""))
            .Empty(2)
            .Message(3, status => status.String(1, "")));

        AssertJson("""{"kind":"Namespace","apiVersion":"v1","metadata":{"name":"demo"},"spec":{},"status":{}}""", Decode(body));
    }

    [Fact]
    public void ConfigMap_WithDataBinaryDataAndImmutableFalse_KeepsThePointerFalseAndBase64EncodesBinaryData()
    {
        var body = ProtoWriter.Envelope("v1", "ConfigMap", configMap => configMap
            .Message(1, meta => KubectlMeta(meta, "c", "demo"))
            .Entry(2, "a", "b")
            .Entry(2, "empty", "")
            .Message(3, entry => entry.String(1, "blob").Bytes(2, [0, 1, 255]))
            .Bool(4, false));

        AssertJson(
            """
            {"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"c","namespace":"demo"},
             "data":{"a":"b","empty":""},"binaryData":{"blob":"AAH/"},"immutable":false}
            """,
            Decode(body));
    }

    [Fact]
    public void Secret_WithDataStringDataAndType_DecodesDataAsBase64()
    {
        var body = ProtoWriter.Envelope("v1", "Secret", secret => secret
            .Message(1, meta => KubectlMeta(meta, "s", "demo"))
            .Message(2, entry => entry.String(1, "p").Bytes(2, "q"u8.ToArray()))
            .String(3, "Opaque")
            .Entry(4, "plain", "text"));

        AssertJson(
            """
            {"kind":"Secret","apiVersion":"v1","metadata":{"name":"s","namespace":"demo"},
             "data":{"p":"cQ=="},"type":"Opaque","stringData":{"plain":"text"}}
            """,
            Decode(body));
    }

    [Fact]
    public void ServiceAccount_WithSecretsAndImagePullSecrets_DecodesTheReferences()
    {
        var body = ProtoWriter.Envelope("v1", "ServiceAccount", account => account
            .Message(1, meta => KubectlMeta(meta, "sa", "demo"))
            .Message(2, reference => reference.String(1, "Secret").String(2, "").String(3, "token").String(4, "").String(5, "v1")
                .String(6, "").String(7, ""))
            .Message(3, reference => reference.String(1, "registry"))
            .Bool(4, false));

        AssertJson(
            """
            {"kind":"ServiceAccount","apiVersion":"v1","metadata":{"name":"sa","namespace":"demo"},
             "secrets":[{"kind":"Secret","name":"token","apiVersion":"v1"}],"imagePullSecrets":[{"name":"registry"}],
             "automountServiceAccountToken":false}
            """,
            Decode(body));
    }

    [Fact]
    public void Service_AsKubectlCreateServiceSendsIt_DecodesPortsWithIntAndNamedTargetPorts()
    {
        var body = ProtoWriter.Envelope("v1", "Service", service => service
            .Message(1, meta => KubectlMeta(meta, "web", "demo").Entry(11, "app", "web"))
            .Message(2, spec => spec
                .Message(1, port => port.String(1, "80-8080").String(2, "TCP").Varint(3, 80).Int(4, 8080).Varint(5, 0))
                .Message(1, port => port.String(1, "metrics").String(2, "TCP").Varint(3, 9090).Str(4, "metrics").Varint(5, 0))
                .Entry(2, "app", "web")
                .String(3, "")
                .String(4, "ClusterIP")
                .String(7, "")
                .String(8, "")
                .String(10, "")
                .String(11, "")
                .Varint(12, 0)
                .Bool(13, false)
                .String(17, "SingleStack"))
            .Message(3, status => status.Empty(1)));

        AssertJson(
            """
            {"kind":"Service","apiVersion":"v1","metadata":{"name":"web","namespace":"demo","labels":{"app":"web"}},
             "spec":{"ports":[{"name":"80-8080","protocol":"TCP","port":80,"targetPort":8080},
                              {"name":"metrics","protocol":"TCP","port":9090,"targetPort":"metrics"}],
                     "selector":{"app":"web"},"type":"ClusterIP","ipFamilyPolicy":"SingleStack"},
             "status":{"loadBalancer":{}}}
            """,
            Decode(body));
    }

    [Fact]
    public void Pod_AsKubectlRunSendsIt_DecodesTheContainerAndDropsZeroNonPointerFields()
    {
        var body = ProtoWriter.Envelope("v1", "Pod", pod => pod
            .Message(1, meta => KubectlMeta(meta, "p1", "demo").Entry(11, "run", "p1"))
            .Message(2, spec => spec
                .Message(2, container => container
                    .String(1, "p1").String(2, "busybox").String(3, "sh").String(4, "-c").String(4, "sleep 1").String(5, "/work")
                    .Message(6, port => port.String(1, "").Varint(2, 0).Varint(3, 8080).String(4, "").String(5, ""))
                    .Message(7, env => env.String(1, "MODE").String(2, "fast"))
                    .Message(7, env => env.String(1, "TOKEN").String(2, "")
                        .Message(3, source => source.Message(4, key => key.Message(1, reference => reference.String(1, "creds"))
                            .String(2, "token").Bool(3, true))))
                    .Message(8, resources => resources.QuantityEntry(1, "cpu", "500m").QuantityEntry(2, "memory", "64Mi"))
                    .String(13, "").String(14, "IfNotPresent").Bool(16, true).Bool(17, false).Bool(18, true).String(20, ""))
                .String(3, "Never")
                .Varint(4, 0)
                .String(6, "")
                .Entry(7, "disk", "ssd")
                .String(8, "sa")
                .String(9, "")
                .String(10, "")
                .Bool(11, false)
                .Bool(12, false)
                .Bool(13, false)
                .String(16, "")
                .String(17, "")
                .String(19, "")
                .Message(22, toleration => toleration.String(1, "gpu").String(2, "Exists").String(3, "").String(4, "NoSchedule"))
                .String(24, ""))
            .Message(3, status => status.String(1, "").String(3, "").String(4, "").String(5, "").String(6, "").String(9, "")
                .String(11, "").String(14, "")));

        AssertJson(
            """
            {"kind":"Pod","apiVersion":"v1","metadata":{"name":"p1","namespace":"demo","labels":{"run":"p1"}},
             "spec":{"containers":[{"name":"p1","image":"busybox","command":["sh"],"args":["-c","sleep 1"],"workingDir":"/work",
                                    "ports":[{"containerPort":8080}],
                                    "env":[{"name":"MODE","value":"fast"},
                                           {"name":"TOKEN","valueFrom":{"secretKeyRef":{"name":"creds","key":"token","optional":true}}}],
                                    "resources":{"limits":{"cpu":"500m"},"requests":{"memory":"64Mi"}},
                                    "imagePullPolicy":"IfNotPresent","stdin":true,"tty":true}],
                     "restartPolicy":"Never","terminationGracePeriodSeconds":0,"nodeSelector":{"disk":"ssd"},
                     "serviceAccountName":"sa","tolerations":[{"key":"gpu","operator":"Exists","effect":"NoSchedule"}]},
             "status":{}}
            """,
            Decode(body));
    }

    [Fact]
    public void Deployment_AsKubectlCreateDeploymentSendsIt_KeepsReplicasAndEmptyStructs()
    {
        var body = ProtoWriter.Envelope("apps/v1", "Deployment", deployment => deployment
            .Message(1, meta => KubectlMeta(meta, "web", "demo").Entry(11, "app", "web"))
            .Message(2, spec => spec
                .Varint(1, 2)
                .Message(2, selector => selector.Entry(1, "app", "web"))
                .Message(3, template => template
                    .Message(1, meta => KubectlMeta(meta, "", "").Entry(11, "app", "web"))
                    .Message(2, podSpec => podSpec
                        .Message(2, container => container.String(1, "nginx").String(2, "nginx:1.27")
                            .Message(6, port => port.String(1, "").Varint(2, 0).Varint(3, 80).String(4, "").String(5, ""))
                            .Empty(8).Bool(16, false))
                        .String(3, "")))
                .Message(4, strategy => strategy.String(1, "RollingUpdate")
                    .Message(2, rolling => rolling.Int(1, 0).Str(2, "25%")))
                .Varint(5, 0)
                .Varint(6, 10)
                .Bool(7, false))
            .Message(3, status => status.Varint(1, 0).Varint(2, 0).Varint(3, 0).Varint(4, 0).Varint(5, 0).Varint(7, 0)));

        AssertJson(
            """
            {"kind":"Deployment","apiVersion":"apps/v1","metadata":{"name":"web","namespace":"demo","labels":{"app":"web"}},
             "spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},
                     "template":{"metadata":{"labels":{"app":"web"}},
                                 "spec":{"containers":[{"name":"nginx","image":"nginx:1.27","ports":[{"containerPort":80}],
                                                        "resources":{}}]}},
                     "strategy":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":0,"maxSurge":"25%"}},
                     "revisionHistoryLimit":10},
             "status":{}}
            """,
            Decode(body));
    }

    [Fact]
    public void RoleAndClusterRole_WithRulesAndAggregation_Decode()
    {
        var role = ProtoWriter.Envelope("rbac.authorization.k8s.io/v1", "Role", r => r
            .Message(1, meta => KubectlMeta(meta, "r", "demo"))
            .Message(2, rule => rule.String(1, "get").String(1, "list").String(2, "").String(3, "pods").String(4, "p1")));
        var clusterRole = ProtoWriter.Envelope("rbac.authorization.k8s.io/v1", "ClusterRole", r => r
            .Message(1, meta => KubectlMeta(meta, "view", ""))
            .Message(2, rule => rule.String(1, "get").String(5, "/healthz"))
            .Message(3, aggregation => aggregation.Message(1, selector => selector.Entry(1, "rbac.example.com/aggregate", "true"))));

        AssertJson(
            """
            {"kind":"Role","apiVersion":"rbac.authorization.k8s.io/v1","metadata":{"name":"r","namespace":"demo"},
             "rules":[{"verbs":["get","list"],"apiGroups":[""],"resources":["pods"],"resourceNames":["p1"]}]}
            """,
            Decode(role));
        AssertJson(
            """
            {"kind":"ClusterRole","apiVersion":"rbac.authorization.k8s.io/v1","metadata":{"name":"view"},
             "rules":[{"verbs":["get"],"nonResourceURLs":["/healthz"]}],
             "aggregationRule":{"clusterRoleSelectors":[{"matchLabels":{"rbac.example.com/aggregate":"true"}}]}}
            """,
            Decode(clusterRole));
    }

    [Fact]
    public void RoleBindingAndClusterRoleBinding_WithSubjectsAndRoleRef_Decode()
    {
        var roleBinding = ProtoWriter.Envelope("rbac.authorization.k8s.io/v1", "RoleBinding", binding => binding
            .Message(1, meta => KubectlMeta(meta, "rb", "demo"))
            .Message(2, subject => subject.String(1, "ServiceAccount").String(2, "").String(3, "sa").String(4, "demo"))
            .Message(3, roleRef => roleRef.String(1, "rbac.authorization.k8s.io").String(2, "Role").String(3, "r")));
        var clusterRoleBinding = ProtoWriter.Envelope("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", binding => binding
            .Message(1, meta => KubectlMeta(meta, "crb", ""))
            .Message(2, subject => subject.String(1, "Group").String(2, "rbac.authorization.k8s.io").String(3, "devs").String(4, ""))
            .Message(3, roleRef => roleRef.String(1, "rbac.authorization.k8s.io").String(2, "ClusterRole").String(3, "view")));

        AssertJson(
            """
            {"kind":"RoleBinding","apiVersion":"rbac.authorization.k8s.io/v1","metadata":{"name":"rb","namespace":"demo"},
             "subjects":[{"kind":"ServiceAccount","name":"sa","namespace":"demo"}],
             "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"r"}}
            """,
            Decode(roleBinding));
        AssertJson(
            """
            {"kind":"ClusterRoleBinding","apiVersion":"rbac.authorization.k8s.io/v1","metadata":{"name":"crb"},
             "subjects":[{"kind":"Group","apiGroup":"rbac.authorization.k8s.io","name":"devs"}],
             "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"view"}}
            """,
            Decode(clusterRoleBinding));
    }

    [Fact]
    public void PodDisruptionBudget_AsKubectlCreatePdbSendsIt_KeepsTheNonOmitemptyStatusCounts()
    {
        var body = ProtoWriter.Envelope("policy/v1", "PodDisruptionBudget", pdb => pdb
            .Message(1, meta => KubectlMeta(meta, "p", "demo"))
            .Message(2, spec => spec
                .Int(1, 1)
                .Message(2, selector => selector
                    .Entry(1, "app", "web")
                    .Message(2, requirement => requirement.String(1, "tier").String(2, "In").String(3, "front").String(3, "back"))))
            .Message(3, status => status.Varint(1, 0).Varint(3, 0).Varint(4, 0).Varint(5, 0).Varint(6, 0)));

        AssertJson(
            """
            {"kind":"PodDisruptionBudget","apiVersion":"policy/v1","metadata":{"name":"p","namespace":"demo"},
             "spec":{"minAvailable":1,
                     "selector":{"matchLabels":{"app":"web"},"matchExpressions":[{"key":"tier","operator":"In","values":["front","back"]}]}},
             "status":{"disruptionsAllowed":0,"currentHealthy":0,"desiredHealthy":0,"expectedPods":0}}
            """,
            Decode(body));
    }

    [Fact]
    public void ObjectMeta_WithEveryField_DecodesTimesOwnersAndManagedFields()
    {
        var body = ProtoWriter.Envelope("v1", "ConfigMap", configMap => configMap
            .Message(1, meta => meta
                .String(1, "")
                .String(2, "settings-")
                .String(3, "demo")
                .String(5, "0b9f6a55-4f8e-4a59-9a43-3d1f2f0e7c11")
                .String(6, "42")
                .Varint(7, 3)
                .Message(8, time => time.Varint(1, 1_700_000_000).Varint(2, 500))
                .Message(9, time => time.Varint(1, 1_700_000_060))
                .Varint(10, 0)
                .Entry(11, "app", "web")
                .Entry(12, "note", "x")
                .Message(13, owner => owner.String(1, "Deployment").String(3, "web").String(4, "uid-1").String(5, "apps/v1")
                    .Bool(6, true).Bool(7, false))
                .String(14, "example.com/cleanup")
                .Message(17, entry => entry.String(1, "kubectl").String(2, "Update").String(3, "v1")
                    .Message(4, time => time.Varint(1, 0))
                    .String(6, "FieldsV1")
                    .Message(7, fields => fields.String(1, """{"f:data":{}}"""))
                    .String(8, ""))));

        AssertJson(
            """
            {"kind":"ConfigMap","apiVersion":"v1",
             "metadata":{"generateName":"settings-","namespace":"demo","uid":"0b9f6a55-4f8e-4a59-9a43-3d1f2f0e7c11",
                         "resourceVersion":"42","generation":3,"creationTimestamp":"2023-11-14T22:13:20Z",
                         "deletionTimestamp":"2023-11-14T22:14:20Z","deletionGracePeriodSeconds":0,
                         "labels":{"app":"web"},"annotations":{"note":"x"},
                         "ownerReferences":[{"kind":"Deployment","name":"web","uid":"uid-1","apiVersion":"apps/v1",
                                             "controller":true,"blockOwnerDeletion":false}],
                         "finalizers":["example.com/cleanup"],
                         "managedFields":[{"manager":"kubectl","operation":"Update","apiVersion":"v1",
                                           "time":"1970-01-01T00:00:00Z","fieldsType":"FieldsV1","fieldsV1":{"f:data":{}}}]}}
            """,
            Decode(body));
    }

    [Fact]
    public void Decode_FieldTheTableDoesNotCover_NamesTheFieldAndTheMessage()
    {
        var body = ProtoWriter.Envelope("v1", "Pod", pod => pod
            .Message(2, spec => spec.Message(23, alias => alias.String(1, "10.0.0.1"))));

        var error = Assert.Throws<ProtobufDecodeException>(() => ProtobufObjectDecoder.Decode(body));

        Assert.Equal("protobuf field 23 of v1.PodSpec is not supported by the dev cluster; send JSON", error.Message);
    }

    [Fact]
    public void Decode_TruncatedBody_ReportsWhereItEnds()
    {
        var body = ProtoWriter.Envelope("v1", "ConfigMap", configMap => configMap
            .Message(1, meta => meta.String(1, "c"))
            .Entry(2, "key", "a long enough value"));

        var error = Assert.Throws<ProtobufDecodeException>(() => ProtobufObjectDecoder.Decode(body.AsSpan(0, body.Length - 10)));

        Assert.Contains("protobuf field 2 of runtime.Unknown is truncated", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_FieldWithTheWrongWireType_NamesTheFieldAndTheMessage()
    {
        var body = ProtoWriter.Envelope("v1", "ConfigMap", configMap => configMap.Message(1, meta => meta.Varint(1, 7)));

        var error = Assert.Throws<ProtobufDecodeException>(() => ProtobufObjectDecoder.Decode(body));

        Assert.Equal("protobuf field 1 of v1.ObjectMeta has wire type Varint, expected LengthDelimited", error.Message);
    }

    [Fact]
    public void Decode_BodyWithoutTheMagicPrefix_IsRejected()
    {
        var error = Assert.Throws<ProtobufDecodeException>(() => ProtobufObjectDecoder.Decode("""{"kind":"ConfigMap"}"""u8));

        Assert.Contains("expected prefix [107 56 115 0]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_IntOrStringOfAnUnknownType_IsRejected()
    {
        var body = ProtoWriter.Envelope("policy/v1", "PodDisruptionBudget", pdb => pdb
            .Message(2, spec => spec.Message(1, value => value.Varint(1, 2))));

        var error = Assert.Throws<ProtobufDecodeException>(() => ProtobufObjectDecoder.Decode(body));

        Assert.Equal("protobuf field 1 of v1.PodDisruptionBudgetSpec is an IntOrString of unknown type 2", error.Message);
    }

    [Fact]
    public void Decode_KindWithoutASchema_ReturnsNull()
    {
        var body = ProtoWriter.Envelope("batch/v1", "Job", job => job.Message(1, meta => meta.String(1, "j")));

        Assert.Null(ProtobufObjectDecoder.Decode(body));
    }

    /// <summary>ObjectMeta as Go's marshaller writes a fresh one: every non-pointer field, zero or not.</summary>
    private static ProtoWriter KubectlMeta(ProtoWriter meta, string name, string ns) => meta
        .String(1, name).String(2, "").String(3, ns).String(4, "").String(5, "").String(6, "").Varint(7, 0).Empty(8);

    private static JsonObject Decode(byte[] body) => ProtobufObjectDecoder.Decode(body) ?? throw new InvalidOperationException("no schema");

    private static void AssertJson(string expected, JsonNode actual)
    {
        var wanted = JsonNode.Parse(expected);
        if (!JsonNode.DeepEquals(wanted, actual))
        {
            Assert.Fail($"expected {wanted?.ToJsonString()}\n     got {actual.ToJsonString()}");
        }
    }
}
