using System.Net;
using System.Net.Sockets;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Reachability;

/// <summary>What one probe of a public port saw.</summary>
public enum ProbeOutcome
{
    /// <summary>TCP: the connection was accepted. UDP: something answered.</summary>
    Reachable,

    /// <summary>Refused: a TCP reset or an ICMP port unreachable came back — the host is there, nothing listens.</summary>
    Closed,

    /// <summary>No answer in time: dropped on the way or on the host (for UDP also: a service that does not answer).</summary>
    NoAnswer,
}

/// <summary>
/// Probes a mapping from the gateway itself, along the path a remote host's packets take: the probe socket is bound to
/// the public address and marked (<see cref="Mark"/>), and the table's output chain sends marked packets through the
/// same lease set and mappings map as prerouting does, so the probe is DNATed by the kernel's own element — a mapping
/// the kernel lost is not reachable here either — and reaches the peer over the tunnel as inbound traffic does. The
/// peer sees the gateway's public address as the source. Needs CAP_NET_ADMIN (SO_MARK), which the gateway has.
/// </summary>
internal static class MappingProbe
{
    /// <summary>The firewall mark of probe sockets; NftScript's output rule matches it. "PCPR" in ASCII, unlikely to clash.</summary>
    public const int Mark = 0x50435052;

    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(3);

    private const int SolSocket = 1;
    private const int SoMark = 36;

    public static async Task<ProbeOutcome> ProbeAsync(IPAddress publicAddress, MappingProtocol protocol, ushort port, CancellationToken cancellationToken)
    {
        var target = new IPEndPoint(publicAddress, port);
        using var socket = protocol == MappingProtocol.Tcp
            ? new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
            : new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.SetRawSocketOption(SolSocket, SoMark, BitConverter.GetBytes(Mark));
        socket.Bind(new IPEndPoint(publicAddress, 0));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        try
        {
            if (protocol == MappingProtocol.Tcp)
            {
                await socket.ConnectAsync(target, timeout.Token).ConfigureAwait(false);
                return ProbeOutcome.Reachable;
            }
            await socket.ConnectAsync(target, timeout.Token).ConfigureAwait(false);
            await socket.SendAsync("portcullis reachability probe\n"u8.ToArray(), SocketFlags.None, timeout.Token).ConfigureAwait(false);
            var buffer = new byte[512];
            await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token).ConfigureAwait(false);
            return ProbeOutcome.Reachable;
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionRefused or SocketError.ConnectionReset)
        {
            return ProbeOutcome.Closed;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return ProbeOutcome.NoAnswer;
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.HostUnreachable or SocketError.NetworkUnreachable or SocketError.TimedOut)
        {
            return ProbeOutcome.NoAnswer;
        }
    }
}
