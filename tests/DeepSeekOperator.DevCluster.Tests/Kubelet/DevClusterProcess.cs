using DeepSeekOperator.DevCluster.Internal.Kubelet;
using Microsoft.Extensions.Logging.Abstractions;

namespace DeepSeekOperator.DevCluster.Tests.Kubelet;

/// <summary>
/// The entry point of this test assembly when a test runs it as a separate process (<c>dotnet
/// DeepSeekOperator.DevCluster.Tests.dll dev-cluster &lt;root&gt;</c>): an API server with a pod runner beside it, as
/// <see cref="PodRunnerCluster"/> starts them, that prints its plain-HTTP address and runs until its standard input
/// closes, so that a test can kill it abruptly and see what happens to its pods' processes.
/// </summary>
internal static class DevClusterProcess
{
    public static async Task<int> Main(string[] args)
    {
        if (args is not ["dev-cluster", var root])
        {
            await Console.Error.WriteLineAsync("usage: dev-cluster <root directory>");
            return 2;
        }

        await using var server = await ApiServer.StartAsync(new ApiServerOptions());
        var runner = new PodRunner(server.Objects, PodRunnerCluster.Options(root, 90), NullLoggerFactory.Instance);
        server.RunBeside(runner.RunAsync);
        Console.WriteLine(server.HttpUri);
        await Console.In.ReadToEndAsync();
        return 0;
    }
}
