using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal.Query;

namespace DeepSeekOperator.DevCluster.Tests.Query;

public sealed class FieldSelectorTests
{
    [Theory]
    [InlineData("status.phase!=Running,metadata.name=foo", "metadata.name=foo,status.phase!=Running")]
    [InlineData("metadata.name==foo", "metadata.name=foo")]
    [InlineData(@"metadata.name=a\,b\=c\\d", @"metadata.name=a\,b\=c\\d")]
    [InlineData("metadata.name=", "metadata.name=")]
    [InlineData("", "")]
    [InlineData(",,metadata.name=x", "metadata.name=x")]
    public void TryParse_ValidSelector_ReadsBackEscaped(string text, string canonical)
    {
        Assert.True(FieldSelector.TryParse(text, out var selector, out var error), error);
        Assert.Equal(canonical, selector.ToString());
    }

    [Fact]
    public void TryParse_EscapedCharacters_AreUnescapedInTheValue()
    {
        Assert.True(FieldSelector.TryParse(@"metadata.name=a\,b\=c\\d", out var selector, out _));

        Assert.Equal(@"a,b=c\d", Assert.Single(selector.Requirements).Value);
    }

    [Theory]
    [InlineData("metadata.name", "invalid selector: 'metadata.name'; can't understand 'metadata.name'")]
    [InlineData("a=b,c", "invalid selector: 'a=b,c'; can't understand 'c'")]
    [InlineData(@"metadata.name=a\x", @"invalid field selector: invalid escape sequence: \x")]
    [InlineData(@"metadata.name=a\", @"invalid field selector: invalid escape sequence: \")]
    [InlineData("metadata.name=a=b", "invalid field selector: unescaped character in value: 61")]
    public void TryParse_InvalidSelector_GivesTheKubernetesMessage(string text, string message)
    {
        Assert.False(FieldSelector.TryParse(text, out _, out var error));
        Assert.Equal(message, error);
    }

    [Theory]
    [InlineData("", "pods", true, "field label not supported: spec.foo")]
    [InlineData("", "events", true, "field label not supported: spec.foo")]
    [InlineData("", "nodes", false, "field label not supported: spec.foo")]
    [InlineData("", "configmaps", true, "\"spec.foo\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\"")]
    [InlineData("apps", "replicasets", true, "\"spec.foo\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\"")]
    [InlineData("batch", "jobs", true, "field label \"spec.foo\" not supported for batchv1.Job")]
    public void TryConvert_UnsupportedField_IsRejectedWithTheKindsMessage(string group, string resource, bool namespaced, string message)
    {
        Assert.True(FieldSelector.TryParse("metadata.name=x,spec.foo=bar", out var selector, out _));

        Assert.False(FieldSelectorSupport.For(group, resource, namespaced).TryConvert(selector, out _, out var error));
        Assert.Equal(message, error);
    }

    [Fact]
    public void Pods_SelectOnPhaseNodeAndDefaultedHostNetwork()
    {
        var pods = FieldSelectorSupport.For("", "pods", namespaced: true);
        var pod = Pod("web-1", "node-a", "Running");

        Assert.True(Matches(pods, "status.phase=Running,spec.nodeName=node-a,spec.hostNetwork=false,metadata.namespace=default", pod));
        Assert.False(Matches(pods, "status.phase!=Running", pod));
        Assert.True(Matches(pods, "status.podIP=10.0.0.7", pod));
        Assert.Equal("node-a", pods.FieldsOf(pod)["spec.nodeName"]);
    }

    [Fact]
    public void Pods_LegacySpecHost_IsReadAsNodeName()
    {
        var pods = FieldSelectorSupport.For("", "pods", namespaced: true);
        Assert.True(FieldSelector.TryParse("spec.host=node-a", out var selector, out _));

        Assert.True(pods.TryConvert(selector, out var converted, out _));

        Assert.Equal("spec.nodeName=node-a", converted.ToString());
        Assert.True(pods.Matches(converted, Pod("web-1", "node-a", "Pending")));
    }

    [Fact]
    public void Events_SelectOnInvolvedObjectAndSource()
    {
        var events = FieldSelectorSupport.For("", "events", namespaced: true);
        var e = JsonNode.Parse("""
            {"metadata": {"name": "web-1.17", "namespace": "default"},
             "involvedObject": {"kind": "Pod", "name": "web-1", "namespace": "default"},
             "reason": "BackOff", "type": "Warning", "reportingComponent": "kubelet"}
            """)!.AsObject();

        Assert.True(Matches(events, "involvedObject.kind=Pod,involvedObject.name=web-1,type=Warning,reason=BackOff", e));
        Assert.True(Matches(events, "source=kubelet", e));
    }

    [Theory]
    [InlineData("", "secrets", """{"metadata": {"name": "s"}, "type": "Opaque"}""", "type=Opaque")]
    [InlineData("", "namespaces", """{"metadata": {"name": "ns"}, "status": {"phase": "Active"}}""", "status.phase=Active")]
    [InlineData("", "nodes", """{"metadata": {"name": "n"}, "spec": {"unschedulable": true}}""", "spec.unschedulable=true")]
    [InlineData("", "replicationcontrollers", """{"metadata": {"name": "rc"}, "status": {"replicas": 3}}""", "status.replicas=3")]
    [InlineData("batch", "jobs", """{"metadata": {"name": "j"}, "status": {"succeeded": 1}}""", "status.successful=1")]
    [InlineData("", "services", """{"metadata": {"name": "svc"}, "spec": {"clusterIP": "None", "type": "ClusterIP"}}""", "spec.clusterIP=None,spec.type=ClusterIP")]
    public void KindSpecificFields_MatchTheirValues(string group, string resource, string json, string selector)
    {
        var support = FieldSelectorSupport.For(group, resource, namespaced: resource is not ("namespaces" or "nodes"));

        Assert.True(Matches(support, selector, JsonNode.Parse(json)!.AsObject()));
    }

    [Fact]
    public void ClusterScopedResource_HasNoNamespaceValue()
    {
        var nodes = FieldSelectorSupport.For("", "nodes", namespaced: false);

        Assert.False(nodes.FieldsOf(new JsonObject { ["metadata"] = new JsonObject { ["name"] = "n" } }).ContainsKey("metadata.namespace"));
    }

    [Fact]
    public void CustomResource_SupportsItsSelectableFields()
    {
        var support = FieldSelectorSupport.ForCustomResource(namespaced: false, [".spec.color", ".spec.size"]);
        var obj = JsonNode.Parse("""{"metadata": {"name": "a"}, "spec": {"color": "blue", "size": 3}}""")!.AsObject();

        Assert.True(Matches(support, "spec.color=blue,spec.size=3,metadata.name=a", obj));
        Assert.True(FieldSelector.TryParse("metadata.namespace=x", out var selector, out _));
        Assert.False(support.TryConvert(selector, out _, out var error));
        Assert.Equal("field label not supported: metadata.namespace", error);
    }

    private static bool Matches(FieldSelectorSupport support, string text, JsonObject obj)
    {
        Assert.True(FieldSelector.TryParse(text, out var selector, out var error), error);
        Assert.True(support.TryConvert(selector, out var converted, out error), error);
        return support.Matches(converted, obj);
    }

    private static JsonObject Pod(string name, string node, string phase) => new()
    {
        ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = "default" },
        ["spec"] = new JsonObject { ["nodeName"] = node },
        ["status"] = new JsonObject { ["phase"] = phase, ["podIPs"] = new JsonArray(new JsonObject { ["ip"] = "10.0.0.7" }) },
    };
}
