using System.Net;
using System.Net.Sockets;
using DeepSeekOperator.Controller.Prometheus;
using DeepSeekOperator.Serving.Tests.Discovery;

namespace DeepSeekOperator.Controller.Tests.Prometheus;

public sealed class PrometheusClientTests : IAsyncLifetime
{
    private const string Query = "sum by (component) (dsop_router_inflight_requests)";
    private static readonly HttpClient Http = new();
    private PrometheusStub _stub = null!;

    public async Task InitializeAsync() => _stub = await PrometheusStub.StartAsync();

    public async Task DisposeAsync() => await _stub.DisposeAsync();

    [Fact]
    public async Task Vector_SamplesHaveTheirLabelsTimestampsAndValues()
    {
        _stub.AnswerData("""
            {"resultType":"vector","result":[
              {"metric":{"__name__":"up","job":"router","instance":"10.0.0.1:8080"},"value":[1700000000.5,"1"]},
              {"metric":{"component":"shard","shard":"3"},"value":[1700000000.5,"2.5e+03"]}]}
            """);

        var vector = await Client().QueryVectorAsync(Query);

        Assert.Equal(2, vector.Samples.Count);
        Assert.Equal(new Dictionary<string, string> { ["__name__"] = "up", ["job"] = "router", ["instance"] = "10.0.0.1:8080" }, vector.Samples[0].Labels);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_500), vector.Samples[0].Timestamp);
        Assert.Equal(1, vector.Samples[0].Value);
        Assert.Equal("3", vector.Samples[1].Labels["shard"]);
        Assert.Equal(2500, vector.Samples[1].Value);
        Assert.Empty(vector.Warnings);
    }

    [Fact]
    public async Task Vector_NaNAndInfinities_AreReadAsTheDoublesTheyName()
    {
        _stub.AnswerData("""
            {"resultType":"vector","result":[
              {"metric":{"i":"0"},"value":[1,"NaN"]},
              {"metric":{"i":"1"},"value":[1,"+Inf"]},
              {"metric":{"i":"2"},"value":[1,"-Inf"]},
              {"metric":{"i":"3"},"value":[1,"-0.25"]}]}
            """);

        var values = (await Client().QueryVectorAsync(Query)).Samples.Select(s => s.Value).ToArray();

        Assert.True(double.IsNaN(values[0]));
        Assert.Equal([double.PositiveInfinity, double.NegativeInfinity, -0.25], values[1..]);
    }

    [Fact]
    public async Task Vector_EmptyResult_HasNoSamples()
    {
        _stub.AnswerData("""{"resultType":"vector","result":[]}""");

        Assert.Empty((await Client().QueryVectorAsync(Query)).Samples);
    }

    [Fact]
    public async Task Scalar_HasItsTimestampAndValue()
    {
        _stub.AnswerData("""{"resultType":"scalar","result":[1700000001.25,"42"]}""");

        var scalar = await Client().QueryScalarAsync("scalar(sum(up))");

        Assert.Equal(new PrometheusScalar(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_001_250), 42, []), scalar with { Warnings = [] });
        Assert.IsType<PrometheusScalar>(await Client().QueryAsync("scalar(sum(up))"));
    }

    [Fact]
    public async Task Warnings_AreKeptWithTheResult()
    {
        _stub.Answer(HttpStatusCode.OK, """
            {"status":"success","data":{"resultType":"vector","result":[]},"warnings":["partial result: store 2 unreachable"]}
            """);

        Assert.Equal(["partial result: store 2 unreachable"], (await Client().QueryVectorAsync(Query)).Warnings);
    }

    [Theory]
    [InlineData("matrix", """[{"metric":{},"values":[[1,"1"],[2,"2"]]}]""")]
    [InlineData("string", """[1,"hello"]""")]
    public async Task RangeVectorOrString_IsRefusedNamingTheResultTypeAndQuery(string resultType, string result)
    {
        _stub.AnswerData($$"""{"resultType":"{{resultType}}","result":{{result}}}""");

        var error = await Assert.ThrowsAsync<PrometheusQueryException>(() => Client().QueryAsync(Query));

        Assert.Equal(PrometheusFailure.UnexpectedResultType, error.Failure);
        Assert.Contains($"data.resultType is \"{resultType}\"", error.Message, StringComparison.Ordinal);
        Assert.Contains(Query, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task QueryVector_ScalarAnswer_IsRefused()
    {
        _stub.AnswerData("""{"resultType":"scalar","result":[1,"1"]}""");

        var error = await Assert.ThrowsAsync<PrometheusQueryException>(() => Client().QueryVectorAsync(Query));

        Assert.Equal(PrometheusFailure.UnexpectedResultType, error.Failure);
        Assert.Contains("not \"vector\"", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task QueryScalar_VectorAnswer_IsRefused()
    {
        _stub.AnswerData("""{"resultType":"vector","result":[]}""");

        var error = await Assert.ThrowsAsync<PrometheusQueryException>(() => Client().QueryScalarAsync(Query));

        Assert.Equal(PrometheusFailure.UnexpectedResultType, error.Failure);
        Assert.Contains("not \"scalar\"", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Query_IsAGetUnderTheServerPathWithTimeAndTimeout()
    {
        _stub.AnswerData("""{"resultType":"vector","result":[]}""");
        var client = Client(new Uri(_stub.BaseAddress, "prometheus"));

        await client.QueryVectorAsync(Query, DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_250), TimeSpan.FromSeconds(2.5));

        var request = Assert.Single(_stub.Requests);
        Assert.Equal("GET", request.Method);
        Assert.StartsWith("/prometheus/api/v1/query?", request.PathAndQuery, StringComparison.Ordinal);
        Assert.Equal(new Dictionary<string, string> { ["query"] = Query, ["time"] = "1700000000.250", ["timeout"] = "2500ms" }, request.Query);
    }

    [Fact]
    public async Task Query_WithoutTime_LeavesTheEvaluationTimeToPrometheusAndSendsTheDefaultTimeout()
    {
        _stub.AnswerData("""{"resultType":"vector","result":[]}""");

        await Client().QueryVectorAsync(Query);

        Assert.Equal(new Dictionary<string, string> { ["query"] = Query, ["timeout"] = "10000ms" }, Assert.Single(_stub.Requests).Query);
    }

    [Fact]
    public async Task LongQuery_IsSentAsAPostForm()
    {
        _stub.AnswerData("""{"resultType":"vector","result":[]}""");
        var query = "sum(up{instance=~\"" + string.Join('|', Enumerable.Range(0, 400).Select(i => $"10.0.{i / 250}.{i % 250}:8080")) + "\"})";

        await Client().QueryVectorAsync(query);

        var request = Assert.Single(_stub.Requests);
        Assert.Equal("POST", request.Method);
        Assert.Equal("/api/v1/query", request.PathAndQuery);
        Assert.Equal(query, request.Form["query"]);
        Assert.Equal("10000ms", request.Form["timeout"]);
    }

    [Theory]
    [InlineData(HttpStatusCode.BadRequest, "bad_data", "1:25: parse error: unclosed left parenthesis")]
    [InlineData(HttpStatusCode.UnprocessableEntity, "execution", "many-to-many matching not allowed")]
    [InlineData(HttpStatusCode.ServiceUnavailable, "timeout", "query timed out in expression evaluation")]
    public async Task PrometheusError_IsAQueryErrorWithItsTypeMessageAndTheQuery(HttpStatusCode status, string errorType, string message)
    {
        _stub.Answer(status, $$"""{"status":"error","errorType":"{{errorType}}","error":"{{message}}"}""");

        var error = await Assert.ThrowsAsync<PrometheusQueryException>(() => Client().QueryVectorAsync(Query));

        Assert.Equal(PrometheusFailure.QueryError, error.Failure);
        Assert.Equal(errorType, error.ErrorType);
        Assert.Equal(status, error.StatusCode);
        Assert.Equal(Query, error.Query);
        Assert.Contains($"{errorType}: {message}", error.Message, StringComparison.Ordinal);
        Assert.Contains($"query '{Query}'", error.Message, StringComparison.Ordinal);
        Assert.Contains(_stub.BaseAddress.ToString(), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HttpErrorWithoutPrometheusBody_IsAnHttpErrorWithTheStatusAndBody()
    {
        _stub.Answer(HttpStatusCode.Unauthorized, "<html>401 Authorization Required</html>", "text/html");

        var error = await Assert.ThrowsAsync<PrometheusQueryException>(() => Client().QueryVectorAsync(Query));

        Assert.Equal(PrometheusFailure.HttpError, error.Failure);
        Assert.Equal(HttpStatusCode.Unauthorized, error.StatusCode);
        Assert.Contains("HTTP 401 Unauthorized: <html>401 Authorization Required</html>", error.Message, StringComparison.Ordinal);
        Assert.Contains(Query, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not json at all", "the body is not JSON")]
    [InlineData("""["success"]""", "the body is a JSON array, not an object")]
    [InlineData("""{"data":{"resultType":"vector","result":[]}}""", "status is missing")]
    [InlineData("""{"status":"partial","data":{}}""", "status is \"partial\", not \"success\" or \"error\"")]
    [InlineData("""{"status":"success"}""", "data is missing")]
    [InlineData("""{"status":"success","data":{"result":[]}}""", "data.resultType is missing")]
    [InlineData("""{"status":"success","data":{"resultType":"histogram","result":[]}}""", "data.resultType is \"histogram\", not vector, scalar, matrix or string")]
    [InlineData("""{"status":"success","data":{"resultType":"vector"}}""", "data.result is missing")]
    [InlineData("""{"status":"success","data":{"resultType":"vector","result":{}}}""", "data.result is a JSON object, not an array")]
    [InlineData("""{"status":"success","data":{"resultType":"vector","result":[{"value":[1,"1"]}]}}""", "data.result[0].metric is missing")]
    [InlineData("""{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":1},"value":[1,"1"]}]}}""", "data.result[0].metric.a is a JSON number, not a string")]
    [InlineData("""{"status":"success","data":{"resultType":"vector","result":[{"metric":{}}]}}""", "data.result[0].value is missing")]
    [InlineData("""{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1]}]}}""", "data.result[0].value has 1 elements")]
    [InlineData("""{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":["1","1"]}]}}""", "data.result[0].value[0] is \"1\", not a timestamp in seconds")]
    [InlineData("""{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"abc"]}]}}""", "data.result[0].value[1] is \"abc\", not a number")]
    [InlineData("""{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"Infinity"]}]}}""", "data.result[0].value[1] is \"Infinity\", not a number")]
    [InlineData("""{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,2]}]}}""", "data.result[0].value[1] is 2, not a number in a string")]
    [InlineData("""{"status":"success","data":{"resultType":"scalar","result":{}}}""", "data.result is a JSON object, not an array")]
    [InlineData("""{"status":"success","data":{"resultType":"vector","result":[]},"warnings":"slow"}""", "warnings is a JSON string, not an array")]
    [InlineData("""{"status":"error","error":"boom"}""", "errorType is missing")]
    public async Task MalformedAnswer_IsAnErrorNamingTheField(string body, string expected)
    {
        _stub.Answer(HttpStatusCode.OK, body);

        var error = await Assert.ThrowsAsync<PrometheusQueryException>(() => Client().QueryAsync(Query));

        Assert.Equal(PrometheusFailure.MalformedAnswer, error.Failure);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Contains(Query, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoAnswerBeforeTheDeadline_IsATimeoutNamingTheQueryAndServer()
    {
        var time = new ManualTime();
        var received = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _stub.Hang(received);
        var client = new PrometheusClient(Http, new PrometheusClientOptions { Server = _stub.BaseAddress, Time = time });

        var query = client.QueryVectorAsync(Query, timeout: TimeSpan.FromSeconds(3));
        await received.Task.WaitAsync(TimeSpan.FromSeconds(10));
        time.Advance(TimeSpan.FromSeconds(2.9));
        Assert.False(query.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(0.1));
        var error = await Assert.ThrowsAsync<PrometheusQueryException>(() => query);

        Assert.Equal(PrometheusFailure.Timeout, error.Failure);
        Assert.Contains("no answer within 3 s", error.Message, StringComparison.Ordinal);
        Assert.Contains(Query, error.Message, StringComparison.Ordinal);
        Assert.Contains(_stub.BaseAddress.ToString(), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CallerCancels_CancellationIsNotReportedAsAFailure()
    {
        var received = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _stub.Hang(received);
        using var cancel = new CancellationTokenSource();

        var query = Client().QueryVectorAsync(Query, cancellationToken: cancel.Token);
        await received.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => query);
    }

    [Fact]
    public async Task ConnectionRefused_IsUnreachableNamingTheQueryAndServer()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var server = new Uri($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/");
        listener.Stop();

        var error = await Assert.ThrowsAsync<PrometheusQueryException>(() => Client(server).QueryVectorAsync(Query));

        Assert.Equal(PrometheusFailure.Unreachable, error.Failure);
        Assert.Contains(server.ToString(), error.Message, StringComparison.Ordinal);
        Assert.Contains(Query, error.Message, StringComparison.Ordinal);
        Assert.IsType<HttpRequestException>(error.InnerException);
    }

    [Fact]
    public async Task Authentication_IsSentAsTheAuthorizationHeader()
    {
        _stub.AnswerData("""{"resultType":"vector","result":[]}""");
        var tokenFile = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(tokenFile, "rotated-token\n");

            await Client(authentication: new PrometheusAuthentication.Basic("scraper", "s3cret")).QueryVectorAsync(Query);
            await Client(authentication: new PrometheusAuthentication.Bearer("static-token")).QueryVectorAsync(Query);
            await Client(authentication: new PrometheusAuthentication.BearerFile(tokenFile)).QueryVectorAsync(Query);
        }
        finally
        {
            File.Delete(tokenFile);
        }

        Assert.Equal(["Basic c2NyYXBlcjpzM2NyZXQ=", "Bearer static-token", "Bearer rotated-token"], _stub.Requests.Select(r => r.Authorization));
    }

    [Fact]
    public void Credentials_AreLeftOutOfToString()
    {
        Assert.Equal("Basic { Username = scraper }", new PrometheusAuthentication.Basic("scraper", "s3cret").ToString());
        Assert.DoesNotContain("static-token", new PrometheusAuthentication.Bearer("static-token").ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Options_RelativeServerOrNonPositiveTimeout_AreRejectedNamingTheField()
    {
        var relative = Assert.Throws<ArgumentException>(() => new PrometheusClient(Http, new PrometheusClientOptions { Server = new Uri("prometheus", UriKind.Relative) }));
        var timeout = Assert.Throws<ArgumentException>(() => new PrometheusClient(Http, new PrometheusClientOptions { Server = _stub.BaseAddress, Timeout = TimeSpan.Zero }));

        Assert.StartsWith("Server is prometheus", relative.Message, StringComparison.Ordinal);
        Assert.StartsWith("Timeout is 00:00:00", timeout.Message, StringComparison.Ordinal);
    }

    private PrometheusClient Client(Uri? server = null, PrometheusAuthentication? authentication = null) =>
        new(Http, new PrometheusClientOptions { Server = server ?? _stub.BaseAddress, Authentication = authentication });
}
