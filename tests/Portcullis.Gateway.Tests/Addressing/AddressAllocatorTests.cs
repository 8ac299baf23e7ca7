using System.Net;
using System.Security.Cryptography;
using Portcullis.Gateway.Addressing;

namespace Portcullis.Gateway.Tests.Addressing;

public sealed class AddressAllocatorTests
{
    private static readonly IPNetwork Prefix = IPNetwork.Parse("10.99.0.0/16");
    private static readonly IPAddress Gateway = IPAddress.Parse("10.99.0.1");
    private static readonly Dictionary<string, IPAddress> NothingRemembered = [];

    private static AddressRequest Peer(string name, string? address = null) =>
        new(name, RandomNumberGenerator.GetBytes(32), address is null ? null : IPAddress.Parse(address));

    private static string[] Addresses(IReadOnlyList<PeerAddress> peers) => [.. peers.Select(p => p.Address.ToString())];

    [Fact]
    public void Assign_NothingConfigured_LowestFreeAfterTheGateway()
    {
        var peers = AddressAllocator.Assign(Prefix, Gateway, [Peer("a"), Peer("b"), Peer("c")], NothingRemembered);

        Assert.Equal(["10.99.0.2", "10.99.0.3", "10.99.0.4"], Addresses(peers));
        Assert.All(peers, p => Assert.False(p.Configured));
    }

    [Fact]
    public void Assign_GatewayInTheMiddle_IsSkipped()
    {
        var prefix = IPNetwork.Parse("10.0.0.0/29");

        var peers = AddressAllocator.Assign(prefix, IPAddress.Parse("10.0.0.2"), [Peer("a"), Peer("b"), Peer("c")], NothingRemembered);

        Assert.Equal(["10.0.0.1", "10.0.0.3", "10.0.0.4"], Addresses(peers));
    }

    [Fact]
    public void Assign_ConfiguredAddresses_WinAndAreSkippedByAllocation()
    {
        var peers = AddressAllocator.Assign(Prefix, Gateway, [Peer("a"), Peer("b", "10.99.0.2"), Peer("c")], NothingRemembered);

        Assert.Equal(["10.99.0.3", "10.99.0.2", "10.99.0.4"], Addresses(peers));
        Assert.Equal([false, true, false], peers.Select(p => p.Configured));
    }

    [Fact]
    public void Assign_RememberedAddress_IsKeptWhateverTheOrder()
    {
        var a = Peer("a");
        var remembered = new Dictionary<string, IPAddress> { [Convert.ToBase64String(a.PublicKey)] = IPAddress.Parse("10.99.0.7") };

        var peers = AddressAllocator.Assign(Prefix, Gateway, [Peer("new"), a], remembered);

        Assert.Equal(["10.99.0.2", "10.99.0.7"], Addresses(peers));
    }

    [Fact]
    public void Assign_RememberedAddressNowConfiguredForAnother_ConfiguredWinsAndTheOtherMoves()
    {
        var a = Peer("a");
        var remembered = new Dictionary<string, IPAddress> { [Convert.ToBase64String(a.PublicKey)] = IPAddress.Parse("10.99.0.2") };

        var peers = AddressAllocator.Assign(Prefix, Gateway, [a, Peer("b", "10.99.0.2")], remembered);

        Assert.Equal(["10.99.0.3", "10.99.0.2"], Addresses(peers));
    }

    [Theory]
    [InlineData("10.98.0.5")] // outside a changed prefix
    [InlineData("10.99.0.1")] // the gateway's own
    [InlineData("10.99.255.255")] // broadcast
    [InlineData("10.99.0.0")] // network
    public void Assign_RememberedAddressNoLongerUsable_IsReallocated(string stale)
    {
        var a = Peer("a");
        var remembered = new Dictionary<string, IPAddress> { [Convert.ToBase64String(a.PublicKey)] = IPAddress.Parse(stale) };

        var peers = AddressAllocator.Assign(Prefix, Gateway, [a], remembered);

        Assert.Equal(["10.99.0.2"], Addresses(peers));
    }

    [Fact]
    public void Assign_SmallPrefixFilled_NeverNetworkOrBroadcastThenExhausted()
    {
        var prefix = IPNetwork.Parse("10.0.0.0/29"); // hosts .1-.6
        var gateway = IPAddress.Parse("10.0.0.1");
        var five = Enumerable.Range(0, 5).Select(i => Peer($"p{i}")).ToList();

        var peers = AddressAllocator.Assign(prefix, gateway, five, NothingRemembered);

        Assert.Equal(["10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6"], Addresses(peers));
        var error = Assert.Throws<AddressExhaustedException>(() =>
            AddressAllocator.Assign(prefix, gateway, [.. five, Peer("sixth")], NothingRemembered));
        Assert.Contains("sixth", error.Message, StringComparison.Ordinal);
    }
}
