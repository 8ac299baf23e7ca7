using Portcullis.Client.PortForwarding;
using Portcullis.PortMapping;
using Portcullis.Testing;

namespace Portcullis.Client.Tests.PortForwarding;

// The keeper's decisions on virtual time, against the real server over loopback.
public sealed class PortKeeperTests
{
    [Fact]
    public async Task Start_MapsOverPcp_LeaseAndEventCarryPortAndExpiry()
    {
        await using var rig = await KeeperRig.StartAsync("tcp:8080");

        await KeeperRig.Eventually(() => rig.Keeper.Current is not null, "first mapping");

        var lease = rig.Keeper.Current!;
        Assert.Equal(40000, lease.ExternalPort);
        Assert.Equal(8080, lease.InternalPort);
        Assert.Equal(ForwardProtocol.Tcp, lease.Protocol);
        Assert.Equal(AuthorityDouble.Public, lease.ExternalAddress);
        Assert.Equal(rig.Time.GetUtcNow() + TimeSpan.FromSeconds(600), lease.Expires);
        Assert.Equal(lease, Assert.Single(rig.Changes));
        var call = Assert.Single(rig.Authority.MapCalls);
        Assert.Equal(12, call.Nonce!.Value.Length);
        Assert.Equal(TimeSpan.FromHours(1), call.Lifetime);
    }

    [Fact]
    public async Task Refresh_AtHalfTheGrantedLifetime_NotBefore()
    {
        await using var rig = await KeeperRig.StartAsync("tcp:8080");
        await KeeperRig.Eventually(() => rig.Keeper.Current is not null, "first mapping");

        await rig.Time.AdvanceAsync(TimeSpan.FromSeconds(299));
        await KeeperRig.Quiet();
        Assert.Single(rig.Authority.MapCalls);

        await rig.Time.AdvanceAsync(TimeSpan.FromSeconds(1));
        await KeeperRig.Eventually(() => rig.Authority.MapCalls.Count == 2, "refresh at 300 s");
        await KeeperRig.Eventually(() => rig.ChangeCount == 2, "lease expiry moved");
        var calls = rig.Authority.MapCalls;
        Assert.Equal(calls[0].Nonce!.Value.ToArray(), calls[1].Nonce!.Value.ToArray());
        Assert.Equal(40000, calls[1].SuggestedExternalPort);
        Assert.Equal(rig.Time.GetUtcNow() + TimeSpan.FromSeconds(600), rig.Keeper.Current!.Expires);
    }

    [Fact]
    public async Task Refresh_RefreshFractionConfigured_UsesIt()
    {
        await using var rig = await KeeperRig.StartAsync("tcp:8080", o => o with { RefreshFraction = 0.75 });
        await KeeperRig.Eventually(() => rig.Keeper.Current is not null, "first mapping");

        await rig.Time.AdvanceAsync(TimeSpan.FromSeconds(449));
        await KeeperRig.Quiet();
        Assert.Single(rig.Authority.MapCalls);
        await rig.Time.AdvanceAsync(TimeSpan.FromSeconds(1));
        await KeeperRig.Eventually(() => rig.Authority.MapCalls.Count == 2, "refresh at 450 s");
    }

    [Fact]
    public async Task EpochGoesBack_InOneAnswer_OtherMappingMappedAgainAtOnce()
    {
        // UDP's lease is long, so without the epoch rule it would not be asked for until 1800 s.
        await using var rig = await KeeperRig.StartAsync("both:8080");
        rig.Authority.UdpLifetime = TimeSpan.FromSeconds(3600);
        await KeeperRig.Eventually(() => rig.Authority.MapCalls.Count == 2, "tcp and udp mapped");

        rig.Authority.ResetEpochOnly();
        await rig.Time.AdvanceAsync(TimeSpan.FromSeconds(300));

        await KeeperRig.Eventually(() => rig.Authority.MapCalls.Count == 4, "tcp refresh, then udp mapped again");
        var calls = rig.Authority.MapCalls;
        Assert.Equal(MappingProtocol.Tcp, calls[2].Protocol);
        Assert.Equal(MappingProtocol.Udp, calls[3].Protocol);
    }

    [Fact]
    public async Task EpochConsistent_OnRefresh_NothingElseAsked()
    {
        await using var rig = await KeeperRig.StartAsync("both:8080");
        rig.Authority.UdpLifetime = TimeSpan.FromSeconds(3600);
        await KeeperRig.Eventually(() => rig.Authority.MapCalls.Count == 2, "tcp and udp mapped");

        await rig.Time.AdvanceAsync(TimeSpan.FromSeconds(300));

        await KeeperRig.Eventually(() => rig.Authority.MapCalls.Count == 3, "tcp refresh");
        await KeeperRig.Quiet();
        Assert.Equal(3, rig.Authority.MapCalls.Count);
    }

    [Fact]
    public async Task GatewayLostState_RefreshGetsNewPort_LeaseChangedWithIt()
    {
        await using var rig = await KeeperRig.StartAsync("tcp:8080");
        await KeeperRig.Eventually(() => rig.Keeper.Current is not null, "first mapping");

        rig.Authority.LoseState();
        await rig.Time.AdvanceAsync(TimeSpan.FromSeconds(300));

        await KeeperRig.Eventually(() => rig.Keeper.Current?.ExternalPort == 41000, "the new port");
        Assert.Equal(41000, rig.Changes[^1].ExternalPort);
    }

    [Fact]
    public async Task RefreshRefused_LeaseDropped_MappedAgainAfterBackoff()
    {
        await using var rig = await KeeperRig.StartAsync("tcp:8080");
        await KeeperRig.Eventually(() => rig.Keeper.Current is not null, "first mapping");

        rig.Authority.RefuseNext = 1;
        await rig.Time.AdvanceAsync(TimeSpan.FromSeconds(300));
        await KeeperRig.Eventually(() => rig.Keeper.Current is null, "lease dropped after the refusal");

        await rig.Time.AdvanceAsync(TimeSpan.FromSeconds(1));
        await KeeperRig.Eventually(() => rig.Keeper.Current is not null, "mapped again");
        Assert.Equal(40000, rig.Keeper.Current!.ExternalPort);
        Assert.Equal(3, rig.Authority.MapCalls.Count);
    }

    [Fact]
    public async Task Announce_FromTheGateway_MapsAgainWithoutWaiting()
    {
        await using var rig = await KeeperRig.StartAsync("tcp:8080");
        await KeeperRig.Eventually(() => rig.Keeper.Current is not null, "first mapping");

        rig.Authority.LoseState();
        Assert.Equal(1, rig.Server.Announce([KeeperRig.ClientAddress]));

        await KeeperRig.Eventually(() => rig.Keeper.Current?.ExternalPort == 41000, "mapped again after the announcement");
    }

    [Fact]
    public async Task EpochProbe_GatewayLostStateSilently_MappedAgainAtTheNextProbe()
    {
        await using var rig = await KeeperRig.StartAsync("tcp:8080");
        await KeeperRig.Eventually(() => rig.Keeper.Current is not null, "first mapping");

        rig.Authority.LoseState(); // no announcement reaches the client, and the refresh is 300 s away
        await rig.Time.AdvanceAsync(TimeSpan.FromSeconds(14));
        await KeeperRig.Quiet();
        Assert.Equal((ushort)40000, rig.Keeper.Current?.ExternalPort);

        await rig.Time.AdvanceAsync(TimeSpan.FromSeconds(1));
        await KeeperRig.Eventually(() => rig.Keeper.Current?.ExternalPort == 41000, "mapped again after the 15 s probe");
    }

    [Fact]
    public async Task EpochProbe_TurnedOff_LostStateNoticedOnlyAtRefresh()
    {
        await using var rig = await KeeperRig.StartAsync("tcp:8080", o => o with { EpochCheckInterval = TimeSpan.Zero });
        await KeeperRig.Eventually(() => rig.Keeper.Current is not null, "first mapping");

        rig.Authority.LoseState();
        await rig.Time.AdvanceAsync(TimeSpan.FromSeconds(15));
        await KeeperRig.Quiet();
        Assert.Equal((ushort)40000, rig.Keeper.Current?.ExternalPort);
        Assert.Single(rig.Authority.MapCalls);
    }

    [Fact]
    public async Task NoAnswer_GatewayDown_MapsAgainWhenItReturns()
    {
        await using var rig = await KeeperRig.StartAsync("tcp:8080");
        await KeeperRig.Eventually(() => rig.Keeper.Current is not null, "first mapping");
        var port = rig.Server.LocalEndPoint!.Port;
        await rig.Server.DisposeAsync();

        rig.Authority.LoseState();
        await rig.Time.AdvanceAsync(TimeSpan.FromSeconds(300));
        await Task.Delay(500); // the refresh goes unanswered (or, if slower, meets the returned gateway: the same outcome)
        await rig.StartServerAsync(port);
        await rig.Time.AdvanceAsync(TimeSpan.FromSeconds(1));

        await KeeperRig.Eventually(() => rig.Keeper.Current?.ExternalPort == 41000, "mapped again at the returned gateway");
    }

    [Fact]
    public async Task Dispose_DeletesTheMapping()
    {
        var rig = await KeeperRig.StartAsync("tcp:8080");
        try
        {
            await KeeperRig.Eventually(() => rig.Keeper.Current is not null, "first mapping");
            Assert.Equal(1, rig.Authority.Count);

            await rig.Keeper.DisposeAsync();

            Assert.Equal(0, rig.Authority.Count);
            Assert.Equal(TimeSpan.Zero, rig.Authority.MapCalls[^1].Lifetime);
            Assert.Null(rig.Keeper.Current);
        }
        finally
        {
            await rig.DisposeAsync();
        }
    }

    [Fact]
    public async Task NewPort_PublishedToPortFileAndHook()
    {
        var directory = Directory.CreateTempSubdirectory("portkeeper-");
        try
        {
            var file = Path.Combine(directory.FullName, "port");
            var hookOut = Path.Combine(directory.FullName, "hook");
            await using var rig = await KeeperRig.StartAsync("tcp:8080", o => o with
            {
                PortFile = file,
                OnPortChange = $"echo \"$PORTCULLIS_PORT {{port}}\" >> '{hookOut}'",
            });
            await KeeperRig.Eventually(() => File.Exists(hookOut), "hook ran");
            Assert.Equal("40000\n", File.ReadAllText(file));
            Assert.Equal("40000 40000\n", File.ReadAllText(hookOut));

            await rig.Time.AdvanceAsync(TimeSpan.FromSeconds(300)); // same port: no second run
            await KeeperRig.Eventually(() => rig.ChangeCount == 2, "refreshed");
            rig.Authority.LoseState();
            await rig.Time.AdvanceAsync(TimeSpan.FromSeconds(300));
            await KeeperRig.Eventually(() => File.ReadAllText(hookOut).Contains("41000", StringComparison.Ordinal), "hook saw the new port");

            Assert.Equal("41000\n", File.ReadAllText(file));
            Assert.Equal("40000 40000\n41000 41000\n", File.ReadAllText(hookOut));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
}
