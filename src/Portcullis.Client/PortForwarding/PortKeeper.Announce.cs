using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Portcullis.PortMapping.ClientSide;

namespace Portcullis.Client.PortForwarding;

/// <summary>
/// Announcements: the gateway unicasts a PCP ANNOUNCE and a NAT-PMP public-address response to UDP 5350 when our
/// session starts (multicast does not cross the tunnel). Either one, from the gateway's address only, makes every
/// mapping due at once: MAP is idempotent, so re-validating costs one exchange and catches a restart that lost state
/// (RFC 6887 §14.1.3, RFC 6886 §3.2.1).
/// </summary>
public sealed partial class PortKeeper
{
    private Socket? BindAnnounceSocket()
    {
        var socket = new Socket(_options.Gateway.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            // IPv6 only: the IPv4 keeper of the same connection holds the port for IPv4 (ClientConnection.Forwarding6.cs).
            if (socket.AddressFamily == AddressFamily.InterNetworkV6)
                socket.DualMode = false;
            socket.Bind(new IPEndPoint(_options.Gateway.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, _options.AnnouncePort));
            return socket;
        }
        catch (SocketException e)
        {
            // Not fatal: refreshes and their epochs still notice a lost state, only later.
            socket.Dispose();
            _logger.AnnounceListenFailed(_options.AnnouncePort, e.SocketErrorCode.ToString());
            return null;
        }
    }

    private async Task AnnounceLoopAsync(Socket socket, CancellationToken stopping)
    {
        var buffer = new byte[1100];
        EndPoint any = new IPEndPoint(socket.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
        while (!stopping.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await socket.ReceiveFromAsync(buffer, SocketFlags.None, any, stopping).ConfigureAwait(false);
            }
            catch (Exception e) when (stopping.IsCancellationRequested || e is ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }
            if (received.RemoteEndPoint is not IPEndPoint source || !SameAddress(source.Address, _options.Gateway))
                continue;
            var datagram = buffer.AsSpan(0, received.ReceivedBytes);
            if (PcpClientCodec.TryReadAnnounce(datagram, out _) || NatPmpClientCodec.TryReadPublicAddress(datagram, out _, out _))
            {
                _logger.StateLost("the gateway announced itself");
                Volatile.Read(ref _wake).TrySetResult();
            }
        }
    }

    private static bool SameAddress(IPAddress a, IPAddress b) =>
        (a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a).Equals(b.IsIPv4MappedToIPv6 ? b.MapToIPv4() : b);
}
