using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using k8s;

namespace DeepSeekOperator.DevCluster.Tests.Protobuf;

public sealed class ProtobufRequestTests : IAsyncLifetime
{
    private RunningApiServer? running;

    private RunningApiServer Running => running!;

    public async Task InitializeAsync() => running = await RunningApiServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (running is not null)
        {
            await running.DisposeAsync();
        }
    }

    [Fact]
    public async Task Create_ProtobufConfigMap_IsStoredAndAnsweredAsJson()
    {
        var response = await PostAsync("/api/v1/namespaces/default/configmaps", ConfigMap("settings", "mode", "fast"));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var read = await Running.Client.CoreV1.ReadNamespacedConfigMapAsync("settings", "default");
        Assert.Equal("fast", read.Data["mode"]);
    }

    [Fact]
    public async Task Update_ProtobufConfigMapWithTheCurrentResourceVersion_ReplacesTheData()
    {
        await PostAsync("/api/v1/namespaces/default/configmaps", ConfigMap("replaced", "mode", "fast"));
        var current = await Running.Client.CoreV1.ReadNamespacedConfigMapAsync("replaced", "default");

        var update = ProtoWriter.Envelope("v1", "ConfigMap", configMap => configMap
            .Message(1, meta => meta.String(1, "replaced").String(6, current.Metadata.ResourceVersion))
            .Entry(2, "mode", "slow"));
        using var response = await SendAsync(HttpMethod.Put, "/api/v1/namespaces/default/configmaps/replaced", update);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var read = await Running.Client.CoreV1.ReadNamespacedConfigMapAsync("replaced", "default");
        Assert.Equal("slow", read.Data["mode"]);
    }

    [Fact]
    public async Task Create_TruncatedProtobufBody_IsBadRequestNamingTheField()
    {
        var body = ConfigMap("cut", "key", "a value long enough to cut");

        using var response = await PostAsync("/api/v1/namespaces/default/configmaps", body[..^12]);

        var status = await StatusAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal("BadRequest", (string?)status["reason"]);
        Assert.StartsWith("the object provided is unrecognized (must be of type ConfigMap): protobuf field 2 of runtime.Unknown is truncated",
            (string?)status["message"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_ProtobufPodWithAFieldTheDevClusterDoesNotRead_IsBadRequestAskingForJson()
    {
        var body = ProtoWriter.Envelope("v1", "Pod", pod => pod
            .Message(1, meta => meta.String(1, "aliased"))
            .Message(2, spec => spec.Message(23, alias => alias.String(1, "10.0.0.1"))));

        using var response = await PostAsync("/api/v1/namespaces/default/pods", body);

        var status = await StatusAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal(
            "the object provided is unrecognized (must be of type Pod): protobuf field 23 of v1.PodSpec is not supported by the dev cluster; send JSON",
            (string?)status["message"]);
    }

    [Fact]
    public async Task Create_ProtobufBodyOfAKindWithoutASchema_IsUnsupportedMediaType()
    {
        var body = ProtoWriter.Envelope("batch/v1", "Job", job => job.Message(1, meta => meta.String(1, "j")));

        using var response = await PostAsync("/api/v1/namespaces/default/configmaps", body);

        var status = await StatusAsync(response, HttpStatusCode.UnsupportedMediaType);
        Assert.Equal("UnsupportedMediaType", (string?)status["reason"]);
        Assert.Contains("application/json, application/yaml", (string?)status["message"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_ProtobufServiceWithAZeroTargetPort_DefaultsTheTargetPortToThePort()
    {
        var body = ProtoWriter.Envelope("v1", "Service", service => service
            .Message(1, meta => meta.String(1, "api"))
            .Message(2, spec => spec
                .Message(1, port => port.String(1, "").String(2, "TCP").Varint(3, 8443).Int(4, 0).Varint(5, 0))
                .Entry(2, "app", "api")));

        using var response = await PostAsync("/api/v1/namespaces/default/services", body);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var read = await Running.Client.CoreV1.ReadNamespacedServiceAsync("api", "default");
        Assert.Equal("8443", read.Spec.Ports[0].TargetPort.Value);
    }

    private static byte[] ConfigMap(string name, string key, string value) =>
        ProtoWriter.Envelope("v1", "ConfigMap", configMap => configMap
            .Message(1, meta => meta.String(1, name).String(3, "default"))
            .Entry(2, key, value));


    private static async Task<JsonObject> StatusAsync(HttpResponseMessage response, HttpStatusCode code)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == code, $"expected {code}, got {response.StatusCode}: {text}");
        var status = JsonNode.Parse(text)!.AsObject();
        Assert.Equal("Status", (string?)status["kind"]);
        return status;
    }

    private Task<HttpResponseMessage> PostAsync(string path, byte[] body) => SendAsync(HttpMethod.Post, path, body);

    /// <summary>Sends <paramref name="body"/> as kubectl does, over the server's plain HTTP port.</summary>
    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, byte[] body)
    {
        using var http = new HttpClient { BaseAddress = Running.Server.HttpUri };
        using var request = new HttpRequestMessage(method, path) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/vnd.kubernetes.protobuf");
        request.Headers.Accept.ParseAdd("application/vnd.kubernetes.protobuf,application/json");
        var response = await http.SendAsync(request);
        await response.Content.LoadIntoBufferAsync();
        return response;
    }
}
