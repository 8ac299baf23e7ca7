using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Portcullis.Linux.Interop;

namespace Portcullis.Linux.Nftables;

/// <summary>Flows whose original direction was addressed to <see cref="Address"/>:<see cref="Port"/> over <see cref="Protocol"/> ("tcp" or "udp").</summary>
public readonly record struct OriginalDestination(string Protocol, IPAddress Address, ushort Port);

/// <summary>
/// Deletes tracked connections (conntrack entries) so that flows of a removed port mapping stop, in-process over
/// ctnetlink (what conntrack(8) does, without a process per call):
/// <list type="number">
/// <item>dump the IPv4 conntrack table (IPCTNL_MSG_CT_GET, NLM_F_DUMP);</item>
/// <item>keep the entries whose original destination (address, protocol, port) is one asked for;</item>
/// <item>delete each (IPCTNL_MSG_CT_DELETE with its own tuple, zone and id; one already gone is not an error).</item>
/// </list>
/// Namespace: the netlink socket is opened in the constructor, so it acts on the network namespace of the thread that
/// created this object — the same rule as <see cref="NftContext"/>. Calls are serialised by a lock.
/// </summary>
public sealed unsafe class Conntrack : IDisposable
{
    private const int SockRaw = 3;
    private const int SockCloexec = 0x80000;
    private const int SolSocket = 1;
    private const int SoRcvTimeo = 20;
    private const int SoRcvBuf = 8;
    private readonly Lock _lock = new();
    private readonly byte[] _buffer = new byte[256 * 1024];
    private int _fd;
    private uint _sequence;

    public Conntrack()
    {
        _fd = Libc.Socket(16 /* AF_NETLINK */, SockRaw | SockCloexec, CtNetlinkMessages.NetlinkNetfilter);
        if (_fd < 0)
            throw Errno.LastFailure("open ctnetlink socket");
        // A dead kernel conversation must not hang the caller forever.
        var timeout = stackalloc long[2] { 5, 0 };
        var size = 4 * 1024 * 1024;
        if (Libc.SetSockOpt(_fd, SolSocket, SoRcvTimeo, timeout, 16) < 0)
        {
            var failure = Errno.LastFailure("set ctnetlink receive timeout");
            Libc.Close(_fd);
            throw failure;
        }
        _ = Libc.SetSockOpt(_fd, SolSocket, SoRcvBuf, &size, sizeof(int)); // best effort: a bigger dump buffer
    }

    /// <summary>
    /// Deletes every tracked IPv4 flow whose original destination is one of <paramref name="destinations"/> and returns
    /// how many were deleted. None is not an error. Throws <see cref="LinuxCallException"/> when the kernel refuses.
    /// </summary>
    public int Delete(IReadOnlyCollection<OriginalDestination> destinations)
    {
        ArgumentNullException.ThrowIfNull(destinations);
        var wanted = new HashSet<CtNetlinkMessages.Destination>();
        Span<byte> bytes = stackalloc byte[4];
        foreach (var (protocol, address, port) in destinations)
        {
            byte number = protocol switch
            {
                "tcp" => 6,
                "udp" => 17,
                _ => throw new ArgumentException($"protocol must be tcp or udp, not '{protocol}'", nameof(destinations)),
            };
            if (address is null || address.AddressFamily != AddressFamily.InterNetwork)
                throw new ArgumentException("only IPv4 destinations are tracked here", nameof(destinations));
            address.TryWriteBytes(bytes, out _);
            wanted.Add(new CtNetlinkMessages.Destination(BinaryPrimitives.ReadUInt32BigEndian(bytes), number, port));
        }
        if (wanted.Count == 0)
            return 0;

        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_fd < 0, this);
            var doomed = DumpMatching(wanted);
            var deleted = 0;
            foreach (var entry in doomed)
            {
                var request = CtNetlinkMessages.DeleteRequest(entry, ++_sequence);
                if (request is null)
                    continue;
                var error = Transact(request, _sequence, "delete conntrack entry");
                if (error == 0)
                    deleted++;
                else if (error != Errno.ENOENT) // it ended by itself meanwhile
                    throw Errno.Failure("delete conntrack entry", error);
            }
            return deleted;
        }
    }

    /// <summary>As <see cref="Delete(IReadOnlyCollection{OriginalDestination})"/> for one destination.</summary>
    public int Delete(OriginalDestination destination) => Delete([destination]);

    public void Dispose()
    {
        lock (_lock)
        {
            if (_fd < 0)
                return;
            Libc.Close(_fd);
            _fd = -1;
        }
    }

    // The whole dump is read before any delete: ctnetlink does not allow interleaving requests with a running dump.
    private List<byte[]> DumpMatching(HashSet<CtNetlinkMessages.Destination> wanted)
    {
        var sequence = ++_sequence;
        Send(CtNetlinkMessages.DumpRequest(sequence), "dump conntrack table");
        var matches = new List<byte[]>();
        while (true)
        {
            var received = Receive("dump conntrack table");
            foreach (var (offset, length, type, messageSequence) in CtNetlinkMessages.Split(_buffer.AsSpan(0, received)))
            {
                if (messageSequence != sequence)
                    continue;
                var message = _buffer.AsSpan(offset, length);
                if (type == CtNetlinkMessages.NlmsgDone)
                    return matches;
                if (type == CtNetlinkMessages.NlmsgError)
                {
                    var error = CtNetlinkMessages.ErrorOf(message);
                    if (error != 0)
                        throw Errno.Failure("dump conntrack table", error);
                    continue;
                }
                if (CtNetlinkMessages.TryReadDestination(message, out var destination) && wanted.Contains(destination))
                    matches.Add(message.ToArray());
            }
        }
    }

    private int Transact(byte[] request, uint sequence, string operation)
    {
        Send(request, operation);
        while (true)
        {
            var received = Receive(operation);
            foreach (var (offset, length, type, messageSequence) in CtNetlinkMessages.Split(_buffer.AsSpan(0, received)))
            {
                if (messageSequence == sequence && type == CtNetlinkMessages.NlmsgError)
                    return CtNetlinkMessages.ErrorOf(_buffer.AsSpan(offset, length));
            }
        }
    }

    private void Send(byte[] message, string operation)
    {
        fixed (byte* m = message)
        {
            nint sent;
            do
                sent = Libc.Send(_fd, m, (nuint)message.Length, 0);
            while (sent < 0 && Errno.Last == Errno.EINTR);
            if (sent < 0)
                throw Errno.LastFailure($"{operation} (netlink send)");
        }
    }

    private int Receive(string operation)
    {
        nint received;
        fixed (byte* b = _buffer)
        {
            do
                received = Libc.Recv(_fd, b, (nuint)_buffer.Length, 0);
            while (received < 0 && Errno.Last == Errno.EINTR);
        }
        if (received < 0)
            throw Errno.LastFailure($"{operation} (netlink receive)");
        return (int)received;
    }
}
