using System.Net;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Configuration;

/// <summary>[[peer]] and [[peer.forward]], and the checks across peers: unique names, keys and addresses.</summary>
internal static class PeerSectionParser
{
    public static PeerConfig ParsePeer(TomlSection section)
    {
        var name = section.String("name", required: true);
        if (name is not null && (name.Length is 0 or > 64 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '@')))
            section.Error("name", "expected 1-64 letters, digits, '-', '_', '.' or '@'");

        byte[] publicKey = [];
        var keyText = section.String("public_key", required: true);
        if (keyText is not null && !ConfigValues.TryParseKey(keyText, out publicKey))
            section.Error("public_key", "expected a base64 WireGuard key of 32 bytes (as `wg pubkey` prints)");

        return new PeerConfig
        {
            Name = name ?? "",
            PublicKey = publicKey,
            Address = Address(section, "address", allowHostPrefix: true),
            DedicatedAddress = Address(section, "dedicated_address", allowHostPrefix: false),
            DedicatedAddress6 = DedicatedAddress6Check.Parse(section),
        };
    }

    public static StaticForward ParseForward(TomlSection section)
    {
        var protocolText = section.String("protocol", required: true);
        var protocol = protocolText is null ? ForwardProtocol.Tcp
            : ForwardProtocols.TryParse(protocolText, out var named) ? named : Invalid(section);
        var external = (ushort)(section.Integer("external_port", 1, 65535, required: true) ?? 0);
        var internalPort = (ushort)(section.Integer("internal_port", 1, 65535) ?? external);
        return new StaticForward(protocol, external, internalPort, ForwardAddressCheck.Parse(section));

        static ForwardProtocol Invalid(TomlSection section)
        {
            section.Error("protocol", "expected \"tcp\", \"udp\" or \"both\"");
            return ForwardProtocol.Tcp;
        }
    }

    /// <summary>
    /// No UDP forward on the gateway's WireGuard port: the kernel keeps the gateway's own listening ports its own on
    /// every local address (DESIGN §3), so nothing would ever reach such a forward.
    /// </summary>
    public static void CheckForwardPorts(IReadOnlyList<(int Peer, StaticForward Forward, TomlSection Section)> forwards, TunnelSection tunnel)
    {
        foreach (var (_, forward, section) in forwards)
        {
            if (forward.ExternalPort == tunnel.ListenPort && forward.Protocol is ForwardProtocol.Udp or ForwardProtocol.Both)
                section.Error("external_port", $"UDP {forward.ExternalPort} is the gateway's own WireGuard port ([tunnel] listen_port): nothing would ever reach a forward there");
        }
    }

    /// <summary>Addresses inside the tunnel prefix and not the gateway's; no name, key or address used twice.</summary>
    public static void CheckAcrossPeers(IReadOnlyList<(PeerConfig Peer, TomlSection Section)> peers, TunnelSection tunnel)
    {
        var names = new Dictionary<string, int>(StringComparer.Ordinal);
        var keys = new Dictionary<string, int>(StringComparer.Ordinal);
        var addresses = new Dictionary<IPAddress, int>();
        foreach (var (peer, section) in peers)
        {
            if (peer.Name.Length > 0 && !names.TryAdd(peer.Name, section.Line))
                section.Error("name", $"another [[peer]] (line {names[peer.Name]}) has this name");
            if (peer.PublicKey.Length == 32 && !keys.TryAdd(peer.PublicKeyBase64, section.Line))
                section.Error("public_key", $"another [[peer]] (line {keys[peer.PublicKeyBase64]}) has this key");
            if (peer.Address is not { } address)
                continue;
            if (!tunnel.Address.Equals(IPAddress.None) && !ConfigValues.IsHostOf(tunnel.Prefix, address))
                section.Error("address", $"{address} is not a host address of the tunnel prefix {tunnel.Prefix}");
            else if (address.Equals(tunnel.Address))
                section.Error("address", $"{address} is the gateway's own tunnel address");
            else if (!addresses.TryAdd(address, section.Line))
                section.Error("address", $"another [[peer]] (line {addresses[address]}) has {address}");
        }
    }

    private static IPAddress? Address(TomlSection section, string key, bool allowHostPrefix)
    {
        var text = section.String(key);
        if (text is null)
            return null;
        if (allowHostPrefix && text.EndsWith("/32", StringComparison.Ordinal))
            text = text[..^3];
        if (ConfigValues.TryParseIpv4(text, out var address))
            return address;
        section.Error(key, "expected an IPv4 address, e.g. \"10.99.0.2\"");
        return null;
    }
}
