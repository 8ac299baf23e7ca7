using System.Globalization;
using System.Net;

namespace Portcullis.Client.Config;

/// <summary>
/// Parses wg-quick(8) files: <c>[Interface]</c> and <c>[Peer]</c> sections of <c>Key = Value</c> lines, '#' comments,
/// keys and section names case-insensitive (as wg-quick matches them). Address, DNS and AllowedIPs may repeat and take
/// comma-separated lists; every other key is set once. Unknown keys are errors; wg-quick's shell hooks and SaveConfig
/// are refused with the reason. Errors name file, line and key, never a value.
/// </summary>
public static class WgQuickConfigParser
{
    private static readonly HashSet<string> RefusedHooks = new(StringComparer.OrdinalIgnoreCase)
    {
        "PreUp", "PostUp", "PreDown", "PostDown",
    };

    /// <summary>Reads and parses <paramref name="path"/>; <paramref name="warnings"/> gets a note if others can read it.</summary>
    public static WgQuickConfig Load(string path, out IReadOnlyList<string> warnings)
    {
        if (!OperatingSystem.IsLinux())
            throw new PlatformNotSupportedException("wg-quick files are read on Linux only");
        string text;
        UnixFileMode mode;
        try
        {
            text = File.ReadAllText(path);
            mode = File.GetUnixFileMode(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new WgQuickConfigException(path, 0, null, $"cannot read the file: {e.Message}");
        }

        warnings = PermissionWarning(path, mode) is { } warning ? [warning] : [];
        return Parse(text, path);
    }

    /// <summary>A warning when a file holding a private key is open to group or others (wg-quick wants 0600).</summary>
    public static string? PermissionWarning(string path, UnixFileMode mode)
    {
        const UnixFileMode Others = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
            | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;
        if ((mode & Others) == 0)
            return null;
        var octal = Convert.ToString((int)mode & 0x1FF, 8).PadLeft(4, '0');
        return $"{path} holds a private key but has mode {octal}; run `chmod 600 {path}`";
    }

    public static WgQuickConfig Parse(string text, string path)
    {
        ArgumentNullException.ThrowIfNull(text);
        var state = new ParseState(path);
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
            state.Line(i + 1, lines[i]);
        return state.Finish();
    }

    private sealed class ParseState(string path)
    {
        private InterfaceBuilder? _interface;
        private readonly List<PeerBuilder> _peers = [];
        private SectionBuilder? _current;

        public void Line(int number, string raw)
        {
            var hash = raw.IndexOf('#', StringComparison.Ordinal);
            var line = (hash >= 0 ? raw[..hash] : raw).Trim();
            if (line.Length == 0)
                return;

            if (line.StartsWith('[') && line.EndsWith(']'))
            {
                var name = line[1..^1].Trim();
                if (name.Equals("Interface", StringComparison.OrdinalIgnoreCase))
                {
                    if (_interface is not null)
                        throw Error(number, null, $"a second [Interface] section (the first is on line {_interface.Line})");
                    _current = _interface = new InterfaceBuilder(path, number);
                }
                else if (name.Equals("Peer", StringComparison.OrdinalIgnoreCase))
                {
                    var peer = new PeerBuilder(path, number);
                    _peers.Add(peer);
                    _current = peer;
                }
                else
                {
                    throw Error(number, null, $"unknown section [{name}] (expected [Interface] or [Peer])");
                }
                return;
            }

            var equals = line.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
                throw Error(number, null, "expected `Key = Value`");
            var key = line[..equals].Trim();
            var value = line[(equals + 1)..].Trim();
            if (RefusedHooks.Contains(key))
                throw Error(number, key, "refused: Portcullis does not run shell commands from a VPN configuration (remove the line, or use --on-port-change for port hooks)");
            if (key.Equals("SaveConfig", StringComparison.OrdinalIgnoreCase))
                throw Error(number, key, "refused: Portcullis never writes the running configuration back into this file");
            if (_current is null)
                throw Error(number, key, "outside of a section (put it under [Interface] or [Peer])");
            _current.Set(number, key, value);
        }

        public WgQuickConfig Finish()
        {
            if (_interface is null)
                throw Error(0, null, "no [Interface] section");
            var peers = new List<PeerSection>(_peers.Count);
            var seen = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var builder in _peers)
            {
                var peer = builder.Build();
                var key = Convert.ToBase64String(peer.PublicKey);
                if (seen.TryGetValue(key, out var first))
                    throw Error(builder.Line, "PublicKey", $"the same peer twice (first in the [Peer] on line {first})");
                seen[key] = builder.Line;
                peers.Add(peer);
            }
            return new WgQuickConfig { Path = path, Interface = _interface.Build(), Peers = peers };
        }

        private WgQuickConfigException Error(int line, string? key, string reason) => new(path, line, key, reason);
    }

    /// <summary>Shared by both sections: "set once" bookkeeping and the value parsers, which throw naming the key.</summary>
    private abstract class SectionBuilder(string path, int line)
    {
        private readonly Dictionary<string, int> _setOn = new(StringComparer.OrdinalIgnoreCase);

        public int Line { get; } = line;

        protected string Path { get; } = path;

        public abstract void Set(int line, string key, string value);

        protected void Once(int line, string key)
        {
            if (_setOn.TryGetValue(key, out var first))
                throw Error(line, key, $"set twice (first on line {first})");
            _setOn[key] = line;
        }

        protected WgQuickConfigException Error(int line, string? key, string reason) => new(Path, line, key, reason);

        protected byte[] Key(int line, string key, string value)
        {
            var bytes = new byte[32];
            if (value.Length != 44 || !Convert.TryFromBase64String(value, bytes, out var written) || written != 32)
                throw Error(line, key, "not a valid key (expected 44 base64 characters encoding 32 bytes, as `wg genkey` prints)");
            return bytes;
        }

        protected ushort Port(int line, string key, string value) =>
            ushort.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var port)
                ? port
                : throw Error(line, key, "not a port number (0-65535)");

        protected static string[] List(string value) =>
            value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

        /// <summary>ADDRESS[/LENGTH]; a missing length means a host (/32 or /128).</summary>
        protected (IPAddress Address, int Length) Prefix(int line, string key, string item)
        {
            var slash = item.IndexOf('/', StringComparison.Ordinal);
            var addressText = slash < 0 ? item : item[..slash];
            if (!IPAddress.TryParse(addressText, out var address) || addressText.Contains('%', StringComparison.Ordinal))
                throw Error(line, key, $"'{item}' is not an IP address or prefix");
            var max = address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128;
            var length = max;
            if (slash >= 0 && (!int.TryParse(item[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out length) || length > max))
                throw Error(line, key, $"'{item}' has an invalid prefix length (0-{max})");
            return (address, length);
        }
    }

    private sealed class InterfaceBuilder(string path, int line) : SectionBuilder(path, line)
    {
        private byte[]? _privateKey;
        private readonly List<InterfaceAddress> _addresses = [];
        private readonly List<IPAddress> _dns = [];
        private readonly List<string> _search = [];
        private int? _mtu;
        private ushort? _listenPort;
        private uint? _fwMark;
        private string? _table;

        public override void Set(int line, string key, string value)
        {
            switch (key.ToLowerInvariant())
            {
                case "privatekey":
                    Once(line, "PrivateKey");
                    _privateKey = Key(line, "PrivateKey", value);
                    break;
                case "address":
                    foreach (var item in List(value))
                    {
                        var (address, length) = Prefix(line, "Address", item);
                        _addresses.Add(new InterfaceAddress(address, length));
                    }
                    break;
                case "dns":
                    foreach (var item in List(value))
                    {
                        if (IPAddress.TryParse(item, out var server))
                            _dns.Add(server);
                        else if (IsDomain(item))
                            _search.Add(item);
                        else
                            throw Error(line, "DNS", $"'{item}' is neither an IP address nor a search domain");
                    }
                    break;
                case "mtu":
                    Once(line, "MTU");
                    _mtu = int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var mtu) && mtu is >= 576 and <= 65535
                        ? mtu
                        : throw Error(line, "MTU", "not an MTU (576-65535)");
                    break;
                case "listenport":
                    Once(line, "ListenPort");
                    _listenPort = Port(line, "ListenPort", value);
                    break;
                case "fwmark":
                    Once(line, "FwMark");
                    _fwMark = value.Equals("off", StringComparison.OrdinalIgnoreCase) ? 0 : Mark(line, value);
                    break;
                case "table":
                    Once(line, "Table");
                    if (!value.Equals("off", StringComparison.OrdinalIgnoreCase) && !value.Equals("auto", StringComparison.OrdinalIgnoreCase)
                        && !(int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var table) && table is > 0 and < int.MaxValue))
                        throw Error(line, "Table", "expected off, auto or a routing table number (table names are not supported)");
                    _table = value;
                    break;
                default:
                    throw Error(line, key, "unknown key in [Interface] (known: PrivateKey, Address, DNS, MTU, ListenPort, FwMark, Table)");
            }
        }

        public InterfaceSection Build()
        {
            if (_privateKey is null)
                throw Error(Line, "PrivateKey", "missing from [Interface]");
            return new InterfaceSection
            {
                PrivateKey = _privateKey,
                Addresses = _addresses,
                DnsServers = _dns,
                DnsSearch = _search,
                Mtu = _mtu,
                ListenPort = _listenPort,
                FwMark = _fwMark,
                Table = _table,
            };
        }

        private uint Mark(int line, string value)
        {
            var ok = value.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
                ? uint.TryParse(value.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var mark)
                : uint.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out mark);
            return ok ? mark : throw Error(line, "FwMark", "expected off, a number or 0x-hex");
        }

        private static bool IsDomain(string item) =>
            item.Length <= 253 && item.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.') && !item.StartsWith('.') && !item.Contains("..", StringComparison.Ordinal);
    }

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
                    throw Error(line, "Endpoint", $"'{host}' is not an IPv6 address");
            }
            else
            {
                var colon = value.LastIndexOf(':');
                if (colon <= 0 || value.IndexOf(':', StringComparison.Ordinal) != colon)
                    throw Error(line, "Endpoint", "expected host:port (an IPv6 address goes in brackets: [addr]:port)");
                host = value[..colon];
                port = value[(colon + 1)..];
                if (!IPAddress.TryParse(host, out _) && Uri.CheckHostName(host) != UriHostNameType.Dns)
                    throw Error(line, "Endpoint", $"'{host}' is not a host name or address");
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
