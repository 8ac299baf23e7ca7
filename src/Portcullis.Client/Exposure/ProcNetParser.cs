using System.Buffers.Binary;
using System.Globalization;
using System.Net;

namespace Portcullis.Client.Exposure;

/// <summary>
/// Reads /proc/net/{tcp,tcp6,udp,udp6}: one socket a line, "sl local_address rem_address st …", addresses in hex as
/// the kernel's 32-bit words in host byte order, the port in hex. TCP counts when listening (st 0A); UDP always
/// (an unconnected UDP socket is st 07). Lines that do not parse are skipped: the check warns, it never fails.
/// </summary>
public static class ProcNetParser
{
    private const string TcpListen = "0A";

    public static IReadOnlyList<Listener> Parse(string text, ListenerProtocol protocol)
    {
        ArgumentNullException.ThrowIfNull(text);
        var listeners = new List<Listener>();
        foreach (var line in text.Split('\n'))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 4 || !fields[0].EndsWith(':'))
                continue;
            if (protocol == ListenerProtocol.Tcp && fields[3] != TcpListen)
                continue;
            var local = fields[1];
            var colon = local.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0 || !ushort.TryParse(local.AsSpan(colon + 1), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var port))
                continue;
            if (TryAddress(local.AsSpan(0, colon), out var address))
                listeners.Add(new Listener(protocol, address, port));
        }
        return listeners;
    }

    /// <summary>All four tables of this network namespace.</summary>
    public static IReadOnlyList<Listener> ReadSystem(string procNet = "/proc/net")
    {
        var all = new List<Listener>();
        foreach (var (file, protocol) in new[] { ("tcp", ListenerProtocol.Tcp), ("tcp6", ListenerProtocol.Tcp), ("udp", ListenerProtocol.Udp), ("udp6", ListenerProtocol.Udp) })
        {
            var path = Path.Combine(procNet, file);
            if (File.Exists(path))
                all.AddRange(Parse(File.ReadAllText(path), protocol));
        }
        return all;
    }

    private static bool TryAddress(ReadOnlySpan<char> hex, out IPAddress address)
    {
        address = IPAddress.None;
        if (hex.Length is not (8 or 32))
            return false;
        Span<byte> bytes = stackalloc byte[hex.Length / 2];
        for (var word = 0; word < hex.Length / 8; word++)
        {
            if (!uint.TryParse(hex.Slice(word * 8, 8), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value))
                return false;
            // The kernel printed the word as a host-order integer; the address bytes are its memory layout.
            if (BitConverter.IsLittleEndian)
                BinaryPrimitives.WriteUInt32LittleEndian(bytes[(word * 4)..], value);
            else
                BinaryPrimitives.WriteUInt32BigEndian(bytes[(word * 4)..], value);
        }
        address = new IPAddress(bytes);
        return true;
    }
}
