using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using DeepSeekOperator.Tests;

namespace DeepSeekOperator.DevCluster.Tests;

/// <summary>
/// The project CRD installed in the API server rejects every manifest of the API project's invalid test data with the
/// same field error its C# validation reports: the generated schema and CEL rules, evaluated as a cluster evaluates
/// them, agree with the C# twins.
/// </summary>
public sealed partial class CrdParityTests(CrdParityTests.ServerWithCrd fixture) : IClassFixture<CrdParityTests.ServerWithCrd>
{

    public static TheoryData<string> InvalidManifests()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(Repository.PathOf("tests/DeepSeekOperator.Api.Tests/testdata/invalid"), "*.yaml").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(file));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(InvalidManifests))]
    public async Task InvalidManifest_IsRejectedByTheServer_WithTheErrorTheApiTypesReport(string file)
    {
        var text = await File.ReadAllTextAsync(Repository.PathOf($"tests/DeepSeekOperator.Api.Tests/testdata/invalid/{file}"));
        var expected = ExpectedErrors().Matches(text).Select(m => Normalize(m.Groups[1].Value.Trim())).ToList();
        Assert.NotEmpty(expected);

        using var response = await PostYamlAsync("/apis/moe.deepseek-operator.io/v1alpha1/namespaces/default/deepseekmodels?fieldValidation=Strict", text);
        var status = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.True(response.StatusCode is HttpStatusCode.UnprocessableEntity or HttpStatusCode.BadRequest, $"{file}: {(int)response.StatusCode} {status.ToJsonString()}");
        var reported = response.StatusCode == HttpStatusCode.BadRequest
            ? [status["message"]!.ToString()]
            : ((JsonArray)status["details"]!["causes"]!).Select(c => Normalize($"{c!["field"]}: {c["message"]}")).ToList();
        foreach (var error in expected)
        {
            Assert.True(reported.Any(r => r == error || r.Contains(error, StringComparison.Ordinal) || UnknownField(error, r)), $"{file}: expected «{error}» among:\n{string.Join("\n", reported)}");
        }

        using var http = new HttpClient { BaseAddress = fixture.Running.Server.HttpUri };
        using var list = await http.GetAsync(new Uri("/apis/moe.deepseek-operator.io/v1alpha1/namespaces/default/deepseekmodels", UriKind.Relative));
        Assert.Empty(JsonNode.Parse(await list.Content.ReadAsStringAsync())!["items"]!.AsArray());
    }

    private async Task<HttpResponseMessage> PostYamlAsync(string path, string yaml)
    {
        using var http = new HttpClient { BaseAddress = fixture.Running.Server.HttpUri };
        using var content = new StringContent(yaml, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/yaml");
        return await http.PostAsync(new Uri(path, UriKind.Relative), content);
    }

    /// <summary>One server with the project CRD installed, shared by every case.</summary>
    public sealed class ServerWithCrd : IAsyncLifetime
    {
        internal RunningApiServer Running { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            Running = await RunningApiServer.StartAsync();
            using var http = new HttpClient { BaseAddress = Running.Server.HttpUri };
            using var content = new StringContent(await File.ReadAllTextAsync(Repository.PathOf("crds/deepseekmodels.moe.deepseek-operator.io.yaml")), Encoding.UTF8);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/yaml");
            using var response = await http.PostAsync(new Uri("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", UriKind.Relative), content);
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        }

        public async Task DisposeAsync() => await Running.DisposeAsync();
    }

    // Schema errors inside maps name the key with a dot, as kube-openapi does; the C# reader writes [key].
    private static string Normalize(string error) => MapKey().Replace(error, ".$1");

    // The C# reader reports an unknown field as a field error; the server as a strict decoding error naming it.
    private static bool UnknownField(string expected, string reported) =>
        expected.Contains("unknown field", StringComparison.Ordinal) && reported.Contains("unknown field \"" + expected.Split(':')[0] + "\"", StringComparison.Ordinal);

    [GeneratedRegex("^# error: (.*)$", RegexOptions.Multiline)]
    private static partial Regex ExpectedErrors();

    [GeneratedRegex(@"\[([A-Za-z0-9_.-]+)\]")]
    private static partial Regex MapKey();
}
