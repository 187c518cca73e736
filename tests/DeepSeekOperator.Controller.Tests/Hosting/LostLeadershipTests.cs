using System.Net;
using DeepSeekOperator.Controller.Hosting;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace DeepSeekOperator.Controller.Tests.Hosting;

public sealed class LostLeadershipTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task LeaseTakenByAnother_LeaderStopsItsControllersAndTheHost()
    {
        await using var operators = await Operators.StartAsync();
        var a = await operators.StartHostAsync("operator-a");
        await Operators.LeaderAsync(Patience, a);

        await TakeLeaseAsync(operators, "intruder");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => a.Completion.WaitAsync(Patience));
        Assert.Equal("Lost leadership on Lease default/deepseek-operator", error.Message);
        Assert.False(a.IsLeader);
        Assert.Equal(0, await Operators.MetricAsync(a, "dsop_leader"));
        Assert.Equal((503, "stopping"), await Operators.GetAsync(a, "/readyz"));
        Assert.Equal("intruder", await operators.HolderAsync());
    }

    [Fact]
    public async Task LeaseTakenByAnother_NotExiting_StandsByThenLeadsAgainWithFreshControllers()
    {
        await using var operators = await Operators.StartAsync();
        var a = await operators.StartHostAsync("operator-a", options => options with { ExitOnLostLeadership = false });
        await Operators.LeaderAsync(Patience, a);

        await TakeLeaseAsync(operators, "intruder");
        await Operators.EventuallyAsync(() => Task.FromResult(!a.IsLeader), Patience, "leadership lost");
        Assert.Equal(0, await Operators.MetricAsync(a, "dsop_leader"));
        Assert.Equal((200, "standing by; the lease is held by intruder"), await Operators.GetAsync(a, "/readyz"));

        await operators.CreateConfigMapAsync("later");
        await operators.StampedAsync("later", "operator-a", Patience);
        Assert.True(a.IsLeader);
        Assert.False(a.Completion.IsCompleted);
        Assert.Equal(1, await Operators.MetricAsync(a, "dsop_leader"));
    }

    // Writes another holder into the Lease, as a replica that took it over would, for longer than the leader's
    // renew deadline (so that it gives up) and short enough for it to lead again within the tests' patience.
    private static async Task TakeLeaseAsync(Operators operators, string holder)
    {
        while (true)
        {
            var lease = await operators.Client.CoordinationV1.ReadNamespacedLeaseAsync(OperatorHostOptions.DefaultLeaseName, "default");
            var now = DateTime.UtcNow;
            lease.Spec = new V1LeaseSpec { HolderIdentity = holder, LeaseDurationSeconds = 6, AcquireTime = now, RenewTime = now, LeaseTransitions = lease.Spec.LeaseTransitions + 1 };
            try
            {
                await operators.Client.CoordinationV1.ReplaceNamespacedLeaseAsync(lease, lease.Metadata.Name, "default");
                return;
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
            {
                // The leader renewed in between; read it again.
            }
        }
    }
}
