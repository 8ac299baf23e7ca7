using System.Net;
using Portcullis.Gateway.Forwarding;
using Portcullis.Gateway.Kernel;
using Portcullis.PortMapping;
using static Portcullis.Gateway.Tests.Forwarding.ForwardingHarness;

namespace Portcullis.Gateway.Tests.Forwarding;

public sealed class AllocationTests
{
    [Fact]
    public void Map_NewMapping_PortInRangeAndLiveInKernelBeforeReturn()
    {
        using var h = new ForwardingHarness();
        var client = h.Connect(2);

        var result = h.Map(client, MappingProtocol.Tcp, 8080, lifetimeSeconds: 600);

        Assert.Equal(MapStatus.Success, result.Status);
        Assert.Equal(PublicAddress, result.ExternalAddress);
        Assert.InRange(result.ExternalPort, (ushort)20000, (ushort)59999);
        Assert.Equal(8080, result.InternalPort);
        Assert.Equal(TimeSpan.FromSeconds(600), result.Lifetime);
        var expected = new ForwardingEntry(PublicAddress, MappingProtocol.Tcp, result.ExternalPort, client, 8080, "p2",
            TimeSpan.FromSeconds(600) + MapDecisions.KernelExpirySlack);
        Assert.Equal(expected, Assert.Single(h.Table.Entries));
    }

    [Fact]
    public void Map_GatewaysOwnPortInRange_NeverHandedOutForThatProtocol()
    {
        using var h = new ForwardingHarness(new ForwardingPolicy { PortRange = new PortRange(51820, 51821), MaxPerPeer = 4 });
        h.Service.ReserveOwnPort(MappingProtocol.Udp, 51820);
        var client = h.Connect(2);

        Assert.Equal(51821, h.Map(client, MappingProtocol.Udp, 9000).ExternalPort);
        Assert.Equal(MapStatus.NoResources, h.Map(client, MappingProtocol.Udp, 9001).Status);
        // TCP 9000 joins its UDP half; TCP 51820 is not handed out at random, as its UDP half could never follow.
        Assert.Equal(51821, h.Map(client, MappingProtocol.Tcp, 9000).ExternalPort);
        Assert.Equal(MapStatus.NoResources, h.Map(client, MappingProtocol.Tcp, 9001).Status);
    }

    [Fact]
    public void Map_SuggestsItsOwnTcpPortForUdp_GetsItEvenWithSuggestionsOff()
    {
        using var h = new ForwardingHarness();
        var a = h.Connect(2);
        var b = h.Connect(3);
        var tcp = h.Map(a, MappingProtocol.Tcp, 8080).ExternalPort;

        // Another peer suggesting it for UDP gets a random port: the port is a's, not b's for the asking.
        Assert.NotEqual(tcp, h.Map(b, MappingProtocol.Udp, 8080, suggested: tcp).ExternalPort);
        Assert.Equal(tcp, h.Map(a, MappingProtocol.Udp, 8081, suggested: tcp).ExternalPort);
    }

    [Fact]
    public void Map_ManyPeers_PortsDistinctAndSpreadOverTheRange()
    {
        using var h = new ForwardingHarness(new ForwardingPolicy { MaxPerPeer = 4 });
        var ports = new List<ushort>();
        for (var host = 2; host < 52; host++)
        {
            var client = h.Connect(host);
            for (ushort internalPort = 1000; internalPort < 1004; internalPort++)
                ports.Add(h.Map(client, MappingProtocol.Tcp, internalPort).ExternalPort);
        }

        Assert.Equal(200, ports.Distinct().Count());
        Assert.All(ports, p => Assert.InRange(p, (ushort)20000, (ushort)59999));
        // Sequential or clustered allocation would leave most of the range's tenths empty.
        var tenths = ports.Select(p => (p - 20000) / 4000).Distinct().Count();
        Assert.Equal(10, tenths);
        // Consecutive grants are not neighbours, as they would be with a counter.
        var adjacent = ports.Zip(ports.Skip(1)).Count(pair => Math.Abs(pair.First - pair.Second) <= 1);
        Assert.True(adjacent < 5, $"{adjacent} consecutive grants were neighbours");
    }

    [Fact]
    public void Map_ProductionRandomness_PortsInRangeAndDistinct()
    {
        using var table = new InMemoryForwardingTable();
        using var service = new ForwardingService(table, [PublicAddress], new ForwardingPolicy(),
            TimeProvider.System, new CapturingLogger<ForwardingService>());
        service.Start();
        service.PeerSessionStarted("p2", TunnelAddress(2));

        var ports = new List<ushort>();
        for (ushort internalPort = 1000; internalPort < 1004; internalPort++)
        {
            var result = service.Map(new MapRequest
            {
                Client = TunnelAddress(2),
                Protocol = MappingProtocol.Udp,
                InternalPort = internalPort,
                Lifetime = TimeSpan.FromSeconds(600),
            });
            Assert.Equal(MapStatus.Success, result.Status);
            ports.Add(result.ExternalPort);
        }

        Assert.All(ports, p => Assert.InRange(p, (ushort)20000, (ushort)59999));
        Assert.Equal(4, ports.Distinct().Count());
    }

    [Fact]
    public void Map_RangeMostlyBlocked_OnlyTheUnblockedPortIsGiven()
    {
        var blocked = new HashSet<ushort> { 30000, 30001, 30002, 30004, 30005 };
        using var h = new ForwardingHarness(new ForwardingPolicy
        {
            PortRange = new PortRange(30000, 30005),
            BlockedExternalPorts = blocked,
        });
        var client = h.Connect(2);

        var first = h.Map(client, MappingProtocol.Tcp, 8080);
        var second = h.Map(client, MappingProtocol.Tcp, 8081);

        Assert.Equal((ushort)30003, first.ExternalPort);
        Assert.Equal(MapStatus.NoResources, second.Status);
    }

    [Fact]
    public void Map_WideRangeWithDefaults_NeverADefaultBlockedPort()
    {
        using var h = new ForwardingHarness(new ForwardingPolicy { PortRange = new PortRange(1, 600), MaxPerPeer = 8 });
        var granted = new List<ushort>();
        for (var host = 2; host < 72; host++)
        {
            var client = h.Connect(host);
            for (ushort internalPort = 2000; internalPort < 2008; internalPort++)
                granted.Add(h.Map(client, MappingProtocol.Udp, internalPort).ExternalPort);
        }

        // 560 of the range's 589 allowed ports given; 11 of the defaults lie inside it (19, 25, 53, 123, 135–139, 161, 445).
        Assert.Equal(560, granted.Distinct().Count());
        Assert.DoesNotContain(granted, p => ForwardingPolicy.DefaultBlockedPorts.Contains(p));
        Assert.DoesNotContain((ushort)0, granted);
    }

    [Fact]
    public void Map_TwoPeersFillTinyRange_NeverShareAPortThenNoResources()
    {
        using var h = new ForwardingHarness(new ForwardingPolicy { PortRange = new PortRange(30000, 30007) });
        var alice = h.Connect(2);
        var bob = h.Connect(3);

        var ports = new List<ushort>();
        for (ushort i = 0; i < 4; i++)
        {
            ports.Add(h.Map(alice, MappingProtocol.Tcp, (ushort)(8000 + i)).ExternalPort);
            ports.Add(h.Map(bob, MappingProtocol.Tcp, (ushort)(8000 + i)).ExternalPort);
        }
        var carol = h.Connect(4);

        Assert.Equal(Enumerable.Range(30000, 8).Select(p => (ushort)p), ports.Order());
        Assert.Equal(MapStatus.NoResources, h.Map(carol, MappingProtocol.Tcp, 8000).Status);
        // The other protocol's halves are alice's and bob's to pair, not carol's.
        Assert.Equal(MapStatus.NoResources, h.Map(carol, MappingProtocol.Udp, 8000).Status);
    }

    [Fact]
    public void Map_TcpAndUdpSameInternalPort_SeparateMappings()
    {
        using var h = new ForwardingHarness();
        var client = h.Connect(2);

        var tcp = h.Map(client, MappingProtocol.Tcp, 6881);
        var udp = h.Map(client, MappingProtocol.Udp, 6881);
        h.Delete(client, MappingProtocol.Tcp, 6881);

        Assert.Equal(MapStatus.Success, tcp.Status);
        Assert.Equal(MapStatus.Success, udp.Status);
        var left = Assert.Single(h.Table.Entries);
        Assert.Equal((MappingProtocol.Udp, udp.ExternalPort), (left.Protocol, left.PublicPort));
    }

    [Fact]
    public void Map_SuggestedPortAllowedAndFree_Honoured()
    {
        using var h = new ForwardingHarness(new ForwardingPolicy { AllowSuggestedPort = true });
        var client = h.Connect(2);

        Assert.Equal((ushort)31337, h.Map(client, MappingProtocol.Tcp, 8080, suggested: 31337).ExternalPort);
    }

    [Fact]
    public void Map_SuggestedPortByDefault_GatewayChooses()
    {
        using var h = new ForwardingHarness();
        var client = h.Connect(2);

        var result = h.Map(client, MappingProtocol.Tcp, 8080, suggested: 31337);

        Assert.Equal(MapStatus.Success, result.Status);
        Assert.NotEqual((ushort)31337, result.ExternalPort);
    }

    [Theory]
    [InlineData(25)]
    [InlineData(19999)]
    [InlineData(60000)]
    public void Map_SuggestedPortBlockedOrOutOfRange_NotHonoured(ushort suggested)
    {
        using var h = new ForwardingHarness(new ForwardingPolicy { AllowSuggestedPort = true });
        var client = h.Connect(2);

        var result = h.Map(client, MappingProtocol.Tcp, 8080, suggested: suggested);

        Assert.Equal(MapStatus.Success, result.Status);
        Assert.InRange(result.ExternalPort, (ushort)20000, (ushort)59999);
    }

    [Fact]
    public void Map_PreferFailureSuggestionHeldByAnother_CannotProvideExternal()
    {
        using var h = new ForwardingHarness(new ForwardingPolicy { AllowSuggestedPort = true });
        var alice = h.Connect(2);
        var bob = h.Connect(3);
        h.Map(alice, MappingProtocol.Tcp, 8080, suggested: 31337);

        var strict = h.Map(bob, MappingProtocol.Tcp, 8080, suggested: 31337, nonce: Nonce(1), preferFailure: true);
        var lenient = h.Map(bob, MappingProtocol.Tcp, 8080, suggested: 31337, nonce: Nonce(1));

        Assert.Equal(MapStatus.CannotProvideExternal, strict.Status);
        Assert.Equal(MapStatus.Success, lenient.Status);
        Assert.NotEqual((ushort)31337, lenient.ExternalPort);
        Assert.Equal(2, h.Table.Entries.Count);
    }

    [Fact]
    public void Map_PreferFailureSuggestionsNotAllowed_CannotProvideExternal()
    {
        using var h = new ForwardingHarness();
        var client = h.Connect(2);

        var result = h.Map(client, MappingProtocol.Tcp, 8080, suggested: 31337, nonce: Nonce(1), preferFailure: true);

        Assert.Equal(MapStatus.CannotProvideExternal, result.Status);
        Assert.Empty(h.Table.Entries);
    }

    [Fact]
    public void Map_PreferFailureForAnotherPublicAddress_CannotProvideExternal()
    {
        using var h = new ForwardingHarness(new ForwardingPolicy { AllowSuggestedPort = true });
        var client = h.Connect(2);

        var other = h.Map(client, MappingProtocol.Tcp, 8080, suggested: 31337, nonce: Nonce(1), preferFailure: true,
            suggestedAddress: IPAddress.Parse("198.51.100.11"));
        var unspecified = h.Map(client, MappingProtocol.Tcp, 8080, suggested: 31337, nonce: Nonce(1), preferFailure: true,
            suggestedAddress: IPAddress.Parse("::ffff:0.0.0.0"));

        Assert.Equal(MapStatus.CannotProvideExternal, other.Status);
        Assert.Equal(MapStatus.Success, unspecified.Status);
        Assert.Equal((ushort)31337, unspecified.ExternalPort);
    }
}
