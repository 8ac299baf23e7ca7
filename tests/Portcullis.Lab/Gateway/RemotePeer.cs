using System.Globalization;
using Portcullis.Lab.Harness;

namespace Portcullis.Lab.Gateway;

/// <summary>
/// A BitTorrent peer on the internet reaching a forwarded port: over TCP the BEP 3 handshake, which the engine answers
/// with its own for the same torrent; over UDP a uTP (BEP 29) ST_SYN, which it answers with ST_STATE for the same
/// connection id. Either answer comes from the engine itself, not from a kernel that merely let the packet in.
/// </summary>
internal static class RemotePeer
{
    private const string TcpHandshake = """
        import os, socket, sys
        info_hash = bytes.fromhex(sys.argv[3])
        s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
        s.sendall(b'\x13BitTorrent protocol' + b'\0' * 8 + info_hash + b'-PC0001-' + os.urandom(12))
        answer = b''
        while len(answer) < 68:
            chunk = s.recv(68 - len(answer))
            if not chunk:
                break
            answer += chunk
        print('handshake' if answer[:20] == b'\x13BitTorrent protocol' and answer[28:48] == info_hash else 'unexpected ' + answer.hex())
        """;

    // BEP 29 header: type 4 (ST_SYN) << 4 | version 1, no extension, connection id, timestamps, window, seq, ack.
    private const string UtpSyn = """
        import os, socket, struct, sys, time
        conn = struct.unpack('!H', os.urandom(2))[0]
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(1)
        for attempt in range(5):
            now = int(time.time() * 1e6) & 0xffffffff
            s.sendto(struct.pack('!BBHIIIHH', 0x41, 0, conn, now, 0, 1 << 20, 1, 0), (sys.argv[1], int(sys.argv[2])))
            try:
                data, _ = s.recvfrom(2048)
            except socket.timeout:
                continue
            kind, version, reply_conn = data[0] >> 4, data[0] & 15, struct.unpack('!H', data[2:4])[0]
            if kind == 2 and version == 1 and reply_conn == conn:
                print('st_state')
                sys.exit(0)
            print('unexpected', data.hex())
            sys.exit(1)
        print('no answer')
        sys.exit(1)
        """;

    /// <summary>The engine's answer to a BitTorrent handshake for <paramref name="infoHash"/>: "handshake", or what came instead.</summary>
    public static async Task<string> TcpHandshakeAsync(LabHost from, string address, int port, string infoHash) =>
        Outcome(await from.RunAsync(["python3", "-c", TcpHandshake, address, Invariant(port), infoHash], RunOptions.Default with { Timeout = TimeSpan.FromSeconds(10) }));

    /// <summary>The answer to a uTP SYN: "st_state", or what came instead.</summary>
    public static async Task<string> UtpHandshakeAsync(LabHost from, string address, int port) =>
        Outcome(await from.RunAsync(["python3", "-c", UtpSyn, address, Invariant(port)], RunOptions.Default with { Timeout = TimeSpan.FromSeconds(15) }));

    private static string Outcome(CommandResult result) => result.Succeeded ? result.Stdout.Trim() : result.ToString();

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);
}
