using System.Net;
using Portcullis.Gateway.Configuration;
using Portcullis.Gateway.Forwarding;
using Portcullis.Gateway.Kernel;
using Portcullis.Gateway.Tests.Configuration;
using Portcullis.PortMapping;
using static Portcullis.Gateway.Tests.Forwarding.ForwardingHarness;

namespace Portcullis.Gateway.Tests.Forwarding;

/// <summary>Dedicated public addresses in the forwarding service, over the in-memory table, and the policy key that opens them.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class DedicatedTests
{
    private const string ConfigPath = "/etc/portcullis/gw.toml";

    private static readonly IPAddress Dedicated = IPAddress.Parse("198.51.100.11");
    private static readonly IPAddress Dedicated2 = IPAddress.Parse("198.51.100.12");

    private static DedicatedAssignment Own(int host, IPAddress address) => new(PeerId(host), TunnelAddress(host), address);

    private static readonly ForwardingPolicy AllPorts = new() { ForwardAllDedicatedPorts = true };

    [Fact]
    public void SetDedicatedAddresses_BeforeStart_EgressRoutesInTheKernelForPeersNotYetConnected()
    {
        using var h = new ForwardingHarness(start: false);

        h.Service.SetDedicatedAddresses([Own(2, Dedicated)]);
        h.Service.Start();

        Assert.Equal([new DedicatedRoute(Dedicated, TunnelAddress(2), ForwardAllPorts: false, "p2")], h.Table.Dedicated);
        Assert.Equal([Own(2, Dedicated)], h.Service.DedicatedAddresses);
    }

    [Fact]
    public void SetDedicatedAddresses_Empty_RemovesWhatAPreviousRunLeft()
    {
        using var table = new InMemoryForwardingTable();
        table.SetDedicated([new DedicatedRoute(Dedicated, TunnelAddress(7), true)], new HashSet<ushort>());
        using var h = new ForwardingHarness(table: table);

        h.Service.SetDedicatedAddresses([]);

        Assert.Empty(h.Table.Dedicated);
    }

    [Fact]
    public void SetDedicatedAddresses_ExcludedPorts_AreBlockedExternalAndInternalPorts()
    {
        var policy = new ForwardingPolicy { BlockedExternalPorts = new HashSet<ushort> { 25 }, BlockedInternalPorts = new HashSet<ushort> { 445 } };
        using var h = new ForwardingHarness(policy);

        h.Service.SetDedicatedAddresses([Own(2, Dedicated)]);

        Assert.True(h.Table.DedicatedExcluded.SetEquals([25, 445]));
    }

    [Fact]
    public void Map_DedicatedPeer_MappingAndPublicAddressOnItsOwnAddress()
    {
        using var h = new ForwardingHarness();
        h.Service.SetDedicatedAddresses([Own(2, Dedicated)]);
        var client = h.Connect(2);

        var result = h.Map(client, MappingProtocol.Tcp, 8080);

        Assert.Equal(MapStatus.Success, result.Status);
        Assert.Equal(Dedicated, result.ExternalAddress);
        Assert.Equal(Dedicated, h.Service.GetPublicAddress(client).ExternalAddress);
        var entry = Assert.Single(h.Table.Entries);
        Assert.Equal(Dedicated, entry.PublicAddress);
        Assert.Equal(client, entry.TunnelAddress);
    }

    [Fact]
    public void Map_SharedPeer_NeverGetsTheDedicatedAddress()
    {
        using var h = new ForwardingHarness();
        h.Service.SetDedicatedAddresses([Own(2, Dedicated)]);
        var other = h.Connect(3);

        var result = h.Map(other, MappingProtocol.Tcp, 8080, suggestedAddress: Dedicated);
        var strict = h.Map(other, MappingProtocol.Udp, 8080, suggestedAddress: Dedicated, preferFailure: true);

        Assert.Equal(PublicAddress, result.ExternalAddress);
        Assert.Equal(MapStatus.CannotProvideExternal, strict.Status);
        Assert.All(h.Table.Entries, entry => Assert.Equal(PublicAddress, entry.PublicAddress));
    }

    [Theory]
    [InlineData("198.51.100.10", 3)] // a shared address
    [InlineData("198.51.100.11", 3)] // the same address for two peers
    [InlineData("2001:db8::11", 3)] // not IPv4
    public void SetDedicatedAddresses_Invalid_ThrowsAndChangesNothing(string address, int host)
    {
        using var h = new ForwardingHarness();
        h.Service.SetDedicatedAddresses([Own(2, Dedicated)]);

        Assert.Throws<ArgumentException>(() => h.Service.SetDedicatedAddresses([Own(2, Dedicated), Own(host, IPAddress.Parse(address))]));

        Assert.Equal([Own(2, Dedicated)], h.Service.DedicatedAddresses);
        Assert.Equal(1, h.Table.DedicatedSets);
    }

    [Fact]
    public void SetDedicatedAddresses_OnePeerTwice_Throws()
    {
        using var h = new ForwardingHarness();

        Assert.Throws<ArgumentException>(() => h.Service.SetDedicatedAddresses([Own(2, Dedicated), Own(2, Dedicated2)]));
        Assert.Empty(h.Service.DedicatedAddresses);
    }

    [Fact]
    public void SetDedicatedAddresses_KernelRefuses_ThrowsAndPreviousAssignmentsStay()
    {
        using var h = new ForwardingHarness();
        h.Service.SetDedicatedAddresses([Own(2, Dedicated)]);
        var client = h.Connect(2);
        h.Table.FailNext = 1;

        Assert.Throws<ForwardingTableException>(() => h.Service.SetDedicatedAddresses([Own(2, Dedicated2)]));

        Assert.Equal([Own(2, Dedicated)], h.Service.DedicatedAddresses);
        Assert.Equal(Dedicated, h.Map(client, MappingProtocol.Tcp, 8080).ExternalAddress);
    }

    [Fact]
    public void SetDedicatedAddresses_LivePeerMoved_OldMappingsGoAndNewOnesUseTheNewAddress()
    {
        using var h = new ForwardingHarness();
        h.Service.SetDedicatedAddresses([Own(2, Dedicated)]);
        var client = h.Connect(2);
        var shared = h.Connect(3);
        Assert.Equal(Dedicated, h.Map(client, MappingProtocol.Tcp, 8080).ExternalAddress);
        var sharedMapping = h.Map(shared, MappingProtocol.Tcp, 8080);

        h.Service.SetDedicatedAddresses([Own(2, Dedicated2)]);

        Assert.DoesNotContain(h.Table.Entries, e => e.PublicAddress.Equals(Dedicated));
        Assert.Contains(h.Table.Entries, e => e.PublicPort == sharedMapping.ExternalPort && e.TunnelAddress.Equals(shared));
        Assert.Equal(MapStatus.Success, h.Service.GetPublicAddress(client).Status);
        Assert.Equal(Dedicated2, h.Map(client, MappingProtocol.Tcp, 8080).ExternalAddress);
        Assert.Equal([new DedicatedRoute(Dedicated2, client, false, "p2")], h.Table.Dedicated);
    }

    [Fact]
    public void SetDedicatedAddresses_PeerLosesItsAddress_BackOnTheSharedOne()
    {
        using var h = new ForwardingHarness();
        h.Service.SetDedicatedAddresses([Own(2, Dedicated)]);
        var client = h.Connect(2);
        h.Map(client, MappingProtocol.Tcp, 8080);

        h.Service.SetDedicatedAddresses([]);

        Assert.Empty(h.Table.Entries);
        Assert.Empty(h.Table.Dedicated);
        Assert.Equal(PublicAddress, h.Map(client, MappingProtocol.Tcp, 8080).ExternalAddress);
    }

    [Fact]
    public void ForwardAllPorts_LiveSessionAtAssignedAddress_RouteForwardsEveryPort()
    {
        using var h = new ForwardingHarness(AllPorts);
        h.Connect(2);

        h.Service.SetDedicatedAddresses([Own(2, Dedicated)]);

        Assert.Equal([new DedicatedRoute(Dedicated, TunnelAddress(2), ForwardAllPorts: true, "p2")], h.Table.Dedicated);
    }

    [Fact]
    public void ForwardAllPorts_PeerNotConnected_EgressOnly()
    {
        using var h = new ForwardingHarness(AllPorts);

        h.Service.SetDedicatedAddresses([Own(2, Dedicated)]);

        Assert.Equal([new DedicatedRoute(Dedicated, TunnelAddress(2), ForwardAllPorts: false, "p2")], h.Table.Dedicated);
    }

    [Fact]
    public void ForwardAllPorts_PolicyOffOrForwardingDisabled_EgressOnly()
    {
        using var off = new ForwardingHarness();
        off.Connect(2);
        off.Service.SetDedicatedAddresses([Own(2, Dedicated)]);
        using var disabled = new ForwardingHarness(AllPorts with { Enabled = false });
        disabled.Connect(2);
        disabled.Service.SetDedicatedAddresses([Own(2, Dedicated)]);

        Assert.False(Assert.Single(off.Table.Dedicated).ForwardAllPorts);
        Assert.False(Assert.Single(disabled.Table.Dedicated).ForwardAllPorts);
    }

    [Fact]
    public void ForwardAllPorts_SessionAtAnotherTunnelAddress_NotForwarded()
    {
        using var h = new ForwardingHarness(AllPorts);
        h.Service.PeerSessionStarted(PeerId(2), TunnelAddress(9));

        h.Service.SetDedicatedAddresses([Own(2, Dedicated)]);

        Assert.False(Assert.Single(h.Table.Dedicated).ForwardAllPorts);
    }

    [Fact]
    public void ForwardAllPorts_SessionStartsAndEnds_RouteFollowsTheSession()
    {
        using var h = new ForwardingHarness(AllPorts);
        h.Service.SetDedicatedAddresses([Own(2, Dedicated)]);

        h.Connect(2);
        var live = Assert.Single(h.Table.Dedicated);
        h.Disconnect(2);
        var ended = Assert.Single(h.Table.Dedicated);

        // Fails while session start and end do not sync the dedicated routes (DedicatedRoutes.Sync).
        Assert.True(live.ForwardAllPorts, "session start must sync the dedicated routes");
        Assert.False(ended.ForwardAllPorts, "session end must sync the dedicated routes");
        Assert.Equal(new DedicatedRoute(Dedicated, TunnelAddress(2), ForwardAllPorts: false, "p2"), ended);
    }

    [Fact]
    public void ForwardAllPorts_PolicyChangedLive_RouteAndExcludedPortsFollow()
    {
        using var h = new ForwardingHarness();
        h.Service.SetDedicatedAddresses([Own(2, Dedicated)]);
        h.Connect(2);
        Assert.False(Assert.Single(h.Table.Dedicated).ForwardAllPorts);

        h.Service.UpdatePolicy(AllPorts with { BlockedExternalPorts = new HashSet<ushort> { 22 }, BlockedInternalPorts = new HashSet<ushort>() });

        // Fails while UpdatePolicy does not sync the dedicated routes (DedicatedRoutes.Sync).
        Assert.True(Assert.Single(h.Table.Dedicated).ForwardAllPorts, "UpdatePolicy must sync the dedicated routes");
        Assert.True(h.Table.DedicatedExcluded.SetEquals([22]));

        h.Service.UpdatePolicy(AllPorts with { Enabled = false });

        Assert.False(Assert.Single(h.Table.Dedicated).ForwardAllPorts);
    }

    [Fact]
    public void ForwardAllPorts_KernelRefusesOnSessionEnd_RetriedUntilTheRouteIsGone()
    {
        using var h = new ForwardingHarness(AllPorts);
        h.Service.SetDedicatedAddresses([Own(2, Dedicated)]);
        h.Connect(2);
        h.Table.FailNext = 1;

        h.Disconnect(2);
        var refused = Assert.Single(h.Table.Dedicated);
        h.Time.Advance(LeaseExpiry.RemovalRetryInterval);
        var retried = Assert.Single(h.Table.Dedicated);

        Assert.True(refused.ForwardAllPorts);
        Assert.Equal(1, h.Table.FailedUpdates);
        Assert.False(retried.ForwardAllPorts);
    }

    [Theory]
    [InlineData("", false)]
    [InlineData("forward_all_dedicated_ports = true", true)]
    [InlineData("forward_all_dedicated_ports = false", false)]
    public void ConfigFile_ForwardAllDedicatedPorts_ReachesThePolicy(string line, bool expected)
    {
        var text = WithForwardingLine(line);

        Assert.Equal(expected, GatewayConfigLoader.Parse(text, ConfigPath).Forwarding.ForwardAllDedicatedPorts);
    }

    [Fact]
    public void ConfigFile_ForwardAllDedicatedPortsNotABoolean_ErrorNamesFileLineAndKey()
    {
        var text = WithForwardingLine("forward_all_dedicated_ports = \"yes\"");

        var error = Assert.Throws<GatewayConfigException>(() => GatewayConfigLoader.Parse(text, ConfigPath));

        var only = Assert.Single(error.Errors);
        Assert.StartsWith($"{ConfigPath}:15: [forwarding] forward_all_dedicated_ports:", only, StringComparison.Ordinal);
    }

    // DESIGN §6's example with one more line after max_per_peer (line 14), so the new key sits on line 15.
    private static string WithForwardingLine(string line)
    {
        var text = ConfigText.Design(ConfigText.NewKey(), ConfigText.NewKey(), ConfigText.NewKey());
        Assert.Contains("max_per_peer = 4\n", text, StringComparison.Ordinal);
        return text.Replace("max_per_peer = 4\n", $"max_per_peer = 4\n{line}\n", StringComparison.Ordinal);
    }
}
