using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace DeepSeekOperator.DevCluster.Tests;

/// <summary>
/// Requests kube-apiserver refuses before anything is stored, sent over plain HTTP as raw bytes: each answer is a
/// <c>metav1.Status</c> with kube-apiserver's code and reason, and the stored objects are the same afterwards.
/// </summary>
public sealed class BadRequestTests : IAsyncLifetime, IDisposable
{
    private const string ConfigMaps = "/api/v1/namespaces/default/configmaps";
    private const string Deployments = "/apis/apps/v1/namespaces/default/deployments";

    private RunningApiServer running = null!;
    private HttpClient http = null!;
    private string before = "";

    public async Task InitializeAsync()
    {
        running = await RunningApiServer.StartAsync();
        http = new HttpClient { BaseAddress = running.Server.HttpUri };
        using var seed = await http.PostAsync(ConfigMaps, Json("""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"seed"},"data":{"a":"1"}}"""));
        Assert.Equal(HttpStatusCode.Created, seed.StatusCode);
        before = await StoredStateAsync();
    }

    public async Task DisposeAsync() => await running.DisposeAsync();

    public void Dispose() => http.Dispose();

    [Fact]
    public async Task Create_MalformedJson_IsBadRequest()
    {
        using var response = await http.PostAsync(ConfigMaps, Json("""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"broken"}"""));

        await AssertStatusAsync(response, HttpStatusCode.BadRequest, "BadRequest");
        await AssertNothingStoredAsync();
    }

    [Fact]
    public async Task Create_ApiVersionNotTheUrls_IsBadRequest()
    {
        using var response = await http.PostAsync(ConfigMaps, Json("""{"apiVersion":"apps/v1","kind":"ConfigMap","metadata":{"name":"other"}}"""));

        var status = await AssertStatusAsync(response, HttpStatusCode.BadRequest, "BadRequest");
        Assert.Equal("the API version in the data (apps/v1) does not match the expected API version (v1)", (string?)status["message"]);
        await AssertNothingStoredAsync();
    }

    [Fact]
    public async Task Create_KindNotTheUrls_IsBadRequest()
    {
        using var response = await http.PostAsync(ConfigMaps, Json("""{"apiVersion":"v1","kind":"Secret","metadata":{"name":"other"}}"""));

        await AssertStatusAsync(response, HttpStatusCode.BadRequest, "BadRequest");
        await AssertNothingStoredAsync();
    }

    [Fact]
    public async Task Create_BodyOver3MiB_IsRequestEntityTooLarge()
    {
        using var response = await http.PostAsync(ConfigMaps, Json(LargeConfigMap()));

        await AssertStatusAsync(response, HttpStatusCode.RequestEntityTooLarge, "RequestEntityTooLarge");
        await AssertNothingStoredAsync();
    }

    [Fact]
    public async Task Create_ChunkedBodyOver3MiB_IsRequestEntityTooLarge()
    {
        using var content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(LargeConfigMap())));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, ConfigMaps) { Content = content };
        request.Headers.TransferEncodingChunked = true;

        using var response = await http.SendAsync(request);

        await AssertStatusAsync(response, HttpStatusCode.RequestEntityTooLarge, "RequestEntityTooLarge");
        await AssertNothingStoredAsync();
    }

    [Fact]
    public async Task Create_ConfigMapDataOver1MiB_IsInvalidWithKubeApiserversMessage()
    {
        var half = new string('x', 512 * 1024);
        using var response = await http.PostAsync(ConfigMaps, Json($$$"""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"big"},"data":{"a":"{{{half}}}","b":"{{{half}}}x"}}"""));

        var status = await AssertStatusAsync(response, HttpStatusCode.UnprocessableEntity, "Invalid");
        Assert.Equal("ConfigMap \"big\" is invalid: []: Too long: must have at most 1048576 bytes", (string?)status["message"]);
        await AssertNothingStoredAsync();
    }

    [Fact]
    public async Task Create_ConfigMapDataOf1MiBExactly_IsCreated()
    {
        var half = new string('x', 512 * 1024);
        using var response = await http.PostAsync(ConfigMaps, Json($$$"""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"full"},"data":{"a":"{{{half}}}","b":"{{{half}}}"}}"""));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Theory]
    [InlineData("/api/v1/namespaces/default/widgets")]
    [InlineData("/apis/example.com/v1/namespaces/default/widgets")]
    [InlineData("/apis/apps/v9/namespaces/default/deployments")]
    [InlineData("/api/v1/namespaces/default/configmaps/seed/scale")]
    public async Task Get_UnknownResourcePath_IsNotFoundStatus(string path)
    {
        using var response = await http.GetAsync(path);

        var status = await AssertStatusAsync(response, HttpStatusCode.NotFound, "NotFound");
        Assert.Equal("the server could not find the requested resource", (string?)status["message"]);
    }

    [Fact]
    public async Task Put_OnACollection_IsMethodNotAllowed()
    {
        using var response = await http.PutAsync(ConfigMaps, Json("""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"seed"},"data":{"a":"2"}}"""));

        await AssertStatusAsync(response, HttpStatusCode.MethodNotAllowed, "MethodNotAllowed");
        await AssertNothingStoredAsync();
    }

    [Fact]
    public async Task Create_WithUnsupportedContentType_IsUnsupportedMediaType()
    {
        using var content = new StringContent("""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"text"}}""", Encoding.UTF8, "text/plain");

        using var response = await http.PostAsync(ConfigMaps, content);

        await AssertStatusAsync(response, HttpStatusCode.UnsupportedMediaType, "UnsupportedMediaType");
        await AssertNothingStoredAsync();
    }

    [Theory]
    [InlineData("a===b", "unable to parse requirement: found '=', expected: identifier")]
    [InlineData("a in (b", "unable to parse requirement: found '', expected: ',' or ')'")]
    public async Task List_WithInvalidLabelSelector_IsBadRequestWithTheParsersMessage(string selector, string message)
    {
        using var response = await http.GetAsync($"{ConfigMaps}?labelSelector={Uri.EscapeDataString(selector)}");

        var status = await AssertStatusAsync(response, HttpStatusCode.BadRequest, "BadRequest");
        Assert.Contains(message, (string?)status["message"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_DeploymentWithStringReplicas_IsBadRequest()
    {
        using var response = await http.PostAsync(Deployments, Json(DeploymentWithReplicas("\"three\"")));

        var status = await AssertStatusAsync(response, HttpStatusCode.BadRequest, "BadRequest");
        Assert.Equal(
            "Deployment in version \"v1\" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32",
            (string?)status["message"]);
        await AssertNothingStoredAsync();
    }

    [Fact]
    public async Task Update_DeploymentWithStringReplicas_IsBadRequestAndKeepsTheStoredOne()
    {
        using var created = await http.PostAsync(Deployments, Json(DeploymentWithReplicas("1")));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var stored = await StoredStateAsync();

        using var response = await http.PutAsync($"{Deployments}/web", Json(DeploymentWithReplicas("\"three\"")));

        await AssertStatusAsync(response, HttpStatusCode.BadRequest, "BadRequest");
        Assert.Equal(stored, await StoredStateAsync());
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private static string LargeConfigMap() =>
        $$$"""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"large"},"data":{"a":"{{{new string('x', 3 * 1024 * 1024)}}}"}}""";

    private static string DeploymentWithReplicas(string replicas) =>
        """{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":""" + replicas +
        ""","selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"app","image":"nginx"}]}}}}""";

    private static async Task<JsonObject> AssertStatusAsync(HttpResponseMessage response, HttpStatusCode code, string reason)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == code, $"expected {(int)code}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var status = JsonNode.Parse(body)!.AsObject();
        Assert.Equal("Status", (string?)status["kind"]);
        Assert.Equal("Failure", (string?)status["status"]);
        Assert.Equal(reason, (string?)status["reason"]);
        Assert.Equal((int)code, (int?)status["code"]);
        return status;
    }

    /// <summary>The configmaps and deployments of the namespace as listed, resourceVersions included.</summary>
    private async Task<string> StoredStateAsync()
    {
        var configMaps = await http.GetStringAsync(ConfigMaps);
        var deployments = await http.GetStringAsync(Deployments);
        return configMaps + "\n" + deployments;
    }

    private async Task AssertNothingStoredAsync() => Assert.Equal(before, await StoredStateAsync());
}
