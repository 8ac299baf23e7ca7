using System.Diagnostics;
using System.Net;
using Portcullis.PortMapping;

namespace Portcullis.Benchmarks.Mapping;

/// <summary>
/// The policy layer with a stopwatch at its door: when a worker called Map for a client's request and when the call
/// returned (decided, in the kernel, committed). With the client's send and receive stamps that splits a request's
/// latency into receive + hand-over to a worker, the group commit and kernel update, and answer + the client's wake.
/// Clients are 10.99.2.1…K; a client's requests reach Map one at a time, in order.
/// </summary>
internal sealed class StagedAuthority(IPortMappingAuthority inner, int clients) : IPortMappingAuthority
{
    private readonly Queue<(ushort Port, uint Lifetime, long Called, long Returned)>[] _stamps =
        [.. Enumerable.Range(0, clients).Select(_ => new Queue<(ushort, uint, long, long)>())];

    private long _policyBytes;

    /// <summary>Bytes allocated inside the policy layer's Map calls so far (the request and result records included).</summary>
    public long PolicyBytes => Interlocked.Read(ref _policyBytes);

    public uint EpochSeconds => inner.EpochSeconds;

    public MapResult GetPublicAddress(IPAddress client) => inner.GetPublicAddress(client);

    public MapResult DeleteAll(IPAddress client, MappingProtocol protocol, ReadOnlyMemory<byte>? nonce = null) => inner.DeleteAll(client, protocol, nonce);

    public MapResult Peer(PeerMappingRequest request) => inner.Peer(request);

    public MapResult Map(MapRequest request)
    {
        var bytes = GC.GetAllocatedBytesForCurrentThread();
        var called = Stopwatch.GetTimestamp();
        var result = inner.Map(request);
        var returned = Stopwatch.GetTimestamp();
        Interlocked.Add(ref _policyBytes, GC.GetAllocatedBytesForCurrentThread() - bytes);
        if (Index(request.Client) is { } i)
        {
            var queue = _stamps[i];
            lock (queue)
                queue.Enqueue((request.InternalPort, (uint)request.Lifetime.TotalSeconds, called, returned));
        }
        return result;
    }

    /// <summary>The stamps of client <paramref name="client"/>'s request for this port and lifetime (older ones skipped: their answers were lost).</summary>
    public bool TryTake(int client, ushort port, uint lifetime, out long called, out long returned)
    {
        var queue = _stamps[client];
        lock (queue)
        {
            while (queue.TryDequeue(out var stamp))
            {
                if (stamp.Port == port && stamp.Lifetime == lifetime)
                {
                    (called, returned) = (stamp.Called, stamp.Returned);
                    return true;
                }
            }
        }
        (called, returned) = (0, 0);
        return false;
    }

    private int? Index(IPAddress client)
    {
        Span<byte> bytes = stackalloc byte[4];
        if (!client.TryWriteBytes(bytes, out var written) || written != 4 || bytes[0] != 10 || bytes[1] != 99 || bytes[2] != 2)
            return null;
        var i = bytes[3] - 1;
        return i >= 0 && i < _stamps.Length ? i : null;
    }
}
