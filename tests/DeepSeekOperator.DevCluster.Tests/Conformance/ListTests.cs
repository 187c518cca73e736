using k8s;
using k8s.Models;

namespace DeepSeekOperator.DevCluster.Tests.Conformance;

/// <summary>Lists: label and field selectors, pages with limit and continue, and delete-collection.</summary>
public sealed class ListTests : IAsyncLifetime
{
    private RunningApiServer running = null!;

    private Kubernetes Client => running.Client;

    public async Task InitializeAsync() => running = await RunningApiServer.StartAsync();

    public async Task DisposeAsync() => await running.DisposeAsync();

    [Theory]
    [InlineData("app=web", new[] { "web-prod", "web-staging" })]
    [InlineData("app==web,env=prod", new[] { "web-prod" })]
    [InlineData("app!=web", new[] { "db-prod", "unlabelled" })]
    [InlineData("env in (prod,staging)", new[] { "db-prod", "web-prod", "web-staging" })]
    [InlineData("env notin (prod)", new[] { "unlabelled", "web-staging" })]
    [InlineData("env", new[] { "db-prod", "web-prod", "web-staging" })]
    [InlineData("!env", new[] { "unlabelled" })]
    [InlineData("app=web,env notin (staging)", new[] { "web-prod" })]
    public async Task List_WithLabelSelector_ReturnsTheMatchingObjects(string selector, string[] expected)
    {
        await CreateLabelledAsync("web-prod", ("app", "web"), ("env", "prod"));
        await CreateLabelledAsync("web-staging", ("app", "web"), ("env", "staging"));
        await CreateLabelledAsync("db-prod", ("app", "db"), ("env", "prod"));
        await CreateLabelledAsync("unlabelled");

        var list = await Client.CoreV1.ListNamespacedConfigMapAsync("default", labelSelector: selector);

        Assert.Equal(expected, list.Items.Select(i => i.Metadata.Name).Where(n => n != "kube-root-ca.crt").Order());
    }

    [Fact]
    public async Task List_WithMalformedLabelSelector_IsBadRequest()
    {
        var status = await Refusal.StatusOfAsync(() => Client.CoreV1.ListNamespacedConfigMapAsync("default", labelSelector: "env in prod"));

        Assert.Equal(400, status.Code);
        Assert.Equal("BadRequest", status.Reason);
    }

    [Fact]
    public async Task List_WithMetadataNameFieldSelector_ReturnsThatObject()
    {
        await CreateLabelledAsync("one");
        await CreateLabelledAsync("two");

        var list = await Client.CoreV1.ListNamespacedConfigMapAsync("default", fieldSelector: "metadata.name=two");
        var others = await Client.CoreV1.ListNamespacedConfigMapAsync("default", fieldSelector: "metadata.name!=two");

        Assert.Equal(["two"], list.Items.Select(i => i.Metadata.Name));
        Assert.DoesNotContain(others.Items, i => i.Metadata.Name == "two");
        Assert.Contains(others.Items, i => i.Metadata.Name == "one");
    }

    [Fact]
    public async Task List_OfPodsByStatusPhaseAndNodeName_ReturnsTheMatchingPods()
    {
        await CreatePodAsync("running-a", "node-a", "Running");
        await CreatePodAsync("running-b", "node-b", "Running");
        await CreatePodAsync("pending", null, "Pending");

        var runningPods = await Client.CoreV1.ListNamespacedPodAsync("default", fieldSelector: "status.phase=Running");
        var onNodeA = await Client.CoreV1.ListNamespacedPodAsync("default", fieldSelector: "spec.nodeName=node-a");
        var unscheduled = await Client.CoreV1.ListPodForAllNamespacesAsync(fieldSelector: "spec.nodeName=,status.phase!=Running");

        Assert.Equal(["running-a", "running-b"], runningPods.Items.Select(p => p.Metadata.Name).Order());
        Assert.Equal(["running-a"], onNodeA.Items.Select(p => p.Metadata.Name));
        Assert.Equal(["pending"], unscheduled.Items.Select(p => p.Metadata.Name));
    }

    [Fact]
    public async Task List_WithUnsupportedFieldSelector_IsBadRequest()
    {
        var status = await Refusal.StatusOfAsync(() => Client.CoreV1.ListNamespacedConfigMapAsync("default", fieldSelector: "data.key=value"));

        Assert.Equal(400, status.Code);
        Assert.Equal("BadRequest", status.Reason);
        Assert.Contains("data.key", status.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task List_InPagesWithLimitAndContinue_ReturnsEveryObjectExactlyOnceFromOneSnapshot()
    {
        var names = Enumerable.Range(0, 53).Select(i => $"item-{i:D3}").ToList();
        foreach (var name in names)
        {
            await CreateLabelledAsync(name, ("batch", "paged"));
        }

        var first = await Client.CoreV1.ListNamespacedConfigMapAsync("default", labelSelector: "batch=paged", limit: 10);
        Assert.Equal(10, first.Items.Count);
        Assert.False(string.IsNullOrEmpty(first.Metadata.ContinueProperty));
        await CreateLabelledAsync("item-999-late", ("batch", "paged"));

        var seen = first.Items.Select(i => i.Metadata.Name).ToList();
        var token = first.Metadata.ContinueProperty;
        var pages = 1;
        while (!string.IsNullOrEmpty(token))
        {
            var page = await Client.CoreV1.ListNamespacedConfigMapAsync("default", labelSelector: "batch=paged", limit: 10, continueParameter: token);
            Assert.Equal(first.Metadata.ResourceVersion, page.Metadata.ResourceVersion);
            Assert.InRange(page.Items.Count, 1, 10);
            seen.AddRange(page.Items.Select(i => i.Metadata.Name));
            token = page.Metadata.ContinueProperty;
            pages++;
        }

        Assert.Equal(6, pages);
        Assert.Equal(names, seen);
    }

    [Fact]
    public async Task List_WithoutSelector_ReportsRemainingItemCount()
    {
        var ns = await Objects.NamespaceAsync(Client, "paged");
        for (var i = 0; i < 5; i++)
        {
            await Client.CoreV1.CreateNamespacedSecretAsync(new V1Secret { Metadata = new V1ObjectMeta { Name = $"s{i}" } }, ns);
        }

        var page = await Client.CoreV1.ListNamespacedSecretAsync(ns, limit: 2);

        Assert.Equal(2, page.Items.Count);
        Assert.Equal(3, page.Metadata.RemainingItemCount);
    }

    [Fact]
    public async Task Continue_AfterTheListRevisionWasCompacted_IsExpired()
    {
        for (var i = 0; i < 5; i++)
        {
            await CreateLabelledAsync($"item-{i}");
        }

        var first = await Client.CoreV1.ListNamespacedConfigMapAsync("default", limit: 2);
        await CreateLabelledAsync("after-the-list");
        running.Server.Compact();

        var status = await Refusal.StatusOfAsync(
            () => Client.CoreV1.ListNamespacedConfigMapAsync("default", limit: 2, continueParameter: first.Metadata.ContinueProperty));

        Assert.Equal(410, status.Code);
        Assert.Equal("Expired", status.Reason);
        var fresh = await Client.CoreV1.ListNamespacedConfigMapAsync("default");
        Assert.Contains(fresh.Items, i => i.Metadata.Name == "after-the-list");
    }

    [Fact]
    public async Task DeleteCollection_WithLabelSelector_DeletesOnlyTheMatchingObjects()
    {
        await CreateLabelledAsync("web-1", ("app", "web"));
        await CreateLabelledAsync("web-2", ("app", "web"));
        await CreateLabelledAsync("db-1", ("app", "db"));

        await Client.CoreV1.DeleteCollectionNamespacedConfigMapAsync("default", labelSelector: "app=web");

        var left = await Client.CoreV1.ListNamespacedConfigMapAsync("default", labelSelector: "app");
        Assert.Equal(["db-1"], left.Items.Select(i => i.Metadata.Name));
    }

    private async Task CreateLabelledAsync(string name, params (string Key, string Value)[] labels) =>
        await Client.CoreV1.CreateNamespacedConfigMapAsync(
            Objects.ConfigMap(name, labels.Length == 0 ? null : labels.ToDictionary(l => l.Key, l => l.Value)), "default");

    private async Task CreatePodAsync(string name, string? nodeName, string phase)
    {
        var pod = await Client.CoreV1.CreateNamespacedPodAsync(Objects.Pod(name, nodeName), "default");
        pod.Status = new V1PodStatus { Phase = phase };
        await Client.CoreV1.ReplaceNamespacedPodStatusAsync(pod, name, "default");
    }
}
