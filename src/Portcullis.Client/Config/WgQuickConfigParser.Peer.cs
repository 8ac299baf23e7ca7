using System.Globalization;
using System.Net;

namespace Portcullis.Client.Config;

public static partial class WgQuickConfigParser
{
    private sealed class PeerBuilder(string path, int line) : SectionBuilder(path, line)
    {
        private byte[]? _publicKey;
        private byte[]? _presharedKey;
        private PeerEndpoint? _endpoint;
        private readonly List<IPNetwork> _allowedIps = [];
        private ushort? _keepalive;

        public override void Set(int line, string key, string value)
        {
            switch (key.ToLowerInvariant())
            {
                case "publickey":
                    Once(line, "PublicKey");
                    _publicKey = Key(line, "PublicKey", value);
                    break;
                case "presharedkey":
                    Once(line, "PresharedKey");
                    _presharedKey = Key(line, "PresharedKey", value);
                    break;
                case "endpoint":
                    Once(line, "Endpoint");
                    _endpoint = Endpoint(line, value);
                    break;
                case "allowedips":
                    foreach (var item in List(value))
                    {
                        var (address, length) = Prefix(line, "AllowedIPs", item);
                        _allowedIps.Add(new IPNetwork(Mask(address, length), length));
                    }
                    break;
                case "persistentkeepalive":
                    Once(line, "PersistentKeepalive");
                    _keepalive = value.Equals("off", StringComparison.OrdinalIgnoreCase)
                        ? (ushort)0
                        : ushort.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
                            ? seconds
                            : throw Error(line, "PersistentKeepalive", "expected off or seconds (0-65535)");
                    break;
                default:
                    throw Error(line, key, "unknown key in [Peer] (known: PublicKey, PresharedKey, Endpoint, AllowedIPs, PersistentKeepalive)");
            }
        }

        public PeerSection Build()
        {
            if (_publicKey is null)
                throw Error(Line, "PublicKey", "missing from [Peer]");
            return new PeerSection
            {
                PublicKey = _publicKey,
                PresharedKey = _presharedKey,
                Endpoint = _endpoint,
                AllowedIps = _allowedIps,
                PersistentKeepalive = _keepalive,
            };
        }

        private PeerEndpoint Endpoint(int line, string value)
        {
            string host;
            string port;
            if (value.StartsWith('['))
            {
                var close = value.IndexOf("]:", StringComparison.Ordinal);
                if (close < 0)
                    throw Error(line, "Endpoint", "expected [IPv6]:port");
                host = value[1..close];
                port = value[(close + 2)..];
                if (!IPAddress.TryParse(host, out var v6) || v6.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
                    throw Error(line, "Endpoint", $"'{Shown(host)}' is not an IPv6 address");
            }
            else
            {
                var colon = value.LastIndexOf(':');
                if (colon <= 0 || value.IndexOf(':', StringComparison.Ordinal) != colon)
                    throw Error(line, "Endpoint", "expected host:port (an IPv6 address goes in brackets: [addr]:port)");
                host = value[..colon];
                port = value[(colon + 1)..];
                if (!IPAddress.TryParse(host, out _) && Uri.CheckHostName(host) != UriHostNameType.Dns)
                    throw Error(line, "Endpoint", $"'{Shown(host)}' is not a host name or address");
            }
            var number = Port(line, "Endpoint", port);
            return number == 0 ? throw Error(line, "Endpoint", "port 0 cannot be reached") : new PeerEndpoint(host, number);
        }

        private static IPAddress Mask(IPAddress address, int length)
        {
            var bytes = address.GetAddressBytes();
            for (var i = 0; i < bytes.Length; i++)
            {
                var keep = Math.Clamp(length - i * 8, 0, 8);
                bytes[i] &= (byte)(0xFF << (8 - keep));
            }
            return new IPAddress(bytes);
        }
    }
}
