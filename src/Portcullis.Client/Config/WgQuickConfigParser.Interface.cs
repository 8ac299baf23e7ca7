using System.Globalization;
using System.Net;

namespace Portcullis.Client.Config;

public static partial class WgQuickConfigParser
{
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
                            throw Error(line, "DNS", $"'{Shown(item)}' is neither an IP address nor a search domain");
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
}
