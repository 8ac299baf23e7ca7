using System.Net;
using Microsoft.Extensions.Time.Testing;
using Portcullis.Gateway.Forwarding;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Tests.Forwarding;

/// <summary>A started service on virtual time over the in-memory table, with helpers that read like requests.</summary>
internal sealed class ForwardingHarness : IDisposable
{
    public static readonly IPAddress PublicAddress = IPAddress.Parse("198.51.100.10");

    public ForwardingHarness(ForwardingPolicy? policy = null, int seed = 1, bool start = true, InMemoryForwardingTable? table = null,
        ForwardingIpv6? ipv6 = null)
    {
        Table = table ?? new InMemoryForwardingTable();
        Service = new ForwardingService(Table, [PublicAddress], policy ?? new ForwardingPolicy(), Time, Logger, new Random(seed)) { Ipv6 = ipv6 };
        if (start)
            Service.Start();
    }

    public FakeTimeProvider Time { get; } = new();

    public InMemoryForwardingTable Table { get; }

    public CapturingLogger<ForwardingService> Logger { get; } = new();

    public ForwardingService Service { get; }

    /// <summary>Peer "p{host}" gets a live session at 10.99.0.{host}.</summary>
    public IPAddress Connect(int host)
    {
        var address = TunnelAddress(host);
        Service.PeerSessionStarted(PeerId(host), address);
        return address;
    }

    public void Disconnect(int host) => Service.PeerSessionEnded(PeerId(host));

    public static string PeerId(int host) => $"p{host}";

    public static IPAddress TunnelAddress(int host) => new([10, 99, 0, (byte)host]);

    public MapResult Map(
        IPAddress client,
        MappingProtocol protocol,
        ushort internalPort,
        int lifetimeSeconds = 3600,
        ushort suggested = 0,
        byte[]? nonce = null,
        bool preferFailure = false,
        IPAddress? suggestedAddress = null) =>
        Service.Map(new MapRequest
        {
            Client = client,
            Protocol = protocol,
            InternalPort = internalPort,
            Lifetime = TimeSpan.FromSeconds(lifetimeSeconds),
            SuggestedExternalPort = suggested,
            SuggestedExternalAddress = suggestedAddress,
            PreferFailure = preferFailure,
            Nonce = nonce is null ? (ReadOnlyMemory<byte>?)null : nonce,
        });

    public MapResult Delete(IPAddress client, MappingProtocol protocol, ushort internalPort, byte[]? nonce = null) =>
        Map(client, protocol, internalPort, lifetimeSeconds: 0, nonce: nonce);

    /// <summary>A PCP PEER request for the flow (client, protocol, internal port) → <paramref name="remote"/>.</summary>
    public MapResult Peer(IPAddress client, MappingProtocol protocol, ushort internalPort, IPEndPoint remote, int lifetimeSeconds = 3600,
        byte[]? nonce = null, ushort suggested = 0) =>
        Service.Peer(new PeerMappingRequest
        {
            Client = client,
            Protocol = protocol,
            InternalPort = internalPort,
            RemoteAddress = remote.Address,
            RemotePort = (ushort)remote.Port,
            Lifetime = TimeSpan.FromSeconds(lifetimeSeconds),
            SuggestedExternalPort = suggested,
            Nonce = nonce ?? Nonce(1),
        });

    public static byte[] Nonce(byte fill) => [.. Enumerable.Repeat(fill, 12)];

    public void Dispose() => Service.Dispose();
}
