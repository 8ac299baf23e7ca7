using System.Net;
using System.Net.Sockets;
using System.Text;
using Portcullis.Core.Io;

namespace Portcullis.WireGuard.Uapi;

/// <summary>
/// The other end of <see cref="UapiServer"/>, as `wg show` is: sends <c>get=1</c> and reads the answer up to
/// <c>errno=N</c> and the blank line. Keys in the answer are skipped, never kept: the state it returns has no private
/// or preshared key.
/// </summary>
public static class UapiClient
{
    /// <summary>The device's state, or null when its socket is missing, does not answer in time or refuses.</summary>
    public static UapiDeviceState? TryGet(string interfaceName, TimeSpan timeout, string directory = UapiSocket.DefaultDirectory)
    {
        var path = UapiSocket.PathFor(interfaceName, directory);
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
            while (!IsComplete(answer))
            {
                var read = socket.Receive(buffer);
                if (read == 0)
                    break;
                answer.Append(Encoding.ASCII.GetString(buffer, 0, read));
            }
            var text = answer.ToString();
            return IsComplete(answer) && text.Contains("errno=0\n", StringComparison.Ordinal) ? ParseGet(text) : null;
        }
        catch (SocketException)
        {
            return null;
        }
    }

    private static bool IsComplete(StringBuilder answer)
    {
        var text = answer.ToString();
        return text.Contains("errno=", StringComparison.Ordinal) && text.EndsWith("\n\n", StringComparison.Ordinal);
    }

    /// <summary>A <c>get=1</c> answer as state; lines it does not know or cannot read are skipped.</summary>
    public static UapiDeviceState ParseGet(string answer)
    {
        ArgumentNullException.ThrowIfNull(answer);
        var peers = new List<UapiPeerState>();
        ushort listenPort = 0;
        uint fwmark = 0;
        PeerBuilder? peer = null;
        foreach (var line in answer.Split('\n'))
        {
            var equals = line.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
                continue;
            var name = line.AsSpan(0, equals);
            var value = line.AsSpan(equals + 1);
            if (name.SequenceEqual("public_key"))
            {
                if (peer is not null)
                    peers.Add(peer.Build());
                var key = new byte[UapiValueParser.KeyLength];
                peer = UapiValueParser.TryParseKey(value, key) ? new PeerBuilder(key) : null;
            }
            else if (peer is null)
            {
                if (name.SequenceEqual("listen_port"))
                    _ = UapiValueParser.TryParseUInt16(value, out listenPort);
                else if (name.SequenceEqual("fwmark"))
                    _ = UapiValueParser.TryParseUInt32(value, out fwmark);
            }
            else
            {
                peer.Read(name, value);
            }
        }
        if (peer is not null)
            peers.Add(peer.Build());
        return new UapiDeviceState(null, listenPort, fwmark, peers);
    }

    private sealed class PeerBuilder(byte[] publicKey)
    {
        private readonly List<IPNetwork> _allowedIps = [];
        private UdpEndpoint? _endpoint;
        private long _seconds;
        private long _nanoseconds;
        private ulong _txBytes;
        private ulong _rxBytes;
        private ushort _keepalive;

        public void Read(ReadOnlySpan<char> name, ReadOnlySpan<char> value)
        {
            switch (name)
            {
                case "endpoint":
                    _endpoint = UapiValueParser.TryParseEndpoint(value, out var endpoint) ? endpoint : null;
                    break;
                case "last_handshake_time_sec":
                    _ = long.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _seconds);
                    break;
                case "last_handshake_time_nsec":
                    _ = long.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _nanoseconds);
                    break;
                case "tx_bytes":
                    _ = ulong.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _txBytes);
                    break;
                case "rx_bytes":
                    _ = ulong.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _rxBytes);
                    break;
                case "persistent_keepalive_interval":
                    _ = UapiValueParser.TryParseUInt16(value, out _keepalive);
                    break;
                case "allowed_ip":
                    if (UapiValueParser.TryParsePrefix(value, out var prefix))
                        _allowedIps.Add(prefix);
                    break;
                default:
                    // preshared_key among them: never kept.
                    break;
            }
        }

        public UapiPeerState Build()
        {
            DateTimeOffset? handshake = _seconds == 0 && _nanoseconds == 0
                ? null
                : DateTimeOffset.FromUnixTimeSeconds(_seconds).AddTicks(_nanoseconds / 100);
            return new UapiPeerState(publicKey, null, _endpoint, handshake, _txBytes, _rxBytes, _keepalive, _allowedIps);
        }
    }
}
