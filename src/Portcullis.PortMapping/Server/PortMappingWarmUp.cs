using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Portcullis.PortMapping.ClientSide;

namespace Portcullis.PortMapping.Server;

// Why: the first datagram a fresh server handles pays for compiling its whole path (workers' hand-over, parse, front
// end, policy guard, response) — on a busy machine long enough to miss natpmpc's 250 ms retry, and libnatpmp then reads
// the late duplicate answer as the answer to its next request. So before the socket is bound, one request of every kind
// goes through that path: a worker of its own, a dispatcher of its own over an authority that grants everything and
// counters nobody reads, so the server's counters, policy and log see nothing of it.

/// <summary>Runs the request path once for every kind of request, off the record. Blocks until it has.</summary>
internal static class PortMappingWarmUp
{
    private static readonly IPAddress Client = IPAddress.Parse("10.255.255.254");

    public static void Run(PortMappingServerOptions options)
    {
        var dispatcher = new PortMappingDispatcher(new GrantingAuthority(), options, new PortMappingCounters(), NullLogger.Instance);
        var requests = Requests();
        using var handled = new CountdownEvent(requests.Count);
        using (var workers = new RequestWorkers(1, PortMappingDispatcher.MaxResponseSize, (work, response) =>
        {
            try
            {
                dispatcher.Handle(work.Datagram, work.Client, response);
            }
            finally
            {
                handled.Signal();
            }
        }))
        {
            var source = new IPEndPoint(Client, 5350);
            foreach (var request in requests)
            {
                if (!workers.TryPost(Client, source, request))
                    handled.Signal();
            }
            handled.Wait();
        }
    }

    private static List<byte[]> Requests()
    {
        var nonce = new byte[12];
        var natPmpAddress = new byte[2];
        NatPmpClientCodec.WritePublicAddressRequest(natPmpAddress);
        var natPmpMap = new byte[12];
        NatPmpClientCodec.WriteMapRequest(natPmpMap, MappingProtocol.Tcp, 8080, 0, 60);
        var natPmpDelete = new byte[12];
        NatPmpClientCodec.WriteMapRequest(natPmpDelete, MappingProtocol.Udp, 0, 0, 0);
        var pcpAnnounce = new byte[24];
        PcpClientCodec.WriteAnnounceRequest(pcpAnnounce, Client);
        var pcpMap = new byte[60];
        PcpClientCodec.WriteMapRequest(pcpMap, nonce, MappingProtocol.Udp, 8080, 0, 60, Client);
        // And one of each that is refused: a short datagram (dropped), an unknown version (answered with an error).
        return [natPmpAddress, natPmpMap, natPmpDelete, pcpAnnounce, pcpMap, [0], [9, 0, 0, 0]];
    }

    private sealed class GrantingAuthority : IPortMappingAuthority
    {
        private static readonly IPAddress Public = IPAddress.Parse("192.0.2.1");

        public uint EpochSeconds => 1;

        public MapResult GetPublicAddress(IPAddress client) => new(MapStatus.Success, Public, 0, 0, TimeSpan.Zero);

        public MapResult Map(MapRequest request) =>
            new(MapStatus.Success, Public, request.InternalPort == 0 ? (ushort)1 : request.InternalPort, request.InternalPort, request.Lifetime);

        public MapResult DeleteAll(IPAddress client, MappingProtocol protocol, ReadOnlyMemory<byte>? nonce = null) =>
            new(MapStatus.Success, null, 0, 0, TimeSpan.Zero);

        public MapResult Peer(PeerMappingRequest request) =>
            new(MapStatus.Success, Public, request.InternalPort, request.InternalPort, request.Lifetime);
    }
}
