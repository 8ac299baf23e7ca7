using System.Globalization;
using Portcullis.Lab.Harness;

namespace Portcullis.Lab.Gateway;

/// <summary>
/// One PCP MAP answer as a client saw it: from where, how long, and what it said (RFC 6887 §7.2, §11.1);
/// <paramref name="EchoedFilters"/>: whether the options after the MAP data are exactly the FILTER options sent.
/// </summary>
internal sealed record PcpAnswer(string From, int Size, int Result, int Lifetime, int ExternalPort, string ExternalAddress,
    bool EchoedFilters = true);

/// <summary>
/// A PCP MAP client in a few lines of Python (no stock PCP client is packaged): the request is built byte by byte
/// from RFC 6887, so the test checks our server against the RFC, not against our own codec. FILTER options
/// (§13.3) are given as "ADDRESS/PREFIX_LENGTH/REMOTE_PORT"; an IPv4 prefix length goes on the wire + 96 (IPv4-mapped),
/// an IPv6 one as it is.
/// </summary>
internal static class PcpClient
{
    public const int Success = 0;
    public const int AddressMismatch = 12;

    // What both requests share: an address as PCP carries it (IPv4-mapped), the exchange with its retransmissions
    // (RFC 6887 §8.1.1, shortened), and the assigned external port and address of an answer of the given size.
    private const string Exchange = """
        import ipaddress, os, socket, struct, sys
        def mapped(text):
            ip = ipaddress.ip_address(text)
            return b'\0' * 10 + b'\xff\xff' + ip.packed if ip.version == 4 else ip.packed
        def exchange(gateway, request):
            s = socket.socket(socket.AF_INET6 if ':' in gateway else socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(1)
            for attempt in range(4):
                s.sendto(request, (gateway, 5351))
                try:
                    return s.recvfrom(2048)
                except socket.timeout:
                    pass
            print('no answer')
            sys.exit(1)
        def external(data, size):
            if len(data) < size:
                return 0, '-'
            address = ipaddress.IPv6Address(data[44:60])
            return struct.unpack('!H', data[42:44])[0], str(address.ipv4_mapped or address)

        """;

    private const string Script = Exchange + """
        gateway, client_ip, proto, internal, lifetime = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
        header = struct.pack('!BBHI', 2, 1, 0, lifetime) + mapped(client_ip)
        nonce = bytes.fromhex(sys.argv[6]) if len(sys.argv) > 6 and sys.argv[6] else os.urandom(12)
        options = b''
        for f in (sys.argv[7].split(',') if len(sys.argv) > 7 and sys.argv[7] else []):
            address, length, remote_port = f.split('/')
            v4 = ipaddress.ip_address(address).version == 4
            options += struct.pack('!BBHBBH', 3, 0, 20, 0, int(length) + (96 if v4 else 0), int(remote_port)) + mapped(address)
        body = nonce + struct.pack('!B3xHH', proto, internal, 0) + b'\0' * 16 + options
        data, source = exchange(gateway, header + body)
        result, life = data[3], struct.unpack('!I', data[4:8])[0]
        port, address = external(data, 60)
        print(source[0], len(data), result, life, port, address, int(result != 0 or data[60:] == options))
        """;

    // PEER (RFC 6887 §12.1): the MAP fields (nonce, protocol, 24 reserved bits, internal port, suggested external port
    // and address), then remote peer port, 16 reserved bits, remote peer address; the answer (§12.2) has the same layout
    // with the assigned external port and address.
    private const string PeerScript = Exchange + """
        gateway, client_ip, proto, internal, lifetime, remote, remote_port, nonce = sys.argv[1:9]
        header = struct.pack('!BBHI', 2, 2, 0, int(lifetime)) + mapped(client_ip)
        body = bytes.fromhex(nonce) + struct.pack('!B3xHH', int(proto), int(internal), 0) + b'\0' * 16
        body += struct.pack('!HH', int(remote_port), 0) + mapped(remote)
        data, source = exchange(gateway, header + body)
        result, life = data[3], struct.unpack('!I', data[4:8])[0]
        same = data[1] == 0x82 and data[24:36] == body[:12] and data[60:80] == body[36:56]
        port, address = external(data, 80)
        print(source[0], len(data), result, life, port, address, int(same))
        """;

    /// <summary>
    /// A PEER request for (protocol, internal port) → remote:remotePort. <see cref="PcpAnswer.EchoedFilters"/> says here
    /// whether the answer is a PEER response carrying the request's nonce and remote peer back.
    /// </summary>
    public static Task<PcpAnswer> PeerAsync(LabHost client, string claimedClientAddress, int protocol, int internalPort, int lifetime,
        string remote, int remotePort, string nonce) =>
        PeerAsync(client, GatewayLab.GatewayTunnelAddress, claimedClientAddress, protocol, internalPort, lifetime, remote, remotePort, nonce);

    /// <summary>A PEER sent to <paramref name="server"/>: an IPv6 server address sends it over IPv6.</summary>
    public static async Task<PcpAnswer> PeerAsync(LabHost client, string server, string claimedClientAddress, int protocol, int internalPort,
        int lifetime, string remote, int remotePort, string nonce)
    {
        var result = await client.RunAsync(
            ["python3", "-c", PeerScript, server, claimedClientAddress, Invariant(protocol), Invariant(internalPort),
                Invariant(lifetime), remote, Invariant(remotePort), nonce],
            RunOptions.Default with { Timeout = TimeSpan.FromSeconds(10), Check = true });
        var f = result.Stdout.Trim().Split(' ');
        return new PcpAnswer(f[0], Parse(f[1]), Parse(f[2]), Parse(f[3]), Parse(f[4]), f[5], f[6] == "1");
    }

    /// <param name="nonce">The mapping nonce as 24 hex digits; null: a random one.</param>
    /// <param name="filters">FILTER options, each "ADDRESS/PREFIX_LENGTH/REMOTE_PORT" (0 = any port; "0.0.0.0/-96/0" removes all).</param>
    public static Task<PcpAnswer> MapAsync(LabHost client, string claimedClientAddress, int protocol, int internalPort, int lifetime,
        string? nonce = null, params string[] filters) =>
        MapAsync(client, GatewayLab.GatewayTunnelAddress, claimedClientAddress, protocol, internalPort, lifetime, nonce, filters);

    /// <summary>A MAP sent to <paramref name="server"/>: an IPv6 server address sends it over IPv6 (RFC 6887 §11).</summary>
    public static async Task<PcpAnswer> MapAsync(LabHost client, string server, string claimedClientAddress, int protocol, int internalPort, int lifetime,
        string? nonce = null, params string[] filters)
    {
        string[] command = ["python3", "-c", Script, server, claimedClientAddress, Invariant(protocol), Invariant(internalPort), Invariant(lifetime)];
        if (nonce is not null || filters.Length > 0)
            command = [.. command, nonce ?? "", string.Join(',', filters)];
        var result = await client.RunAsync(
            command,
            RunOptions.Default with { Timeout = TimeSpan.FromSeconds(10), Check = true });
        var f = result.Stdout.Trim().Split(' ');
        return new PcpAnswer(f[0], Parse(f[1]), Parse(f[2]), Parse(f[3]), Parse(f[4]), f[5], f[6] == "1");
    }

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static int Parse(string text) => int.Parse(text, CultureInfo.InvariantCulture);
}
