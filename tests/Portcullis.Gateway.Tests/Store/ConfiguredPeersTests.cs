using System.Net;
using System.Runtime.Versioning;
using Portcullis.Gateway.Configuration;
using Portcullis.Gateway.Store;
using Portcullis.Gateway.Tests.Configuration;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Tests.Store;

[SupportedOSPlatform("linux")]
public sealed class ConfiguredPeersTests : IDisposable
{
    private readonly StoreFixture _fixture = new();
    private readonly string _alice = ConfigText.NewKey();
    private readonly string _bob = ConfigText.NewKey();

    public void Dispose() => _fixture.Dispose();

    private GatewayConfig Config()
    {
        var text = ConfigText.Design(ConfigText.NewKey(), _alice, _bob)
            + "[[peer.forward]]\nprotocol = \"both\"\nexternal_port = 31000\n";
        return GatewayConfigLoader.Parse(text, "gw.toml");
    }

    [Fact]
    public void From_DesignExample_MapsKeysAddressesAndForwardsOntoTheirPublicAddress()
    {
        var peers = ConfiguredPeers.From(Config());

        Assert.Equal(2, peers.Count);
        var alice = peers[0];
        Assert.Equal(("alice", _alice, IPAddress.Parse("10.99.0.2"), IPAddress.Parse("198.51.100.11")),
            (alice.Name, alice.PublicKey, alice.TunnelAddress, alice.DedicatedAddress));
        Assert.Equal([new ConfiguredForward(IPAddress.Parse("198.51.100.11"), MappingProtocol.Tcp, 30000, 8080)], alice.Forwards);
        var bob = peers[1];
        Assert.Equal(("bob", _bob, (IPAddress?)null, (IPAddress?)null), (bob.Name, bob.PublicKey, bob.TunnelAddress, bob.DedicatedAddress));
        Assert.Equal(
            [
                new ConfiguredForward(IPAddress.Parse("198.51.100.10"), MappingProtocol.Tcp, 31000, 31000),
                new ConfiguredForward(IPAddress.Parse("198.51.100.10"), MappingProtocol.Udp, 31000, 31000),
            ],
            bob.Forwards);
    }

    [Fact]
    public async Task ApplyConfigPeersAsync_DesignExample_StoresWhatTheFileSays()
    {
        var config = Config();
        await using var store = await _fixture.OpenAsync();

        await store.ApplyConfigPeersAsync(ConfiguredPeers.From(config), ConfiguredPeers.Pool(config));

        var peers = await store.ListPeersAsync();
        Assert.Equal(IPAddress.Parse("10.99.0.2"), peers.Single(p => p.Name == "alice").TunnelAddress);
        Assert.Equal(IPAddress.Parse("10.99.0.3"), peers.Single(p => p.Name == "bob").TunnelAddress);
        Assert.Equal(3, (await store.ListForwardsAsync()).Count);
        Assert.Single(await store.ListDedicatedAddressesAsync());
    }
}
