using Portcullis.Lab.Tunnel;

namespace Portcullis.Lab.Gateway;

/// <summary>The policy's answers as a stock client sees them: NAT-PMP result codes through libnatpmp.</summary>
[Collection(LabCollection.Name)]
public sealed class PolicyTests
{
    [Fact]
    public async Task MaxPerPeer_OneMoreMapping_AnsweredOutOfResources()
    {
        await using var lab = await GatewayLab.StartAsync(new GatewayLabOptions { MaxPerPeer = 2 });
        await NatPmpClient.MapCheckedAsync(lab.ClientA, "tcp", 8080);
        await NatPmpClient.MapCheckedAsync(lab.ClientA, "udp", 8080);

        var third = await NatPmpClient.MapAsync(lab.ClientA, "tcp", 0, 8081, 600);

        Assert.False(third.Mapped, third.ToString());
        Assert.Equal(NatPmpClient.OutOfResources, third.ErrorCode);
        // The quota is per peer: B still gets its own.
        await NatPmpClient.MapCheckedAsync(lab.ClientB, "tcp", 8081);
    }

    [Fact]
    public async Task RateLimit_BurstSpent_AnsweredOutOfResources()
    {
        await using var lab = await GatewayLab.StartAsync(new GatewayLabOptions
        {
            MaxPerPeer = 10,
            ExtraForwarding = "requests_per_second = 1\nburst = 2",
        });

        var outcomes = new List<NatPmpOutcome>();
        for (var port = 8080; port < 8085; port++)
            outcomes.Add(await NatPmpClient.MapAsync(lab.ClientA, "tcp", 0, port, 600));

        Assert.True(outcomes[0].Mapped, outcomes[0].ToString());
        Assert.Contains(outcomes, o => o.ErrorCode == NatPmpClient.OutOfResources);
        // The limit is per peer: B is not slowed by A.
        await NatPmpClient.MapCheckedAsync(lab.ClientB, "tcp", 8080);
    }

    [Fact]
    public async Task ForwardingDisabled_AnyRequest_AnsweredNotAuthorized()
    {
        await using var lab = await GatewayLab.StartAsync(new GatewayLabOptions { ForwardingEnabled = false });

        var outcome = await NatPmpClient.MapAsync(lab.ClientA, "tcp", 0, 8080, 600);

        Assert.False(outcome.Mapped, outcome.ToString());
        Assert.Equal(NatPmpClient.NotAuthorized, outcome.ErrorCode);
        Assert.DoesNotContain($": {GatewayLab.AddressA} .", await lab.RulesetAsync(), StringComparison.Ordinal);
    }
}
