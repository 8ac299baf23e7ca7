using System.Net;
using Tomlyn.Syntax;

namespace Portcullis.Gateway.Configuration;

/// <summary>
/// Walks the document's tables in order, hands each to the reader for its section, then checks what spans
/// sections (peer addresses inside the tunnel prefix, duplicates). Missing values become placeholders so that
/// parsing goes on and reports everything; the caller throws if any error was recorded.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal sealed class SectionParser(ConfigErrors errors, string baseDirectory)
{
    private const long MaxSessionTimeoutSeconds = 3600;

    /// <summary>Line of an inline <c>private_key</c>, so the loader can check who may read this file.</summary>
    public int? InlinePrivateKeyLine { get; private set; }

    public GatewayConfig? Parse(DocumentSyntax document, string path)
    {
        foreach (var item in document.KeyValues)
            errors.Add(TomlSection.LineOf(item), $"{TomlNames.Of(item.Key)}: unknown key (every key belongs in a [section])");

        TunnelSection? tunnel = null;
        NatSection? nat = null;
        Forwarding.ForwardingPolicy? forwarding = null;
        StoreSection? store = null;
        var storeLine = 1;
        GatewaySection? gateway = null;
        AdminSection? admin = null;
        var peers = new List<(PeerConfig Peer, TomlSection Section)>();
        var forwards = new List<(int Peer, StaticForward Forward, TomlSection Section)>();
        TomlSection? tunnelSection = null;

        foreach (var table in document.Tables)
        {
            var name = TomlNames.Of(table.Name);
            var isArray = table is TableArraySyntax;
            var display = isArray ? $"[[{name}]]" : $"[{name}]";
            var section = new TomlSection(display, TomlSection.LineOf(table), table.Items, errors);
            switch (name, isArray)
            {
                case ("tunnel", false):
                    tunnel = ParseTunnel(section);
                    tunnelSection = section;
                    break;
                case ("nat", false):
                    nat = ParseNat(section);
                    break;
                case ("forwarding", false):
                    forwarding = ForwardingSectionParser.Parse(section);
                    break;
                case ("store", false):
                    store = FleetSectionParser.ParseStore(section, Resolve);
                    storeLine = section.Line;
                    break;
                case ("gateway", false):
                    gateway = FleetSectionParser.ParseGateway(section);
                    break;
                case ("admin", false):
                    admin = ParseAdmin(section);
                    break;
                case ("peer", true):
                    peers.Add((PeerSectionParser.ParsePeer(section), section));
                    break;
                case ("peer.forward", true):
                    if (peers.Count == 0)
                    {
                        errors.Add(section.Line, "[[peer.forward]] must follow the [[peer]] it belongs to");
                        break;
                    }
                    var (owner, ownerSection) = peers[^1];
                    var forward = PeerSectionParser.ParseForward(section);
                    peers[^1] = (owner with { Forwards = [.. owner.Forwards, forward] }, ownerSection);
                    forwards.Add((peers.Count - 1, forward, section));
                    break;
                default:
                    errors.Add(section.Line, $"{display}: unknown section");
                    continue;
            }
            section.RejectUnread();
        }

        if (tunnel is null)
            errors.Add(1, "[tunnel]: required section is missing");
        if (nat is null)
            errors.Add(1, "[nat]: required section is missing");
        if (tunnel is not null)
        {
            PeerSectionParser.CheckAcrossPeers(peers, tunnel);
            PeerSectionParser.CheckForwardPorts(forwards, tunnel);
        }
        // NAT66 needs an address to masquerade to; a routed prefix needs none (peers egress from their own).
        if (tunnel?.Ipv6 is { Routed: false } && nat is { PublicAddresses6.Count: 0 })
            errors.Add(Ipv6SectionParser.LineOf(tunnelSection!), "[tunnel]", "address6", "NAT66 needs [nat] public_addresses6, the public IPv6 address(es) peers egress from");
        if (tunnel is not null && nat is not null)
            ForwardAddressCheck.Check(forwards, peers, tunnel, nat);
        if (tunnel is not null && nat is not null)
            DedicatedAddress6Check.Check(peers, tunnel, nat);
        FleetSectionParser.Check(store ?? new StoreSection(), gateway ?? new GatewaySection(), storeLine, errors);
        if (tunnel is null || nat is null)
            return null;
        return new GatewayConfig
        {
            SourcePath = path,
            Tunnel = tunnel,
            Nat = nat,
            Forwarding = forwarding ?? new Forwarding.ForwardingPolicy(),
            Store = store ?? new StoreSection(),
            Gateway = gateway ?? new GatewaySection(),
            Admin = admin ?? new AdminSection(),
            Peers = [.. peers.Select(p => p.Peer)],
        };
    }

    private TunnelSection ParseTunnel(TomlSection section)
    {
        var name = section.String("interface", required: true);
        if (name is not null && !ConfigValues.IsInterfaceName(name))
            section.Error("interface", "expected an interface name of 1-15 characters without '/', ':' or spaces");

        var privateKey = ReadPrivateKey(section);
        var port = section.Integer("listen_port", 1, 65535);

        var address = IPAddress.None;
        var prefix = default(IPNetwork);
        var addressText = section.String("address", required: true);
        if (addressText is not null)
        {
            if (!ConfigValues.TryParseInterfaceAddress(addressText, out address, out prefix) || prefix.PrefixLength is < 8 or > 30)
                section.Error("address", "expected the gateway's IPv4 address with its prefix length, 8 to 30, e.g. \"10.99.0.1/16\"");
            else if (!ConfigValues.IsHostOf(prefix, address))
                section.Error("address", "the gateway's address must not be the prefix's network or broadcast address");
        }

        var timeout = section.Integer("session_timeout", 5, MaxSessionTimeoutSeconds);
        var peerToPeer = section.Boolean("allow_peer_to_peer");
        var dns = TunnelDns.Parse(section, addressText is null ? null : prefix);
        var allowDns = section.Boolean("allow_dns");
        var remember = section.Boolean("remember_endpoints");
        var ipv6 = Ipv6SectionParser.ParseTunnel(section, addressText is null ? null : prefix, addressText is null ? null : address);
        // The tunnel reaches port 53 on the gateway only with allow_dns (the guard chain): a generated config naming
        // the gateway as its resolver would give every stock client a DNS that never answers.
        if (addressText is not null && dns.Contains(address) && allowDns != true)
            section.Error("dns", "names the gateway's tunnel address, which peers can reach for DNS only with allow_dns = true");
        return new TunnelSection
        {
            Interface = name ?? "",
            PrivateKey = privateKey ?? new byte[32],
            ListenPort = (ushort)(port ?? 51820),
            Address = address,
            Prefix = prefix,
            SessionTimeout = timeout is { } seconds ? TimeSpan.FromSeconds(seconds) : TimeSpan.FromSeconds(180),
            AllowPeerToPeer = peerToPeer ?? false,
            Dns = dns,
            AllowDns = allowDns ?? false,
            RememberEndpoints = remember ?? true,
            Ipv6 = ipv6,
        };
    }

    private byte[]? ReadPrivateKey(TomlSection section)
    {
        var inline = section.String("private_key");
        var file = section.String("private_key_file");
        if (inline is not null && file is not null)
        {
            section.Error("private_key_file", "give either private_key or private_key_file, not both");
            return null;
        }
        if (inline is null && file is null)
        {
            if (!section.Has("private_key") && !section.Has("private_key_file"))
                section.Missing("private_key");
            return null;
        }
        if (inline is not null)
        {
            InlinePrivateKeyLine = section.LineOf("private_key");
            if (ConfigValues.TryParseKey(inline, out var key))
                return key;
            section.Error("private_key", "expected a base64 WireGuard key of 32 bytes (as `wg genkey` prints)");
            return null;
        }
        return PrivateKeyFile.Read(section, Path.Combine(baseDirectory, file!));
    }

    private static NatSection ParseNat(TomlSection section)
    {
        var name = section.String("public_interface", required: true);
        if (name is not null && !ConfigValues.IsInterfaceName(name))
            section.Error("public_interface", "expected an interface name of 1-15 characters without '/', ':' or spaces");
        var addresses = new List<IPAddress>();
        var values = section.Array("public_addresses", required: true);
        if (values is not null)
        {
            if (values.Count == 0)
                section.Error("public_addresses", "expected at least one address");
            foreach (var value in values)
            {
                if (value is StringValueSyntax s && ConfigValues.TryParseIpv4(s.Value ?? "", out var address))
                {
                    if (addresses.Contains(address))
                        section.Error("public_addresses", $"{address} is listed twice");
                    addresses.Add(address);
                }
                else
                {
                    section.Error("public_addresses", "expected an array of IPv4 address strings, e.g. [\"198.51.100.10\"]");
                    break;
                }
            }
        }
        return new NatSection
        {
            PublicInterface = name ?? "",
            PublicAddresses = addresses,
            PublicAddresses6 = Ipv6SectionParser.ParsePublicAddresses(section),
            AllowDestinations = ParseDestinations(section, "allow_destinations"),
        };
    }

    private static List<IPNetwork> ParseDestinations(TomlSection section, string key)
    {
        var prefixes = new List<IPNetwork>();
        var values = section.Array(key);
        if (values is null)
            return prefixes;
        foreach (var value in values)
        {
            if (value is not StringValueSyntax { Value: { } text }
                || !(ConfigValues.TryParseIpv4Prefix(text, out var prefix) || ConfigValues.TryParseIpv6Prefix(text, out prefix)))
            {
                section.Error(key, "expected an array of IPv4 or IPv6 addresses or prefixes, e.g. [\"10.20.0.0/16\", \"169.254.169.123\", \"fd00:20::/48\"]");
                break;
            }
            prefixes.Add(prefix);
        }
        return prefixes;
    }

    /// <summary>Relative paths in the file are relative to the file's folder, not to wherever the daemon was started.</summary>
    private string? Resolve(string? path) => path is null ? null : Path.Combine(baseDirectory, path);

    private AdminSection ParseAdmin(TomlSection section)
    {
        IPEndPoint? listen = null;
        var listenText = section.String("listen");
        if (listenText is not null && (!IPEndPoint.TryParse(listenText, out listen) || listen.Port == 0))
        {
            section.Error("listen", "expected ADDRESS:PORT, e.g. \"127.0.0.1:8351\"");
            listen = null;
        }
        return new AdminSection
        {
            Listen = listen,
            TokenFile = Resolve(section.String("token_file")),
            MetricsPerPeer = section.Boolean("metrics_per_peer") ?? false,
        };
    }
}
