using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal;
using DeepSeekOperator.DevCluster.Internal.Http;
using DeepSeekOperator.DevCluster.Internal.Patching;

namespace DeepSeekOperator.DevCluster.Tests.Patching;

public sealed class FieldManagerTests
{
    private static readonly FieldManagerScope Deployments = new("apps/v1", "Deployment", BuiltInSchema.For("apps", "Deployment"))
    {
        ResetFields = ["status"],
    };

    private readonly ManualTime time = new(new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero));
    private readonly FieldManager manager;

    public FieldManagerTests()
    {
        manager = new FieldManager(time);
    }

    [Fact]
    public void Apply_NoLiveObject_CreatesItOwnedByTheApplier()
    {
        var created = Apply(null, Deployment(replicas: 2), "kubectl");

        Assert.Equal(2, (int)created["spec"]!["replicas"]!);
        var entry = Assert.Single(created["metadata"]!["managedFields"]!.AsArray())!;
        Assert.Equal(
            """{"manager":"kubectl","operation":"Apply","apiVersion":"apps/v1","time":"2025-01-02T03:04:05Z","fieldsType":"FieldsV1","fieldsV1":{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:replicas":{},"f:selector":{},"f:template":{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{".":{},"f:image":{},"f:name":{}}}}}}}}""",
            entry.ToJsonString(JsonValues.Relaxed));
    }

    [Fact]
    public void Apply_ValueOwnedByAnotherApplier_IsAConflict()
    {
        var live = Apply(null, Deployment(replicas: 2), "alice");

        var error = Assert.Throws<PatchException>(() => Apply(live, Deployment(replicas: 3), "bob"));

        Assert.Equal(409, error.Code);
        Assert.Equal("Conflict", error.Reason);
        Assert.Equal("Apply failed with 1 conflict: conflict with \"alice\": .spec.replicas", error.Message);
        Assert.Equal(new StatusCause("FieldManagerConflict", "conflict with \"alice\"", ".spec.replicas"), Assert.Single(error.Causes));
    }

    [Fact]
    public void Apply_ValueOwnedByAnUpdater_ConflictNamesItsVersion()
    {
        var live = Apply(null, Deployment(replicas: 2), "alice");
        var edited = manager.Update(live, null, With(live, d => d["spec"]!["replicas"] = 4), "kubectl-edit", Deployments).Object;

        var error = Assert.Throws<PatchException>(() => Apply(edited, Deployment(replicas: 3), "alice"));

        Assert.Equal("Apply failed with 1 conflict: conflict with \"kubectl-edit\" using apps/v1: .spec.replicas", error.Message);
        Assert.Equal(
            """{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Apply failed with 1 conflict: conflict with \"kubectl-edit\" using apps/v1: .spec.replicas","reason":"Conflict","details":{"causes":[{"reason":"FieldManagerConflict","message":"conflict with \"kubectl-edit\" using apps/v1","field":".spec.replicas"}]},"code":409}""",
            error.ToStatus().ToJsonString(JsonValues.Relaxed));
    }

    [Fact]
    public void Apply_SeveralConflicts_AreListedByManager()
    {
        var live = Apply(null, Deployment(replicas: 2), "alice");

        var error = Assert.Throws<PatchException>(() => Apply(live, Deployment(replicas: 3, image: "nginx:2"), "bob"));

        Assert.Equal(
            "Apply failed with 2 conflicts: conflicts with \"alice\":\n- .spec.replicas\n- .spec.template.spec.containers[name=\"web\"].image",
            error.Message);
        Assert.Equal([".spec.replicas", ".spec.template.spec.containers[name=\"web\"].image"], error.Causes.Select(c => c.Field));
    }

    [Fact]
    public void Apply_Forced_TakesOwnershipFromTheOtherManager()
    {
        var live = Apply(null, Deployment(replicas: 2), "alice");

        var result = Apply(live, Deployment(replicas: 3), "bob", force: true);

        Assert.Equal(3, (int)result["spec"]!["replicas"]!);
        Assert.DoesNotContain(".spec.replicas", Owned(result, "alice"));
        Assert.Contains(".spec.replicas", Owned(result, "bob"));
    }

    [Fact]
    public void Apply_SameValueAsAnotherApplier_SharesOwnership()
    {
        var live = Apply(null, Deployment(replicas: 2), "alice");

        var shared = Apply(live, Deployment(replicas: 2), "bob");
        var aliceStops = Apply(shared, Deployment(replicas: null), "alice");

        Assert.Contains(".spec.replicas", Owned(shared, "alice"));
        Assert.Contains(".spec.replicas", Owned(shared, "bob"));
        Assert.Equal(2, (int)aliceStops["spec"]!["replicas"]!);
        Assert.DoesNotContain(".spec.replicas", Owned(aliceStops, "alice"));
    }

    [Fact]
    public void Apply_FieldNoLongerApplied_IsRemoved()
    {
        var live = Apply(null, Deployment(replicas: 2, labels: """{"app":"web","tier":"frontend"}"""), "alice");

        var result = Apply(live, Deployment(replicas: 2), "alice");

        Assert.Equal("""{"app":"web"}""", result["metadata"]!["labels"]!.ToJsonString());
        Assert.DoesNotContain(".metadata.labels.tier", Owned(result, "alice"));
    }

    [Fact]
    public void Apply_FieldNoLongerAppliedButOwnedByAnUpdater_IsKept()
    {
        var live = Apply(null, Deployment(replicas: 2), "alice");
        var updated = manager.Update(live, null, With(live, d => d["spec"]!["paused"] = true), "kubectl-patch", Deployments).Object;
        var reapplied = Apply(updated, Deployment(replicas: 2, paused: true), "alice");

        var result = Apply(reapplied, Deployment(replicas: 2), "alice");

        Assert.True((bool)result["spec"]!["paused"]!);
    }

    [Fact]
    public void Update_ChangingAnAppliedField_TakesItsOwnership()
    {
        var live = Apply(null, Deployment(replicas: 2), "alice");
        time.Advance(TimeSpan.FromMinutes(1));

        var scaled = manager.Update(live, null, With(live, d => d["spec"]!["replicas"] = 5), "hpa-controller", Deployments).Object;

        Assert.DoesNotContain(".spec.replicas", Owned(scaled, "alice"));
        Assert.Equal([".spec.replicas"], Owned(scaled, "hpa-controller"));
        var entries = scaled["metadata"]!["managedFields"]!.AsArray();
        Assert.Equal(["Apply", "Update"], entries.Select(e => (string)e!["operation"]!));
        Assert.Equal("2025-01-02T03:05:05Z", (string)entries[1]!["time"]!);
    }

    [Fact]
    public void Update_Create_RecordsEveryFieldWithDotsForNewMapsAndItems()
    {
        var body = Deployment(replicas: 1);

        var created = manager.Update(null, null, body, FieldManager.ManagerOrUserAgent(null, "kubectl/v1.32.0 (linux/amd64) kubernetes/abcdef"), Deployments).Object;

        var entry = Assert.Single(created["metadata"]!["managedFields"]!.AsArray())!;
        Assert.Equal("kubectl", (string)entry["manager"]!);
        Assert.Equal("Update", (string)entry["operation"]!);
        Assert.Equal(
            """{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{".":{},"f:replicas":{},"f:selector":{},"f:template":{".":{},"f:metadata":{".":{},"f:labels":{".":{},"f:app":{}}},"f:spec":{".":{},"f:containers":{".":{},"k:{\"name\":\"web\"}":{".":{},"f:image":{},"f:name":{}}}}}}}""",
            entry["fieldsV1"]!.ToJsonString(JsonValues.Relaxed));
    }

    [Fact]
    public void Update_WithoutChanges_RecordsNothing()
    {
        var live = Apply(null, Deployment(replicas: 2), "alice");

        var same = manager.Update(live, null, (JsonObject)live.DeepClone(), "kubectl-edit", Deployments).Object;

        Assert.Equal(live["metadata"]!["managedFields"]!.ToJsonString(), same["metadata"]!["managedFields"]!.ToJsonString());
    }

    [Fact]
    public void Update_WithOneEmptyEntry_ClearsManagedFields()
    {
        var live = Apply(null, Deployment(replicas: 2), "alice");

        var cleared = manager.Update(live, null, With(live, d => d["metadata"]!["managedFields"] = new JsonArray(new JsonObject())), "kubectl-patch", Deployments).Object;

        Assert.Null(cleared["metadata"]!["managedFields"]);
    }

    [Fact]
    public void Apply_ObjectWithoutManagedFields_ConflictsWithBeforeFirstApply()
    {
        var legacy = Deployment(replicas: 2);
        legacy["metadata"]!["uid"] = "u1";

        var error = Assert.Throws<PatchException>(() => Apply(legacy, Deployment(replicas: 3), "alice"));

        Assert.Equal("Apply failed with 1 conflict: conflict with \"before-first-apply\" using apps/v1: .spec.replicas", error.Message);
    }

    [Fact]
    public void Apply_TwoManagers_MergeContainersByName()
    {
        var live = Apply(null, Deployment(replicas: 2), "alice");
        var sidecar = JsonNode.Parse("""
            {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},
             "spec":{"template":{"spec":{"containers":[{"name":"proxy","image":"envoy"}]}}}}
            """)!.AsObject();

        var both = Apply(live, sidecar, "mesh");
        var aliceDropsWeb = Apply(both, JsonNode.Parse("""{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":2}}""")!.AsObject(), "alice");

        Assert.Equal(["web", "proxy"], Containers(both));
        Assert.Contains(".spec.template.spec.containers[name=\"proxy\"].image", Owned(both, "mesh"));
        Assert.Contains(".spec.template.spec.containers[name=\"web\"].image", Owned(both, "alice"));
        Assert.Equal(["proxy"], Containers(aliceDropsWeb));
    }

    [Fact]
    public void Apply_Ports_AreKeyedByContainerPortAndDefaultedProtocol()
    {
        var withPorts = JsonNode.Parse("""
            {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},
             "spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx","ports":[{"containerPort":80}]}]}}}}
            """)!.AsObject();

        var result = Apply(null, withPorts, "alice");

        Assert.Contains(".spec.template.spec.containers[name=\"web\"].ports[containerPort=80,protocol=\"TCP\"].containerPort", Owned(result, "alice"));
    }

    [Fact]
    public void Apply_Finalizers_AreASetOwnedValueByValue()
    {
        var live = Apply(null, With(Deployment(replicas: 1), d => d["metadata"]!["finalizers"] = new JsonArray("a.io/x")), "alice");

        var result = Apply(live, JsonNode.Parse("""{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","finalizers":["b.io/y"]}}""")!.AsObject(), "bob");

        Assert.Equal("""["a.io/x","b.io/y"]""", result["metadata"]!["finalizers"]!.ToJsonString());
        Assert.Contains(".metadata.finalizers[=\"b.io/y\"]", Owned(result, "bob"));
    }

    [Fact]
    public void Apply_StatusOnTheMainResource_IsNotOwned()
    {
        var result = Apply(null, With(Deployment(replicas: 1), d => d["status"] = new JsonObject { ["replicas"] = 1 }), "alice");

        Assert.DoesNotContain(Owned(result, "alice"), p => p.StartsWith(".status", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("""{"apiVersion":"apps/v1beta1","kind":"Deployment","metadata":{"name":"web"}}""", 400, "Incorrect version specified in apply patch. Specified patch version: apps/v1beta1, expected: apps/v1")]
    [InlineData("""{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","managedFields":[]}}""", 400, "metadata.managedFields must be nil")]
    [InlineData("""{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"other"}}""", 400, "the name of the object (other) does not match the name on the URL (web)")]
    [InlineData("""{"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"web","namespace":"ns"}}""", 500, "failed to create typed patch object (ns/web; apps/v1, Kind=StatefulSet): no corresponding type for apps/v1, Kind=StatefulSet")]
    [InlineData("""{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"template":{"spec":{"containers":[{"image":"x"}]}}}}""", 500, "failed to create typed patch object (/web; apps/v1, Kind=Deployment): .spec.template.spec.containers: element 0: associative list with keys has an element that omits key field \"name\" (and doesn't have default value)")]
    [InlineData("""["not","a","map"]""", 400, "error decoding YAML: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal array into Go value of type map[string]interface {}")]
    public void Apply_BadConfiguration_IsRejectedAsKubernetesDoes(string body, int code, string message)
    {
        var error = Assert.Throws<PatchException>(() => manager.ApplyPatch(null, ApplyPatchBody.Parse(body), "web", "alice", false, Deployments));

        Assert.Equal(code, error.Code);
        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void Apply_CustomResource_UsesTheCrdListTypes()
    {
        var schema = CrdSchema.ForVersion(JsonNode.Parse("""
            {"type":"object","properties":{"spec":{"type":"object","properties":{
              "shards":{"type":"array","x-kubernetes-list-type":"map","x-kubernetes-list-map-keys":["index"],
                "items":{"type":"object","properties":{"index":{"type":"integer"},"replicas":{"type":"integer"}}}},
              "tags":{"type":"array","x-kubernetes-list-type":"set","items":{"type":"string"}},
              "args":{"type":"array","items":{"type":"string"}}}}}}
            """)!.AsObject());
        var scope = new FieldManagerScope("moe.deepseek-operator.io/v1alpha1", "DeepSeekModel", schema);
        var first = manager.ApplyPatch(null, ApplyPatchBody.Parse("""
            apiVersion: moe.deepseek-operator.io/v1alpha1
            kind: DeepSeekModel
            metadata: {name: m}
            spec:
              shards: [{index: 0, replicas: 1}]
              tags: [a]
              args: [--x]
            """), "m", "alice", false, scope);

        var second = manager.ApplyPatch(first, ApplyPatchBody.Parse("""
            apiVersion: moe.deepseek-operator.io/v1alpha1
            kind: DeepSeekModel
            metadata: {name: m}
            spec:
              shards: [{index: 1, replicas: 2}]
              tags: [b]
            """), "m", "bob", false, scope);

        Assert.Equal("""{"shards":[{"index":0,"replicas":1},{"index":1,"replicas":2}],"tags":["a","b"],"args":["--x"]}""", second["spec"]!.ToJsonString());
        Assert.Equal([".spec.args", ".spec.shards[index=0]", ".spec.shards[index=0].index", ".spec.shards[index=0].replicas", ".spec.tags[=\"a\"]"], Owned(second, "alice"));
        var conflict = Assert.Throws<PatchException>(() => manager.ApplyPatch(second, ApplyPatchBody.Parse("""
            {"apiVersion":"moe.deepseek-operator.io/v1alpha1","kind":"DeepSeekModel","metadata":{"name":"m"},"spec":{"args":["--y"]}}
            """), "m", "bob", false, scope));
        Assert.Equal("Apply failed with 1 conflict: conflict with \"alice\": .spec.args", conflict.Message);
    }

    [Theory]
    [InlineData("my-controller", "kubectl/v1.32.0", "my-controller")]
    [InlineData(null, "kubectl/v1.32.0 (linux/amd64) kubernetes/abcdef", "kubectl")]
    [InlineData("", "dsop-operator", "dsop-operator")]
    [InlineData(null, "bad\u0001agent/1", "badagent")]
    [InlineData(null, null, "")]
    public void ManagerOrUserAgent_FollowsKubeApiserver(string? fieldManager, string? userAgent, string expected)
    {
        Assert.Equal(expected, FieldManager.ManagerOrUserAgent(fieldManager, userAgent));
    }

    private JsonObject Apply(JsonObject? live, JsonObject config, string name, bool force = false) =>
        manager.ApplyPatch(live, config.DeepClone(), "web", name, force, Deployments);

    private static JsonObject Deployment(int? replicas, string image = "nginx", string labels = """{"app":"web"}""", bool paused = false)
    {
        var deployment = JsonNode.Parse("""
            {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","labels":LABELS},
             "spec":{"selector":{"matchLabels":{"app":"web"}},
              "template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"IMAGE"}]}}}}
            """.Replace("LABELS", labels, StringComparison.Ordinal).Replace("IMAGE", image, StringComparison.Ordinal))!.AsObject();
        if (replicas is { } count)
        {
            deployment["spec"]!["replicas"] = count;
        }

        if (paused)
        {
            deployment["spec"]!["paused"] = true;
        }

        return deployment;
    }

    private static JsonObject With(JsonObject obj, Action<JsonObject> change)
    {
        var copy = (JsonObject)obj.DeepClone();
        change(copy);
        return copy;
    }

    private static string[] Owned(JsonObject obj, string name) =>
    [
        .. FieldManager.ReadManagedFields(obj)
            .Where(e => e.Manager == name)
            .SelectMany(e => e.Fields.Paths())
            .Select(PathElement.Format)
            .Order(StringComparer.Ordinal),
    ];

    private static string[] Containers(JsonObject deployment) =>
        [.. deployment["spec"]!["template"]!["spec"]!["containers"]!.AsArray().Select(c => (string)c!["name"]!)];

    private sealed class ManualTime(DateTimeOffset now) : TimeProvider
    {
        private DateTimeOffset now = now;

        public override DateTimeOffset GetUtcNow() => now;

        public void Advance(TimeSpan by) => now += by;
    }
}
