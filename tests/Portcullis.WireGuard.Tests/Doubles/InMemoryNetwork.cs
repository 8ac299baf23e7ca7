using System.Collections.Concurrent;
using Portcullis.Core.Io;

namespace Portcullis.WireGuard.Tests.Doubles;

/// <summary>
/// A UDP network in memory (as wireguard-go's bindtest): binds are registered by endpoint and datagrams are
/// copied between them. A test can watch, drop or inject datagrams.
/// </summary>
internal sealed class InMemoryNetwork
{
    private readonly ConcurrentDictionary<UdpEndpoint, InMemoryBind> _binds = new();

    /// <summary>Every datagram sent, as (from, to, bytes).</summary>
    public ConcurrentQueue<(UdpEndpoint From, UdpEndpoint To, byte[] Data)> Sent { get; } = new();

    /// <summary>Return false to drop a datagram in flight.</summary>
    public Func<UdpEndpoint, UdpEndpoint, byte[], bool>? Filter { get; set; }

    public IBindFactory Factory(byte[] address4) => new BindFactory(this, address4);

    /// <summary>Delivers a datagram as if <paramref name="from"/> had sent it.</summary>
    public bool Deliver(UdpEndpoint from, UdpEndpoint to, byte[] data) => DeliverTogether(to, [(from, data)]);

    /// <summary>Delivers datagrams so that one receive call takes them all (one recvmmsg batch), in this order.</summary>
    public bool DeliverTogether(UdpEndpoint to, IReadOnlyList<(UdpEndpoint From, byte[] Data)> datagrams)
    {
        if (!_binds.TryGetValue(to, out var bind))
            return false;
        bind.Enqueue([.. datagrams]);
        return true;
    }

    /// <summary>The bind listening at <paramref name="local"/>, to read its counters.</summary>
    public InMemoryBind BindAt(UdpEndpoint local) => _binds[local];

    /// <summary>Datagrams waiting at <paramref name="to"/>'s bind (a socket's receive queue); 0 when nothing is bound there.</summary>
    public int Backlog(UdpEndpoint to) => _binds.TryGetValue(to, out var bind) ? bind.Backlog : 0;

    private void Register(InMemoryBind bind) => _binds[bind.Local] = bind;

    private void Unregister(InMemoryBind bind) => _binds.TryRemove(new KeyValuePair<UdpEndpoint, InMemoryBind>(bind.Local, bind));

    private sealed class BindFactory(InMemoryNetwork network, byte[] address4) : IBindFactory
    {
        private static int _nextPort = 40000;

        public IBind Open(ushort port, uint mark)
        {
            if (port == 0)
                port = (ushort)Interlocked.Increment(ref _nextPort);
            var local = UdpEndpoint.FromIPv4(address4, port);
            if (network._binds.ContainsKey(local))
                throw new IOException($"port {port} in use");
            var bind = new InMemoryBind(network, local);
            network.Register(bind);
            return bind;
        }
    }

    /// <summary>
    /// Receives as the kernel-backed bind does, including what the contract allows it: a datagram larger than its
    /// buffer area is dropped and counted, and the kept ones move up, swapping buffer areas within the span.
    /// </summary>
    internal sealed class InMemoryBind(InMemoryNetwork network, UdpEndpoint local) : IBind
    {
        private readonly BlockingCollection<(UdpEndpoint From, byte[] Data)[]> _inbox = [];
        private readonly CancellationTokenSource _closed = new();
        private (UdpEndpoint From, byte[] Data)[] _pending = [];
        private int _pendingNext;
        private long _receiveDrops;

        public UdpEndpoint Local { get; } = local;
        public ushort Port => Local.Port;
        public uint Mark { get; private set; }
        public int Backlog => _inbox.Count;

        /// <summary>Datagrams dropped on receive because they did not fit their buffer.</summary>
        public long ReceiveDrops => Interlocked.Read(ref _receiveDrops);

        public void Enqueue((UdpEndpoint From, byte[] Data)[] group)
        {
            if (!_closed.IsCancellationRequested)
                _inbox.Add(group);
        }

        public int Receive(Span<ArraySegment<byte>> packets, Span<UdpEndpoint> sources)
        {
            var kept = 0;
            var tooLarge = 0;
            while (kept == 0 && tooLarge == 0)
            {
                if (_pendingNext == _pending.Length)
                {
                    try
                    {
                        _pending = _inbox.Take(_closed.Token);
                    }
                    catch (OperationCanceledException)
                    {
                        return IoResult.Closed;
                    }
                    _pendingNext = 0;
                }
                var received = 0;
                while (received < packets.Length && (_pendingNext < _pending.Length || TryTakeGroup()))
                {
                    var (from, data) = _pending[_pendingNext++];
                    var area = packets[received];
                    if (data.Length > area.Count)
                    {
                        // As recvmmsg with MSG_TRUNC: the slot is used up, the datagram is not kept.
                        Interlocked.Increment(ref _receiveDrops);
                        tooLarge++;
                        received++;
                        continue;
                    }
                    data.CopyTo(area.Array!, area.Offset);
                    if (kept != received)
                        packets[received] = packets[kept];
                    packets[kept] = new ArraySegment<byte>(area.Array!, area.Offset, data.Length);
                    sources[kept] = from;
                    kept++;
                    received++;
                }
            }
            return kept;
        }

        private bool TryTakeGroup()
        {
            if (!_inbox.TryTake(out var next))
                return false;
            _pending = next;
            _pendingNext = 0;
            return true;
        }

        public int Send(ReadOnlySpan<ArraySegment<byte>> packets, UdpEndpoint destination)
        {
            foreach (var p in packets)
            {
                var data = p.AsSpan().ToArray();
                network.Sent.Enqueue((Local, destination, data));
                if (network.Filter is { } filter && !filter(Local, destination, data))
                    continue;
                network.Deliver(Local, destination, data);
            }
            return packets.Length;
        }

        public void SetMark(uint mark) => Mark = mark;

        public void Dispose()
        {
            _closed.Cancel();
            network.Unregister(this);
        }
    }
}
