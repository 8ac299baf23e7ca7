using Portcullis.Client.Applications;
using Portcullis.Client.PortForwarding;
using Portcullis.PortMapping;

namespace Portcullis.Client.Tests.PortForwarding;

// --forward both: one number for TCP and UDP where the gateway can give it; and the applications told the port.
public sealed class PortKeeperBothTests
{
    [Fact]
    public async Task Both_GatewayPairsTheProtocols_UdpGetsTcpsPortWithoutASuggestion()
    {
        await using var rig = await KeeperRig.StartAsync("both");
        await KeeperRig.Eventually(() => rig.Keeper.Leases.Count == 2, "tcp and udp mapped");

        var udpCall = Assert.Single(rig.Authority.MapCalls, c => c.Protocol == MappingProtocol.Udp);
        Assert.Equal(0, udpCall.SuggestedExternalPort);
        Assert.Equal(0, udpCall.InternalPort);
        Assert.Equal(
            [new(ForwardProtocol.Tcp, 40000, 40000), new(ForwardProtocol.Udp, 40000, 40000)],
            rig.Keeper.Leases.Select(l => (l.Protocol, (int)l.ExternalPort, (int)l.InternalPort)).ToArray());
        Assert.Equal(ForwardProtocol.Both, rig.Keeper.Current!.Protocol);
    }

    [Fact]
    public async Task Both_PairTakenForUdp_AnotherPortAndTheLeasesSaySo()
    {
        await using var rig = await KeeperRig.StartAsync("both", gateway: g => g.Taken.Add((MappingProtocol.Udp, 40000)));
        await KeeperRig.Eventually(() => rig.Keeper.Leases.Count == 2, "tcp and udp mapped");

        var leases = rig.Keeper.Leases;
        Assert.Equal((ForwardProtocol.Tcp, 40000), (leases[0].Protocol, (int)leases[0].ExternalPort));
        Assert.Equal((ForwardProtocol.Udp, 40001), (leases[1].Protocol, (int)leases[1].ExternalPort));
        Assert.Equal(40001, leases[1].InternalPort);
        // The published port stays TCP's; the UDP lease is announced too, so the kill switch can open it.
        Assert.Equal(40000, rig.Keeper.Current!.ExternalPort);
        await KeeperRig.Eventually(() => { lock (rig.Changes) return rig.Changes.Any(c => c.Protocol == ForwardProtocol.Udp && c.ExternalPort == 40001); }, "udp lease announced");
    }

    [Fact]
    public async Task Both_RefreshOfADifferentUdpPort_KeepsIt()
    {
        await using var rig = await KeeperRig.StartAsync("both", gateway: g => g.Taken.Add((MappingProtocol.Udp, 40000)));
        await KeeperRig.Eventually(() => rig.Keeper.Leases.Count == 2, "tcp and udp mapped");
        rig.Authority.Taken.Clear();

        await rig.Time.AdvanceAsync(TimeSpan.FromSeconds(300));
        await KeeperRig.Eventually(() => rig.Authority.MapCalls.Count == 4, "both refreshed");

        Assert.Equal(40001, rig.Keeper.Leases[1].ExternalPort);
    }

    [Fact]
    public async Task NewPort_ToldToEveryPublisher()
    {
        var recorder = new RecordingPublisher();
        await using var rig = await KeeperRig.StartAsync("tcp:8080", o => o with { Publishers = [recorder] });

        await KeeperRig.Eventually(() => recorder.Ports.Contains((ushort)40000), "publisher told 40000");

        rig.Authority.LoseState();
        await rig.Time.AdvanceAsync(TimeSpan.FromSeconds(300));
        await KeeperRig.Eventually(() => recorder.Ports.Contains((ushort)41000), "publisher told the new port");
        Assert.Equal([40000, 41000], recorder.Ports.Select(p => (int)p));
    }

    private sealed class RecordingPublisher : IPortPublisher
    {
        private readonly List<ushort> _ports = [];

        public List<ushort> Ports { get { lock (_ports) return [.. _ports]; } }

        public string Name => "recorder";

        public Task SetPortAsync(ushort port, CancellationToken cancellationToken)
        {
            lock (_ports)
                _ports.Add(port);
            return Task.CompletedTask;
        }

        public void Dispose()
        {
        }
    }
}
