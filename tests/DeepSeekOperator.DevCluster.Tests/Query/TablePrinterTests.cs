using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal.Query;
using YamlDotNet.Serialization;

namespace DeepSeekOperator.DevCluster.Tests.Query;

public sealed class TablePrinterTests
{
    private static readonly DateTimeOffset Now = new(2025, 1, 1, 12, 0, 0, TimeSpan.Zero);

    // Cells compared as kubectl users read them, without the default encoder's escaping of '<', '>' and '+'.
    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    [Fact]
    public void Pod_RunningWithRestarts_ShowsReadyRestartsAndWideColumns()
    {
        var pod = Json("""
            {"metadata": {"name": "web-1", "namespace": "default", "creationTimestamp": "2025-01-01T10:00:00Z"},
             "spec": {"nodeName": "node-1", "containers": [{"name": "app"}, {"name": "sidecar"}],
                      "readinessGates": [{"conditionType": "example.com/lb"}]},
             "status": {"phase": "Running", "podIPs": [{"ip": "10.0.0.5"}],
                        "conditions": [{"type": "Ready", "status": "True"}, {"type": "example.com/lb", "status": "True"}],
                        "containerStatuses": [
                          {"name": "app", "ready": true, "restartCount": 5, "state": {"running": {}},
                           "lastState": {"terminated": {"exitCode": 1, "finishedAt": "2025-01-01T11:55:00Z"}}},
                          {"name": "sidecar", "ready": true, "restartCount": 0, "state": {"running": {}}}]}}
            """);

        Assert.Equal("""["web-1","2/2","Running","5 (5m ago)","120m","10.0.0.5","node-1","<none>","1/1"]""", Cells("", "pods", pod));
    }

    [Fact]
    public void Pod_InCrashLoopBackOff_ShowsTheWaitingReason()
    {
        var pod = Json("""
            {"metadata": {"name": "shard-0", "creationTimestamp": "2025-01-01T11:50:00Z"},
             "spec": {"containers": [{"name": "shard"}]},
             "status": {"phase": "Running",
                        "containerStatuses": [{"name": "shard", "ready": false, "restartCount": 7,
                          "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                          "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled", "finishedAt": "2025-01-01T11:59:30Z"}}}]}}
            """);

        Assert.Equal("""["shard-0","0/1","CrashLoopBackOff","7 (30s ago)","10m","<none>","<none>","<none>","<none>"]""", Cells("", "pods", pod));
    }

    [Theory]
    [InlineData("""{"phase": "Running", "containerStatuses": [{"ready": true, "state": {"running": {}}}]}""", true, "Terminating")]
    [InlineData("""{"phase": "Running", "reason": "NodeLost", "containerStatuses": [{"ready": true, "state": {"running": {}}}]}""", true, "Unknown")]
    [InlineData("""{"phase": "Succeeded", "containerStatuses": [{"state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]}""", true, "Completed")]
    [InlineData("""{"phase": "Pending", "containerStatuses": [{"state": {"waiting": {"reason": "ContainerCreating"}}}]}""", false, "ContainerCreating")]
    [InlineData("""{"phase": "Pending"}""", false, "Pending")]
    [InlineData("""{"phase": "Running", "containerStatuses": [{"state": {"terminated": {"exitCode": 2}}}]}""", false, "ExitCode:2")]
    [InlineData("""{"phase": "Running", "containerStatuses": [{"state": {"terminated": {"exitCode": 0, "signal": 9}}}]}""", false, "Signal:9")]
    [InlineData("""{"phase": "Running", "conditions": [{"type": "Ready", "status": "False"}], "containerStatuses": [{"state": {"terminated": {"reason": "Completed"}}}, {"ready": true, "state": {"running": {}}}]}""", false, "NotReady")]
    [InlineData("""{"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]}""", false, "SchedulingGated")]
    [InlineData("""{"phase": "Pending", "initContainerStatuses": [{"state": {"terminated": {"exitCode": 0}}}, {"state": {"waiting": {"reason": "PodInitializing"}}}]}""", false, "Init:1/2")]
    [InlineData("""{"phase": "Pending", "initContainerStatuses": [{"state": {"waiting": {"reason": "ImagePullBackOff"}}}]}""", false, "Init:ImagePullBackOff")]
    [InlineData("""{"phase": "Pending", "initContainerStatuses": [{"state": {"terminated": {"exitCode": 3}}}]}""", false, "Init:ExitCode:3")]
    public void Pod_StatusColumn_FollowsTheKubectlReasonLogic(string status, bool deleting, string expected)
    {
        var pod = new JsonObject
        {
            ["metadata"] = new JsonObject { ["name"] = "p", ["creationTimestamp"] = "2025-01-01T11:00:00Z" },
            ["spec"] = Json("""{"containers": [{"name": "a"}], "initContainers": [{"name": "i1"}, {"name": "i2"}]}"""),
            ["status"] = Json(status),
        };
        if (deleting)
        {
            pod["metadata"]!["deletionTimestamp"] = "2025-01-01T11:59:00Z";
        }

        Assert.Equal(expected, TablePrinter.For("", "pods").Cells(pod, Now)[2]!.GetValue<string>());
    }

    [Fact]
    public void Pod_Succeeded_RowIsMarkedCompleted()
    {
        var pod = Json("""{"metadata": {"name": "job-x"}, "status": {"phase": "Succeeded"}}""");

        var table = TablePrinter.For("", "pods").ToTable([pod], new TableRequest { Now = Now });

        Assert.Equal(
            """[{"type":"Completed","status":"True","reason":"Succeeded","message":"The pod has completed successfully."}]""",
            table["rows"]![0]!["conditions"]!.ToJsonString(Relaxed));
    }

    [Fact]
    public void Pod_Columns_MatchKubeApiserver()
    {
        Assert.Equal(
            ["Name:string:name:0", "Ready:string::0", "Status:string::0", "Restarts:string::0", "Age:string::0",
             "IP:string::1", "Node:string::1", "Nominated Node:string::1", "Readiness Gates:string::1"],
            TablePrinter.For("", "pods").Columns.Select(c => $"{c.Name}:{c.Type}:{c.Format}:{c.Priority}"));
    }

    [Fact]
    public void Deployment_MidRollout_ShowsReadyOverDesired()
    {
        var deployment = Json("""
            {"metadata": {"name": "router", "creationTimestamp": "2024-12-27T12:00:00Z"},
             "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "router"}},
                      "template": {"spec": {"containers": [{"name": "router", "image": "ghcr.io/x/dsop:v2"}, {"name": "proxy", "image": "envoy:1"}]}}},
             "status": {"replicas": 4, "updatedReplicas": 2, "readyReplicas": 2, "availableReplicas": 2}}
            """);

        Assert.Equal("""["router","2/3",2,2,"5d","router,proxy","ghcr.io/x/dsop:v2,envoy:1","app=router"]""", Cells("apps", "deployments", deployment));
        Assert.Equal(["Name", "Ready", "Up-to-date", "Available", "Age", "Containers", "Images", "Selector"], TablePrinter.For("apps", "deployments").Columns.Select(c => c.Name));
    }

    [Fact]
    public void Service_WithSeveralPorts_ListsThemWithProtocols()
    {
        var service = Json("""
            {"metadata": {"name": "gateway", "creationTimestamp": "2025-01-01T11:57:00Z"},
             "spec": {"type": "NodePort", "clusterIP": "127.96.0.10", "clusterIPs": ["127.96.0.10"],
                      "ports": [{"port": 80, "protocol": "TCP", "nodePort": 30080}, {"port": 443, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}],
                      "selector": {"tier": "fe", "app": "web"}}}
            """);

        Assert.Equal("""["gateway","NodePort","127.96.0.10","<none>","80:30080/TCP,443/TCP,53/UDP","3m","app=web,tier=fe"]""", Cells("", "services", service));
    }

    [Theory]
    [InlineData("""{"type": "LoadBalancer", "clusterIPs": ["10.0.0.1"]}""", "{}", "<pending>")]
    [InlineData("""{"type": "LoadBalancer", "clusterIPs": ["10.0.0.1"]}""", """{"loadBalancer": {"ingress": [{"ip": "5.6.7.8"}, {"hostname": "lb.example"}]}}""", "5.6.7.8,lb.example")]
    [InlineData("""{"type": "ExternalName", "externalName": "db.example"}""", "{}", "db.example")]
    [InlineData("""{"type": "ClusterIP", "externalIPs": ["1.2.3.4"]}""", "{}", "1.2.3.4")]
    public void Service_ExternalIP_DependsOnType(string spec, string status, string expected)
    {
        var service = new JsonObject { ["metadata"] = new JsonObject { ["name"] = "s" }, ["spec"] = Json(spec), ["status"] = Json(status) };

        Assert.Equal(expected, TablePrinter.For("", "services").Cells(service, Now)[3]!.GetValue<string>());
    }

    [Theory]
    [InlineData("", "namespaces", """{"metadata": {"name": "ns"}, "status": {"phase": "Active"}}""", """["ns","Active","<unknown>"]""")]
    [InlineData("", "configmaps", """{"metadata": {"name": "c"}, "data": {"a": "1", "b": "2"}, "binaryData": {"c": "AA=="}}""", """["c",3,"<unknown>"]""")]
    [InlineData("", "secrets", """{"metadata": {"name": "s"}, "type": "Opaque", "data": {"a": "MQ=="}}""", """["s","Opaque",1,"<unknown>"]""")]
    [InlineData("", "serviceaccounts", """{"metadata": {"name": "default"}}""", """["default",0,"<unknown>"]""")]
    [InlineData("", "endpoints", """{"metadata": {"name": "e"}, "subsets": [{"addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}], "ports": [{"port": 80}, {"port": 443}]}]}""", """["e","10.0.0.1:80,10.0.0.2:80,10.0.0.1:443 + 1 more...","<unknown>"]""")]
    [InlineData("", "endpoints", """{"metadata": {"name": "e"}}""", """["e","<none>","<unknown>"]""")]
    [InlineData("discovery.k8s.io", "endpointslices", """{"metadata": {"name": "es"}, "addressType": "IPv4", "ports": [{"port": 80}, {"name": "metrics"}], "endpoints": [{"addresses": ["10.0.0.1"]}]}""", """["es","IPv4","80,metrics","10.0.0.1","<unknown>"]""")]
    [InlineData("apps", "replicasets", """{"metadata": {"name": "rs"}, "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "x"}}, "template": {"spec": {"containers": [{"name": "c", "image": "i"}]}}}, "status": {"replicas": 3, "readyReplicas": 1}}""", """["rs",3,3,1,"<unknown>","c","i","app=x"]""")]
    [InlineData("apps", "statefulsets", """{"metadata": {"name": "ss"}, "spec": {"replicas": 2}, "status": {"readyReplicas": 2}}""", """["ss","2/2","<unknown>","",""]""")]
    [InlineData("policy", "poddisruptionbudgets", """{"metadata": {"name": "pdb"}, "spec": {"minAvailable": "50%"}, "status": {"disruptionsAllowed": 1}}""", """["pdb","50%","N/A",1,"<unknown>"]""")]
    [InlineData("networking.k8s.io", "networkpolicies", """{"metadata": {"name": "np"}, "spec": {"podSelector": {}}}""", """["np","<none>","<unknown>"]""")]
    [InlineData("coordination.k8s.io", "leases", """{"metadata": {"name": "dsop-leader"}, "spec": {"holderIdentity": "operator-0"}}""", """["dsop-leader","operator-0","<unknown>"]""")]
    [InlineData("rbac.authorization.k8s.io", "roles", """{"metadata": {"name": "r", "creationTimestamp": "2025-01-01T10:00:00Z"}}""", """["r","2025-01-01T10:00:00Z"]""")]
    [InlineData("rbac.authorization.k8s.io", "rolebindings", """{"metadata": {"name": "rb"}, "roleRef": {"kind": "Role", "name": "r"}, "subjects": [{"kind": "User", "name": "alice"}, {"kind": "ServiceAccount", "namespace": "ns", "name": "sa"}, {"kind": "Group", "name": "devs"}, {"kind": "User", "name": "bob"}]}""", """["rb","Role/r","<unknown>","alice, bob","devs","ns/sa"]""")]
    [InlineData("autoscaling", "horizontalpodautoscalers", """{"metadata": {"name": "h"}, "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "router"}, "minReplicas": 1, "maxReplicas": 10, "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}, {"type": "Pods", "pods": {"metric": {"name": "qps"}, "target": {"type": "AverageValue", "averageValue": "100"}}}, {"type": "External", "external": {"metric": {"name": "q"}, "target": {"type": "Value", "value": "5"}}}]}, "status": {"currentReplicas": 2, "currentMetrics": [{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 40}}}]}}""", """["h","Deployment/router","cpu: 40%/80%, <unknown>/100 + 1 more...","1",10,2,"<unknown>"]""")]
    [InlineData("autoscaling", "horizontalpodautoscalers", """{"metadata": {"name": "h"}, "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "d"}, "maxReplicas": 3, "targetCPUUtilizationPercentage": 50}, "status": {"currentReplicas": 1, "currentCPUUtilizationPercentage": 20}}""", """["h","Deployment/d","cpu: 20%/50%","<unset>",3,1,"<unknown>"]""")]
    public void BuiltInResources_PrintLikeKubeApiserver(string group, string resource, string json, string cells)
    {
        Assert.Equal(cells, Cells(group, resource, Json(json)));
    }

    [Fact]
    public void Event_ShowsLastSeenObjectAndSource()
    {
        var e = Json("""
            {"metadata": {"name": "shard-0.17a"},
             "involvedObject": {"kind": "Pod", "name": "shard-0", "fieldPath": "spec.containers{shard}"},
             "reason": "BackOff", "message": "Back-off restarting failed container\n", "type": "Warning",
             "source": {"component": "kubelet", "host": "node-1"},
             "firstTimestamp": "2025-01-01T11:00:00Z", "lastTimestamp": "2025-01-01T11:58:00Z", "count": 12}
            """);

        Assert.Equal("""["2m","Warning","BackOff","pod/shard-0","spec.containers{shard}","kubelet, node-1","Back-off restarting failed container","60m",12,"shard-0.17a"]""", Cells("", "events", e));
        Assert.Equal(["Last Seen", "Type", "Reason", "Object", "Message"], TablePrinter.For("", "events").Columns.Where(c => c.Priority == 0).Select(c => c.Name));
    }

    [Fact]
    public void CustomResource_ProjectCrdColumns_AreEvaluatedOnTheObject()
    {
        var printer = TablePrinter.ForCustomResource(ProjectCrdPrinterColumns());
        var model = Json("""
            {"apiVersion": "moe.deepseek-operator.io/v1alpha1", "kind": "DeepSeekModel",
             "metadata": {"name": "v3", "namespace": "ai", "creationTimestamp": "2025-01-01T11:56:56Z"},
             "status": {"conditions": [{"type": "Progressing", "status": "False"}, {"type": "Ready", "status": "True"}],
                        "routers": {"readyReplicas": 2}, "readyShards": 8, "experts": 256, "endpoint": "http://v3.ai.svc:8000/v1",
                        "placement": {"revision": 3, "imbalance": 1.048}, "autoscaling": {"routers": {"current": 2, "desired": 3}}}}
            """);

        Assert.Equal(
            ["Name:string:name", "Ready:string:", "Routers:integer:", "Shards:integer:", "Experts:integer:", "Placement:integer:", "Imbalance:number:", "Endpoint:string:", "Desired Routers:integer:", "Age:date:"],
            printer.Columns.Select(c => $"{c.Name}:{c.Type}:{c.Format}"));
        Assert.Equal("Whether the model serves requests", printer.Columns[1].Description);
        Assert.Equal("Custom resource definition column (in JSONPath format): .metadata.creationTimestamp", printer.Columns[9].Description);
        Assert.Equal("""["v3","True",2,8,256,3,1.048,"http://v3.ai.svc:8000/v1",3,"3m4s"]""", printer.Cells(model, Now).ToJsonString(Relaxed));
    }

    [Fact]
    public void CustomResource_MissingStatus_GivesNullCells()
    {
        var printer = TablePrinter.ForCustomResource(ProjectCrdPrinterColumns());
        var model = Json("""{"metadata": {"name": "new"}}""");

        Assert.Equal("""["new",null,null,null,null,null,null,null,null,null]""", printer.Cells(model, Now).ToJsonString(Relaxed));
    }

    [Fact]
    public void CustomResource_WithoutPrinterColumns_HasNameAndAge()
    {
        var printer = TablePrinter.ForCustomResource(null);

        Assert.Equal(["Name", "Age"], printer.Columns.Select(c => c.Name));
        Assert.Equal("date", printer.Columns[1].Type);
        Assert.Equal("""["x","120m"]""", printer.Cells(Json("""{"metadata": {"name": "x", "creationTimestamp": "2025-01-01T10:00:00Z"}}"""), Now).ToJsonString(Relaxed));
    }

    [Fact]
    public void CustomResource_TypedColumns_ConvertValues()
    {
        var columns = new JsonArray(
            Column("Int", "integer", ".spec.ratio"),
            Column("Num", "number", ".spec.count"),
            Column("Flag", "boolean", ".spec.flag"),
            Column("Text", "string", ".spec.count"),
            Column("Obj", "string", ".spec.map"),
            Column("Bad", "boolean", ".spec.count"),
            Column("When", "date", ".spec.when"));
        var printer = TablePrinter.ForCustomResource(columns);
        var obj = Json("""{"metadata": {"name": "x"}, "spec": {"ratio": 2.7, "count": 3, "flag": true, "map": {"b": 1, "a": 2}, "when": "soon"}}""");

        Assert.Equal("""["x",2,3,true,"3","{\"a\":2,\"b\":1}",null,"<invalid>"]""", printer.Cells(obj, Now).ToJsonString(Relaxed));
    }

    [Fact]
    public void CustomResource_UnparsableColumn_FallsBackToTheDefaultPrinter()
    {
        var printer = TablePrinter.ForCustomResource([Column("Broken", "string", ".spec[")]);

        Assert.Equal(["Name", "Created At"], printer.Columns.Select(c => c.Name));
    }

    [Fact]
    public void ToTable_DefaultMode_CarriesPartialObjectMetadata()
    {
        var pod = Json("""{"metadata": {"name": "p", "namespace": "ns", "labels": {"a": "b"}}, "spec": {"containers": []}, "status": {"phase": "Pending"}}""");

        var table = TablePrinter.For("", "pods").ToTable([pod], new TableRequest { Now = Now, ResourceVersion = "42", Continue = "abc", RemainingItemCount = 3 });

        Assert.Equal("Table", table["kind"]!.GetValue<string>());
        Assert.Equal("meta.k8s.io/v1", table["apiVersion"]!.GetValue<string>());
        Assert.Equal("""{"resourceVersion":"42","continue":"abc","remainingItemCount":3}""", table["metadata"]!.ToJsonString(Relaxed));
        Assert.Equal(9, table["columnDefinitions"]!.AsArray().Count);
        Assert.Equal(
            """{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":{"name":"p","namespace":"ns","labels":{"a":"b"}}}""",
            table["rows"]![0]!["object"]!.ToJsonString(Relaxed));
    }

    [Fact]
    public void ToTable_IncludeObjectAndNoHeaders_AreHonoured()
    {
        var cm = Json("""{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}""");
        var printer = TablePrinter.For("", "configmaps");

        var full = printer.ToTable([cm], new TableRequest { Now = Now, IncludeObject = TableIncludeObject.Object });
        var none = printer.ToTable([cm], new TableRequest { Now = Now, IncludeObject = TableIncludeObject.None, NoHeaders = true });

        Assert.Equal(cm.ToJsonString(Relaxed), full["rows"]![0]!["object"]!.ToJsonString(Relaxed));
        Assert.True(none["rows"]![0]!.AsObject().ContainsKey("object"));
        Assert.Null(none["rows"]![0]!["object"]);
        Assert.Null(none["columnDefinitions"]);
    }

    [Fact]
    public void ToTable_DefaultPrinterWithNoItems_HasNullRows()
    {
        var table = TablePrinter.For("apiextensions.k8s.io", "customresourcedefinitions").ToTable([], new TableRequest { Now = Now });

        Assert.True(table.ContainsKey("rows"));
        Assert.Null(table["rows"]);
        Assert.Equal("""[]""", TablePrinter.For("", "pods").ToTable([], new TableRequest { Now = Now })["rows"]!.ToJsonString(Relaxed));
    }

    [Theory]
    [InlineData(null, "Metadata")]
    [InlineData("", "Metadata")]
    [InlineData("Object", "Object")]
    [InlineData("None", "None")]
    public void TryParseIncludeObject_KnownValues(string? value, string expected)
    {
        Assert.True(TableRequest.TryParseIncludeObject(value, out var mode, out _));
        Assert.Equal(expected, mode.ToString());
    }

    [Fact]
    public void TryParseIncludeObject_UnknownValue_IsRejected()
    {
        Assert.False(TableRequest.TryParseIncludeObject("All", out _, out var error));
        Assert.Equal("unrecognized includeObject value: \"All\"", error);
    }

    [Theory]
    [InlineData(0, "0s")]
    [InlineData(119, "119s")]
    [InlineData(120, "2m")]
    [InlineData(184, "3m4s")]
    [InlineData(600, "10m")]
    [InlineData(179 * 60, "179m")]
    [InlineData(3 * 3600, "3h")]
    [InlineData(3 * 3600 + 30 * 60, "3h30m")]
    [InlineData(8 * 3600, "8h")]
    [InlineData(47 * 3600, "47h")]
    [InlineData(48 * 3600, "2d")]
    [InlineData(50 * 3600, "2d2h")]
    [InlineData(8 * 86400, "8d")]
    [InlineData(730 * 86400, "2y")]
    [InlineData(731 * 86400, "2y1d")]
    [InlineData(8 * 365 * 86400, "8y")]
    [InlineData(-1, "0s")]
    [InlineData(-2, "<invalid>")]
    public void HumanDuration_FormatsAsKubectl(int seconds, string expected)
    {
        Assert.Equal(expected, HumanDuration.Format(TimeSpan.FromSeconds(seconds)));
    }

    private static string Cells(string group, string resource, JsonObject obj) => TablePrinter.For(group, resource).Cells(obj, Now).ToJsonString(Relaxed);

    private static JsonObject Json(string json) => JsonNode.Parse(json)!.AsObject();

    private static JsonObject Column(string name, string type, string jsonPath) => new() { ["name"] = name, ["type"] = type, ["jsonPath"] = jsonPath };

    private static JsonArray ProjectCrdPrinterColumns()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(directory.FullName, "crds", "deepseekmodels.moe.deepseek-operator.io.yaml")))
        {
            directory = directory.Parent ?? throw new InvalidOperationException("the repository's crds folder was not found");
        }

        var yaml = new DeserializerBuilder().Build().Deserialize<object>(File.ReadAllText(Path.Combine(directory.FullName, "crds", "deepseekmodels.moe.deepseek-operator.io.yaml")));
        var crd = JsonNode.Parse(new SerializerBuilder().JsonCompatible().Build().Serialize(yaml))!;
        return crd["spec"]!["versions"]![0]!["additionalPrinterColumns"]!.AsArray();
    }
}
