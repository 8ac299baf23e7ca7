using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Portcullis.Linux.Interop;

namespace Portcullis.Linux.Nftables;

/// <summary>Flows whose original direction was addressed to <see cref="Address"/>:<see cref="Port"/> over <see cref="Protocol"/> ("tcp" or "udp").</summary>
public readonly record struct OriginalDestination(string Protocol, IPAddress Address, ushort Port);

/// <summary>
/// Deletes tracked connections (conntrack entries) so that flows of a removed port mapping stop, in-process over
/// ctnetlink (what conntrack(8) does, without a process per call). Per destination asked for:
/// <list type="number">
/// <item>dump only its entries, the kernel filtering by original destination (IPCTNL_MSG_CT_GET, NLM_F_DUMP with
/// CTA_TUPLE_ORIG + CTA_FILTER, Linux 5.8+), so no other flow is copied to, or parsed in, user space;</item>
/// <item>delete each (IPCTNL_MSG_CT_DELETE with its own tuple, zone and id; one already gone is not an error).</item>
/// </list>
/// Every dump, filtered or not, still walks all of the kernel's hash buckets (net.netfilter.nf_conntrack_buckets,
/// shared by all namespaces): a fixed few milliseconds on a large table. So several ports of one address and protocol
/// share a dump filtered by address and protocol, the ports then matched here, rather than paying the walk per port.
/// A kernel that refuses the filter (EINVAL/EOPNOTSUPP) or ignores it (before 5.8: entries of other destinations come
/// back) is told once through the log callback, and from then on one dump of the whole IPv4 table serves all
/// destinations, matched here. Entries are always re-checked here, so a misread filter can never delete a stranger.
/// Namespace: the netlink socket is opened in the constructor, so it acts on the network namespace of the thread that
/// created this object — the same rule as <see cref="NftContext"/>. Calls are serialised by a lock.
/// </summary>
public sealed unsafe partial class Conntrack : IDisposable
{
    private const int SockRaw = 3;
    private const int SockCloexec = 0x80000;
    private const int SolSocket = 1;
    private const int SoRcvTimeo = 20;
    private const int SoRcvBuf = 8;
    private const int EOpNotSupp = 95;
    private readonly Lock _lock = new();
    private readonly byte[] _buffer = new byte[256 * 1024];
    private readonly Action<string>? _log;
    private int _fd;
    private uint _sequence;
    private bool _kernelFilter = true;

    /// <param name="log">Told once (a warning) if the kernel cannot filter dumps and whole-table dumps are used.</param>
    public Conntrack(Action<string>? log = null)
    {
        _log = log;
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
    /// Whether dumps are filtered in the kernel (true until the kernel turns out unable to). Setting false forces the
    /// whole-table dump, e.g. to compare the two.
    /// </summary>
    public bool KernelFilter
    {
        get { lock (_lock) return _kernelFilter; }
        set { lock (_lock) _kernelFilter = value; }
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
            var deleted = 0;
            if (_kernelFilter)
            {
                foreach (var (filter, byPort) in Filters(wanted))
                {
                    var matches = new List<byte[]>();
                    var sequence = ++_sequence;
                    var request = CtNetlinkMessages.FilteredDumpRequest(filter, byPort, sequence);
                    var error = Dump(request, sequence, wanted, (filter, byPort), matches, out var strangers);
                    if (error == 0 && !strangers)
                    {
                        deleted += DeleteEntries(matches);
                        continue;
                    }
                    if (error != 0 && error != Errno.EINVAL && error != EOpNotSupp)
                        throw Errno.Failure("dump conntrack entries by destination", error);
                    _kernelFilter = false;
                    _log?.Invoke(error != 0
                        ? $"conntrack: the kernel refused a filtered dump ({Errno.Describe(error)}); deleting flows via whole-table dumps from now on"
                        : "conntrack: the kernel ignored the dump filter (Linux < 5.8?); deleting flows via whole-table dumps from now on");
                    break;
                }
                if (_kernelFilter)
                    return deleted;
            }
            // Whole table, one dump for all destinations (what is left of them: those done above found nothing more).
            var all = new List<byte[]>();
            var dumpSequence = ++_sequence;
            var dumpError = Dump(CtNetlinkMessages.DumpRequest(dumpSequence), dumpSequence, wanted, null, all, out _);
            if (dumpError != 0)
                throw Errno.Failure("dump conntrack table", dumpError);
            return deleted + DeleteEntries(all);
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

    // One filter per destination, except that ports of the same address and protocol share one filter without port.
    private static List<(CtNetlinkMessages.Destination Filter, bool ByPort)> Filters(HashSet<CtNetlinkMessages.Destination> wanted)
    {
        var ports = new Dictionary<CtNetlinkMessages.Destination, int>();
        foreach (var destination in wanted)
        {
            var key = destination with { Port = 0 };
            ports[key] = ports.GetValueOrDefault(key) + 1;
        }
        var filters = new List<(CtNetlinkMessages.Destination, bool)>();
        foreach (var destination in wanted)
        {
            var key = destination with { Port = 0 };
            if (ports[key] == 1)
                filters.Add((destination, true));
            else if (ports[key] > 1)
            {
                filters.Add((key, false));
                ports[key] = 0; // added once
            }
        }
        return filters;
    }

    private static bool Matches(CtNetlinkMessages.Destination filter, bool byPort, CtNetlinkMessages.Destination entry) =>
        entry.Address == filter.Address && entry.Protocol == filter.Protocol && (!byPort || entry.Port == filter.Port);

    private int DeleteEntries(List<byte[]> entries)
    {
        var deleted = 0;
        foreach (var entry in entries)
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

    // Reads a dump to its end, keeping the entries whose original destination is wanted; strangers tells whether an
    // entry outside the expected filter came back (a kernel that ignored the filter). Returns the errno the kernel answered, 0 when done. The
    // whole dump is read before any delete: ctnetlink does not allow interleaving requests with a running dump.
    private int Dump(byte[] request, uint sequence, HashSet<CtNetlinkMessages.Destination> wanted,
        (CtNetlinkMessages.Destination Filter, bool ByPort)? expected, List<byte[]> matches, out bool strangers) =>
        Dump(request, sequence, entry =>
        {
            var known = CtNetlinkMessages.TryReadDestination(entry, out var destination);
            var stranger = expected is { } only && (!known || !Matches(only.Filter, only.ByPort, destination));
            return (known && wanted.Contains(destination), stranger);
        }, matches, out strangers);

    // An entry's verdict: keep it for deletion; whether it lies outside what a filtered dump should have returned.
    private delegate (bool Keep, bool Stranger) EntryVerdict(ReadOnlySpan<byte> entry);

    private int Dump(byte[] request, uint sequence, EntryVerdict verdict, List<byte[]> matches, out bool strangers)
    {
        strangers = false;
        Send(request, "dump conntrack table");
        while (true)
        {
            var received = Receive("dump conntrack table");
            foreach (var (offset, length, type, messageSequence) in CtNetlinkMessages.Split(_buffer.AsSpan(0, received)))
            {
                if (messageSequence != sequence)
                    continue;
                var message = _buffer.AsSpan(offset, length);
                if (type == CtNetlinkMessages.NlmsgDone)
                    return 0;
                if (type == CtNetlinkMessages.NlmsgError)
                {
                    var error = CtNetlinkMessages.ErrorOf(message);
                    if (error != 0)
                        return error;
                    continue;
                }
                var (keep, stranger) = verdict(message);
                if (keep)
                    matches.Add(message.ToArray());
                strangers |= stranger;
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
