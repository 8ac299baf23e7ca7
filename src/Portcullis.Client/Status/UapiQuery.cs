using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Portcullis.Client.Status;

/// <summary>One peer as the device reports it over UAPI <c>get=1</c> (keys are not kept).</summary>
public sealed record PeerStatus(string PublicKeyHex, string? Endpoint, DateTimeOffset? LastHandshake, ulong RxBytes, ulong TxBytes);

/// <summary>
/// Asks a running interface for its peers through its UAPI socket, as `wg show` does: send "get=1\n\n", read lines
/// up to "errno=N" and the blank line. The device's private key arrives in the answer; it is skipped, never stored.
/// </summary>
public static class UapiQuery
{
    public const string SocketDirectory = "/var/run/wireguard";

    public static IReadOnlyList<PeerStatus>? TryGetPeers(string interfaceName, TimeSpan timeout)
    {
        var path = Path.Combine(SocketDirectory, interfaceName + ".sock");
        if (!File.Exists(path))
            return null;
        try
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            socket.ReceiveTimeout = socket.SendTimeout = (int)timeout.TotalMilliseconds;
            socket.Connect(new UnixDomainSocketEndPoint(path));
            socket.Send("get=1\n\n"u8);
            var answer = new StringBuilder();
            var buffer = new byte[4096];
            while (!answer.ToString().Contains("errno=", StringComparison.Ordinal) || !answer.ToString().EndsWith("\n\n", StringComparison.Ordinal))
            {
                var read = socket.Receive(buffer);
                if (read == 0)
                    break;
                answer.Append(Encoding.ASCII.GetString(buffer, 0, read));
            }
            return ParsePeers(answer.ToString());
        }
        catch (SocketException)
        {
            return null;
        }
    }

    public static IReadOnlyList<PeerStatus> ParsePeers(string answer)
    {
        ArgumentNullException.ThrowIfNull(answer);
        var peers = new List<PeerStatus>();
        string? key = null, endpoint = null;
        long seconds = 0, nanos = 0;
        ulong rx = 0, tx = 0;
        void Flush()
        {
            if (key is null)
                return;
            DateTimeOffset? handshake = seconds == 0 && nanos == 0 ? null : DateTimeOffset.FromUnixTimeSeconds(seconds).AddTicks(nanos / 100);
            peers.Add(new PeerStatus(key, endpoint, handshake, rx, tx));
        }
        foreach (var line in answer.Split('\n'))
        {
            var equals = line.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
                continue;
            var name = line[..equals];
            var value = line[(equals + 1)..];
            switch (name)
            {
                case "public_key":
                    Flush();
                    key = value;
                    endpoint = null;
                    seconds = nanos = 0;
                    rx = tx = 0;
                    break;
                case "endpoint": endpoint = value; break;
                case "last_handshake_time_sec": _ = long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out seconds); break;
                case "last_handshake_time_nsec": _ = long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out nanos); break;
                case "rx_bytes": _ = ulong.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out rx); break;
                case "tx_bytes": _ = ulong.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out tx); break;
                default: break;
            }
        }
        Flush();
        return peers;
    }
}
