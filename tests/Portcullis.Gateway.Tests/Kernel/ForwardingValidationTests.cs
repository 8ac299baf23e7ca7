using System.Net;
using Portcullis.Gateway.Forwarding;
using Portcullis.Gateway.Kernel;
using Portcullis.Gateway.Tests.Kernel.Support;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Tests.Kernel;

public sealed class ForwardingValidationTests
{
    [Theory]
    [InlineData("peer-1")]
    [InlineData("p:42")]
    [InlineData("a.b_c+d/e=f@g")]
    [InlineData("0123456789012345678901234567890123456789012345678901234567890123")]
    public void IsValidOwner_StrictCharset_Accepted(string owner) => Assert.True(ForwardingValidation.IsValidOwner(owner));

    [Theory]
    [InlineData("")]
    [InlineData("peer 1")]
    [InlineData("peer\"; delete table ip portcullis; \"")]
    [InlineData("back\\slash")]
    [InlineData("semi;colon")]
    [InlineData("new\nline")]
    [InlineData("brace}")]
    [InlineData("dollar$var")]
    [InlineData("é")]
    [InlineData("01234567890123456789012345678901234567890123456789012345678901234")]
    public void IsValidOwner_OutsideCharsetOrTooLong_Rejected(string owner) => Assert.False(ForwardingValidation.IsValidOwner(owner));

    [Theory]
    [InlineData("pc0")]
    [InlineData("eth0.100")]
    [InlineData("wg_gate-1")]
    public void IsValidInterfaceName_LinuxNames_Accepted(string name) => Assert.True(ForwardingValidation.IsValidInterfaceName(name));

    [Theory]
    [InlineData("")]
    [InlineData("eth0\" accept")]
    [InlineData("a b")]
    [InlineData("sixteen-chars-xx")]
    [InlineData("..")]
    public void IsValidInterfaceName_Others_Rejected(string name) => Assert.False(ForwardingValidation.IsValidInterfaceName(name));

    [Fact]
    public void CheckEntry_RemoteFilterOfTheOtherFamily_RejectedRatherThanLeftOpen()
    {
        var entry = Entries.Tcp(30000, Entries.Client1, 8080, "peer-1") with
        {
            Filters = [new RemoteFilter(IPNetwork.Parse("2001:db8::/32"), 0)],
        };

        Assert.Contains("remote filter prefix", Assert.Throws<ArgumentException>(() => ForwardingValidation.Check(entry)).Message, StringComparison.Ordinal);
        ForwardingValidation.Check(entry with { Filters = [new RemoteFilter(IPNetwork.Parse("192.0.2.0/24"), 0)] });
        // An IPv6 mapping takes IPv6 filters (table ip6 has its own sets) and refuses IPv4 ones.
        var six = new ForwardingEntry(IPAddress.Parse("2001:db8:1::a"), MappingProtocol.Tcp, 30000, IPAddress.Parse("fd99::2"), 8080, "peer-1", null);
        ForwardingValidation.Check(six with { Filters = [new RemoteFilter(IPNetwork.Parse("2001:db8::/32"), 0)] });
        Assert.Contains("remote filter prefix", Assert.Throws<ArgumentException>(
            () => ForwardingValidation.Check(six with { Filters = [new RemoteFilter(IPNetwork.Parse("192.0.2.0/24"), 0)] })).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckEntry_Valid_DoesNotThrow() =>
        ForwardingValidation.Check(Entries.Tcp(30000, Entries.Client1, 8080, "peer-1", TimeSpan.FromHours(1)));

    public static TheoryData<ForwardingEntry> InvalidEntries() =>
    [
        Entries.Tcp(30000, Entries.Client1, 8080, "bad owner"),
        Entries.Tcp(0, Entries.Client1, 8080, "peer-1"),
        Entries.Tcp(30000, Entries.Client1, 0, "peer-1"),
        Entries.Tcp(30000, IPAddress.IPv6Loopback, 8080, "peer-1"),
        Entries.Tcp(30000, Entries.Client1, 8080, "peer-1", TimeSpan.Zero),
        Entries.Tcp(30000, Entries.Client1, 8080, "peer-1", TimeSpan.FromDays(400)),
        new(IPAddress.Parse("::ffff:198.51.100.10"), MappingProtocol.Tcp, 30000, Entries.Client1, 8080, "peer-1", null),
        new(Entries.Public, (MappingProtocol)1, 30000, Entries.Client1, 8080, "peer-1", null),
        // IPv6 mappings: both addresses IPv6, no zone, no IPv4-mapped target.
        new(IPAddress.Parse("2001:db8:1::a"), MappingProtocol.Tcp, 30000, Entries.Client1, 8080, "peer-1", null),
        new(IPAddress.Parse("2001:db8:1::a"), MappingProtocol.Tcp, 30000, IPAddress.Parse("::ffff:10.99.0.2"), 8080, "peer-1", null),
        new(IPAddress.Parse("2001:db8:1::a"), MappingProtocol.Tcp, 30000, IPAddress.Parse("fe80::2%3"), 8080, "peer-1", null),
    ];

    [Fact]
    public void CheckEntry_Ipv6PublicAndTunnel_DoesNotThrow() =>
        ForwardingValidation.Check(new ForwardingEntry(IPAddress.Parse("2001:db8:1::a"), MappingProtocol.Tcp, 30000, IPAddress.Parse("fd99::2"), 8080, "peer-1", null));

    [Theory]
    [MemberData(nameof(InvalidEntries))]
    public void CheckEntry_Invalid_ThrowsArgumentException(ForwardingEntry entry) =>
        Assert.ThrowsAny<ArgumentException>(() => ForwardingValidation.Check(entry));

    [Fact]
    public void CheckKeyAndTarget_ListedOrphan_Accepted() =>
        ForwardingValidation.CheckKeyAndTarget(Entries.Tcp(30000, Entries.Client1, 8080, string.Empty, TimeSpan.Zero));

    [Fact]
    public void CheckKeyAndTarget_ZeroPort_Throws() =>
        Assert.Throws<ArgumentException>(() => ForwardingValidation.CheckKeyAndTarget(Entries.Tcp(30000, Entries.Client1, 0, "p")));

    [Fact]
    public void CheckNetwork_Lab_DoesNotThrow() => ForwardingValidation.Check(Entries.Network());

    [Fact]
    public void CheckNetwork_InjectedInterfaceName_Throws() =>
        Assert.Throws<ArgumentException>(() => ForwardingValidation.Check(Entries.Network() with { PublicInterface = "eth0\" accept #" }));

    [Fact]
    public void CheckNetwork_SameInterfaceTwice_Throws() =>
        Assert.Throws<ArgumentException>(() => ForwardingValidation.Check(Entries.Network() with { PublicInterface = "pc0" }));

    [Fact]
    public void CheckNetwork_GatewayOutsidePrefix_Throws() =>
        Assert.Throws<ArgumentException>(() => ForwardingValidation.Check(Entries.Network() with { GatewayTunnelAddress = IPAddress.Parse("10.98.0.1") }));

    [Fact]
    public void CheckNetwork_NoPublicAddress_Throws() =>
        Assert.Throws<ArgumentException>(() => ForwardingValidation.Check(Entries.Network() with { PublicAddresses = [] }));

    [Fact]
    public void CheckNetwork_IPv6Prefix_Throws() =>
        Assert.Throws<ArgumentException>(() => ForwardingValidation.Check(Entries.Network() with { TunnelPrefix = IPNetwork.Parse("fd00::/64") }));

    [Theory]
    [InlineData("2001:db8::1", 80)]
    [InlineData("192.0.2.1", 0)]
    public void Check_PeerEntryWithRemoteOfOtherFamilyOrPortZero_Refused(string remote, int port)
    {
        var remoteEnd = new IPEndPoint(IPAddress.Parse(remote), port);
        var entry = Entries.Peer(30000, Entries.Client1, 5000, remoteEnd, "peer-1", TimeSpan.FromMinutes(5));

        Assert.Throws<ArgumentException>(() => ForwardingValidation.Check(entry));
    }

    [Fact]
    public void Check_PeerEntryIpv4_Accepted()
    {
        var remoteEnd = new IPEndPoint(IPAddress.Parse("192.0.2.1"), 80);
        var entry = Entries.Peer(30000, Entries.Client1, 5000, remoteEnd, "peer-1", TimeSpan.FromMinutes(5));

        Assert.Null(Record.Exception(() => ForwardingValidation.Check(entry)));
    }

    [Fact]
    public void Check_PeerEntryNat66_AcceptedAndWithIpv4RemoteRefused()
    {
        var entry = new PeerEntry(IPAddress.Parse("2001:db8::10"), MappingProtocol.Udp, 30000, IPAddress.Parse("fd99::2"), 5000,
            new IPEndPoint(IPAddress.Parse("2001:db8::100"), 80), "peer-1", TimeSpan.FromMinutes(5));

        Assert.Null(Record.Exception(() => ForwardingValidation.Check(entry)));
        Assert.Throws<ArgumentException>(() => ForwardingValidation.Check(entry with { Remote = new IPEndPoint(IPAddress.Parse("192.0.2.1"), 80) }));
    }

    [Fact]
    public void Check_PeerEntryWithFilters_Refused()
    {
        var peer = Entries.Peer(30000, Entries.Client1, 5000, new IPEndPoint(IPAddress.Parse("192.0.2.1"), 80), "peer-1", TimeSpan.FromMinutes(5));
        var entry = peer with { Filters = [new RemoteFilter(IPNetwork.Parse("192.0.2.0/24"), 0)] };

        Assert.Throws<ArgumentException>(() => ForwardingValidation.Check(entry));
    }
}
