using System.Collections.Concurrent;
using Portcullis.Core.Io;

namespace Portcullis.WireGuard.Tests.Doubles;

/// <summary>
/// A UDP network in memory (as wireguard-go's bindtest): binds are registered by endpoint and datagrams are
/// copied between them. A test can watch, drop or inject datagrams.
/// </summary>
internal sealed class InMemoryNetwork
{
    private readonly ConcurrentDictionary<UdpEndpoint, InMemoryBind> binds = new();

    /// <summary>Every datagram sent, as (from, to, bytes).</summary>
    public ConcurrentQueue<(UdpEndpoint From, UdpEndpoint To, byte[] Data)> Sent { get; } = new();

    /// <summary>Return false to drop a datagram in flight.</summary>
    public Func<UdpEndpoint, UdpEndpoint, byte[], bool>? Filter { get; set; }

    public IBindFactory Factory(byte[] address4) => new BindFactory(this, address4);

    /// <summary>Delivers a datagram as if <paramref name="from"/> had sent it.</summary>
    public bool Deliver(UdpEndpoint from, UdpEndpoint to, byte[] data)
    {
        if (!binds.TryGetValue(to, out var bind))
            return false;
        bind.Enqueue(from, data);
        return true;
    }

    /// <summary>Datagrams waiting at <paramref name="to"/>'s bind (a socket's receive queue); 0 when nothing is bound there.</summary>
    public int Backlog(UdpEndpoint to) => binds.TryGetValue(to, out var bind) ? bind.Backlog : 0;

    private void Register(InMemoryBind bind) => binds[bind.Local] = bind;

    private void Unregister(InMemoryBind bind) => binds.TryRemove(new KeyValuePair<UdpEndpoint, InMemoryBind>(bind.Local, bind));

    private sealed class BindFactory(InMemoryNetwork network, byte[] address4) : IBindFactory
    {
        private static int nextPort = 40000;

        public IBind Open(ushort port, uint mark)
        {
            if (port == 0)
                port = (ushort)Interlocked.Increment(ref nextPort);
            var local = UdpEndpoint.FromIPv4(address4, port);
            if (network.binds.ContainsKey(local))
                throw new IOException($"port {port} in use");
            var bind = new InMemoryBind(network, local);
            network.Register(bind);
            return bind;
        }
    }

    internal sealed class InMemoryBind(InMemoryNetwork network, UdpEndpoint local) : IBind
    {
        private readonly BlockingCollection<(UdpEndpoint, byte[])> inbox = [];
        private readonly CancellationTokenSource closed = new();

        public UdpEndpoint Local { get; } = local;
        public ushort Port => Local.Port;
        public uint Mark { get; private set; }
        public int Backlog => inbox.Count;

        public void Enqueue(UdpEndpoint from, byte[] data)
        {
            if (!closed.IsCancellationRequested)
                inbox.Add((from, data));
        }

        public int Receive(Span<ArraySegment<byte>> packets, Span<UdpEndpoint> sources)
        {
            (UdpEndpoint From, byte[] Data) item;
            try
            {
                item = inbox.Take(closed.Token);
            }
            catch (OperationCanceledException)
            {
                return 0;
            }
            var n = 0;
            do
            {
                var segment = packets[n];
                var length = Math.Min(item.Data.Length, segment.Count);
                item.Data.AsSpan(0, length).CopyTo(segment.AsSpan());
                packets[n] = new ArraySegment<byte>(segment.Array!, segment.Offset, length);
                sources[n] = item.From;
                n++;
            }
            while (n < packets.Length && inbox.TryTake(out item));
            return n;
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
            closed.Cancel();
            network.Unregister(this);
        }
    }
}
