using Portcullis.Gateway.Forwarding;
using Portcullis.Gateway.Kernel;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Tests.Forwarding;

public sealed class PolicyTests
{
    [Fact]
    public void Map_PeerAtQuota_QuotaExceededButRefreshStillWorks()
    {
        using var h = new ForwardingHarness(new ForwardingPolicy { MaxPerPeer = 2 });
        var client = h.Connect(2);
        h.Map(client, MappingProtocol.Tcp, 1000);
        h.Map(client, MappingProtocol.Udp, 1000);

        var third = h.Map(client, MappingProtocol.Tcp, 1001);
        var refresh = h.Map(client, MappingProtocol.Tcp, 1000);
        h.Delete(client, MappingProtocol.Udp, 1000);
        var afterDelete = h.Map(client, MappingProtocol.Tcp, 1001);

        Assert.Equal(MapStatus.QuotaExceeded, third.Status);
        Assert.Equal(MapStatus.Success, refresh.Status);
        Assert.Equal(MapStatus.Success, afterDelete.Status);
        Assert.Equal(2, h.Table.Entries.Count);
    }

    [Fact]
    public void Map_QuotaIsPerPeer_AnotherPeerUnaffected()
    {
        using var h = new ForwardingHarness(new ForwardingPolicy { MaxPerPeer = 1 });
        var alice = h.Connect(2);
        var bob = h.Connect(3);
        h.Map(alice, MappingProtocol.Tcp, 1000);

        Assert.Equal(MapStatus.QuotaExceeded, h.Map(alice, MappingProtocol.Tcp, 1001).Status);
        Assert.Equal(MapStatus.Success, h.Map(bob, MappingProtocol.Tcp, 1000).Status);
    }

    [Fact]
    public void Map_BeyondBurst_NoResourcesUntilTokensReturn()
    {
        using var h = new ForwardingHarness(new ForwardingPolicy { RequestsPerSecond = 2, Burst = 3 });
        var client = h.Connect(2);
        var other = h.Connect(3);

        var burst = Enumerable.Range(0, 3).Select(_ => h.Map(client, MappingProtocol.Tcp, 1000).Status).ToList();
        var limited = h.Map(client, MappingProtocol.Tcp, 1000);
        var deleteAllLimited = h.Service.DeleteAll(client, MappingProtocol.Tcp);
        var otherPeer = h.Map(other, MappingProtocol.Tcp, 1000);
        h.Time.Advance(TimeSpan.FromMilliseconds(500));
        var afterRefill = h.Map(client, MappingProtocol.Tcp, 1000);

        Assert.All(burst, s => Assert.Equal(MapStatus.Success, s));
        Assert.Equal(MapStatus.NoResources, limited.Status);
        Assert.Equal(MapStatus.NoResources, deleteAllLimited.Status);
        Assert.Equal(MapStatus.Success, otherPeer.Status);
        Assert.Equal(MapStatus.Success, afterRefill.Status);
        // The public-address query is not rate limited: natpmpc sends one before every mapping.
        Assert.Equal(MapStatus.Success, h.Service.GetPublicAddress(client).Status);
    }

    [Fact]
    public void Requests_ForwardingDisabled_NotAuthorizedAndKernelUntouched()
    {
        using var h = new ForwardingHarness(new ForwardingPolicy { Enabled = false });
        var client = h.Connect(2);

        Assert.Equal(MapStatus.NotAuthorized, h.Map(client, MappingProtocol.Tcp, 8080).Status);
        Assert.Equal(MapStatus.NotAuthorized, h.Delete(client, MappingProtocol.Tcp, 8080).Status);
        Assert.Equal(MapStatus.NotAuthorized, h.Service.DeleteAll(client, MappingProtocol.Tcp).Status);
        Assert.Equal(MapStatus.NotAuthorized, h.Service.GetPublicAddress(client).Status);
        Assert.Empty(h.Table.Updates);
    }

    [Fact]
    public void UpdatePolicy_Disable_RemovesEveryMappingAndRefusesThenEnableServesAgain()
    {
        using var h = new ForwardingHarness();
        var alice = h.Connect(2);
        var bob = h.Connect(3);
        h.Map(alice, MappingProtocol.Tcp, 8080);
        h.Map(bob, MappingProtocol.Udp, 9090);

        h.Service.UpdatePolicy(new ForwardingPolicy { Enabled = false });
        var whileDisabled = h.Map(alice, MappingProtocol.Tcp, 8080);
        Assert.Empty(h.Table.Entries);
        h.Service.UpdatePolicy(new ForwardingPolicy());
        var enabledAgain = h.Map(alice, MappingProtocol.Tcp, 8080);

        Assert.Equal(MapStatus.NotAuthorized, whileDisabled.Status);
        Assert.Equal(MapStatus.Success, enabledAgain.Status);
        Assert.Single(h.Table.Entries);
    }

    [Fact]
    public void UpdatePolicy_NarrowerRangeAndBlockedInternalPort_RemovesOnlyWhatIsNoLongerAllowed()
    {
        using var h = new ForwardingHarness(new ForwardingPolicy { AllowSuggestedPort = true, PortRange = new PortRange(30000, 30100) });
        var client = h.Connect(2);
        h.Map(client, MappingProtocol.Tcp, 1000, suggested: 30010);
        h.Map(client, MappingProtocol.Tcp, 1001, suggested: 30090);
        h.Map(client, MappingProtocol.Tcp, 3389, suggested: 30020);

        h.Service.UpdatePolicy(new ForwardingPolicy
        {
            PortRange = new PortRange(30000, 30050),
            BlockedInternalPorts = new HashSet<ushort> { 3389 },
        });

        Assert.Equal((ushort)30010, Assert.Single(h.Table.Entries).PublicPort);
        Assert.Equal(MapStatus.NotAuthorized, h.Map(client, MappingProtocol.Tcp, 3389).Status);
    }

    [Fact]
    public void UpdatePolicy_KernelRefuses_ThrowsAndOldPolicyStays()
    {
        using var h = new ForwardingHarness();
        var client = h.Connect(2);
        h.Map(client, MappingProtocol.Tcp, 8080);
        var old = h.Service.Policy;
        h.Table.Failing = true;

        Assert.Throws<ForwardingTableException>(() => h.Service.UpdatePolicy(new ForwardingPolicy { Enabled = false }));

        Assert.Same(old, h.Service.Policy);
        Assert.Single(h.Service.Mappings);
        Assert.Single(h.Table.Entries);
    }

    [Fact]
    public void UpdatePolicy_LowerRate_AppliesToLiveSessions()
    {
        using var h = new ForwardingHarness();
        var client = h.Connect(2);

        h.Service.UpdatePolicy(new ForwardingPolicy { RequestsPerSecond = 1, Burst = 1 });

        Assert.Equal(MapStatus.Success, h.Map(client, MappingProtocol.Tcp, 8080).Status);
        Assert.Equal(MapStatus.NoResources, h.Map(client, MappingProtocol.Tcp, 8080).Status);
    }

    [Theory]
    [InlineData(1, 120)]
    [InlineData(119, 120)]
    [InlineData(120, 120)]
    [InlineData(1800, 1800)]
    [InlineData(3600, 3600)]
    [InlineData(86400, 3600)]
    public void Map_Lifetime_ClampedToPolicyBounds(int requested, int granted)
    {
        using var h = new ForwardingHarness();
        var client = h.Connect(2);

        var result = h.Map(client, MappingProtocol.Tcp, 8080, lifetimeSeconds: requested);

        Assert.Equal(TimeSpan.FromSeconds(granted), result.Lifetime);
        Assert.Equal(TimeSpan.FromSeconds(granted) + MapDecisions.KernelExpirySlack, Assert.Single(h.Table.Entries).Timeout);
    }

    [Theory]
    [InlineData(25)]
    [InlineData(445)]
    [InlineData(5351)]
    public void Map_BlockedInternalPort_NotAuthorized(ushort internalPort)
    {
        using var h = new ForwardingHarness();
        var client = h.Connect(2);

        Assert.Equal(MapStatus.NotAuthorized, h.Map(client, MappingProtocol.Tcp, internalPort).Status);
        Assert.Empty(h.Table.Entries);
    }

    [Fact]
    public void Map_InternalPortZero_MirrorsThePublicPortAndRefreshesTheSameMapping()
    {
        // DESIGN §6: `natpmpc -g 10.99.0.1 -a 0 0 tcp 60` asks for "a port, forwarded to the same port on me".
        using var h = new ForwardingHarness();
        var client = h.Connect(2);

        var first = h.Map(client, MappingProtocol.Tcp, 0);
        var again = h.Map(client, MappingProtocol.Tcp, 0);

        Assert.Equal(MapStatus.Success, first.Status);
        Assert.Equal(first.ExternalPort, first.InternalPort);
        Assert.Equal(first.ExternalPort, again.ExternalPort);
        var entry = Assert.Single(h.Table.Entries);
        Assert.Equal(entry.PublicPort, entry.InternalPort);
        Assert.Equal(MapStatus.Success, h.Map(client, MappingProtocol.Tcp, 0, lifetimeSeconds: 0).Status);
        Assert.Empty(h.Table.Entries);
    }

    [Fact]
    public void Policy_InvalidSettings_RejectedByConstructorAndUpdate()
    {
        using var h = new ForwardingHarness();
        ForwardingPolicy[] invalid =
        [
            new() { MinLifetime = TimeSpan.FromSeconds(600), MaxLifetime = TimeSpan.FromSeconds(60) },
            new() { MinLifetime = TimeSpan.Zero },
            new() { MaxPerPeer = -1 },
            new() { RequestsPerSecond = 0 },
            new() { Burst = 0 },
            new() { Quarantine = TimeSpan.FromSeconds(-1) },
            new() { PortRange = default },
        ];

        foreach (var policy in invalid)
        {
            Assert.Throws<ArgumentException>(() => h.Service.UpdatePolicy(policy));
            Assert.Throws<ArgumentException>(() => new ForwardingService(new InMemoryForwardingTable(),
                [ForwardingHarness.PublicAddress], policy, h.Time, h.Logger));
        }
    }
}
