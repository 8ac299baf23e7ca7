using System.Net;
using Portcullis.Gateway.Forwarding;
using Portcullis.PortMapping;

namespace Portcullis.Benchmarks.Mapping;

/// <summary>What the mapping benchmarks share: the namespace's network, a policy that never limits, a fill.</summary>
internal static class MappingStack
{
    /// <summary>Bulk peers own the present mappings (10.99.1.1…); each holds at most this many.</summary>
    private const int MappingsPerBulkPeer = 2_000;

    public static GatewayNetwork Network(IPAddress gateway, IPAddress publicAddress) => new()
    {
        TunnelInterface = "pc0",
        TunnelPrefix = IPNetwork.Parse("10.99.0.0/16"),
        GatewayTunnelAddress = gateway,
        PublicInterface = "eth0",
        PublicAddresses = [publicAddress],
    };

    public static ForwardingPolicy Policy() => new()
    {
        PortRange = new PortRange(1024, 65535),
        MaxPerPeer = 60_000,
        BlockedExternalPorts = new HashSet<ushort>(),
        BlockedInternalPorts = new HashSet<ushort>(),
        RequestsPerSecond = 1_000_000,
        Burst = 1_000_000,
    };

    /// <summary>
    /// Fills the table through the service (the only way in: it reconciles anything else away), from one thread per
    /// bulk peer so the fill itself is group-committed.
    /// </summary>
    public static void Prepopulate(ForwardingService service, int count)
    {
        var peers = (count + MappingsPerBulkPeer - 1) / MappingsPerBulkPeer;
        for (var peer = 0; peer < peers; peer++)
            service.PeerSessionStarted($"bulk{peer}", BulkAddress(peer));
        Parallel.For(0, peers, new ParallelOptions { MaxDegreeOfParallelism = 32 }, peer =>
        {
            var mine = Math.Min(MappingsPerBulkPeer, count - (peer * MappingsPerBulkPeer));
            for (var j = 0; j < mine; j++)
            {
                var result = service.Map(new MapRequest
                {
                    Client = BulkAddress(peer),
                    Protocol = j % 2 == 0 ? MappingProtocol.Tcp : MappingProtocol.Udp,
                    InternalPort = (ushort)(1 + (j / 2)),
                    Lifetime = TimeSpan.FromHours(1),
                });
                if (result.Status != MapStatus.Success)
                    throw new InvalidOperationException($"prepopulation failed at peer {peer}, mapping {j}: {result.Status}");
            }
        });
    }

    private static IPAddress BulkAddress(int peer) => new([10, 99, (byte)(16 + (peer / 250)), (byte)(1 + (peer % 250))]);
}
