using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Portcullis.Benchmarks.Mapping;

/// <summary>
/// A closed-loop NAT-PMP client: one TCP map request at a time, timing each from send to the server's answer. The
/// answer is sent only once the mapping is in the kernel, so this is request → mapping live.
/// </summary>
internal sealed class NatPmpProbe(IPAddress local, IPEndPoint server) : IDisposable
{
    private readonly Socket _socket = Bind(local);
    private readonly byte[] _request = new byte[12];
    private readonly byte[] _answer = new byte[64];

    private static Socket Bind(IPAddress local)
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveTimeout = 2000 };
        s.Bind(new IPEndPoint(local, 0));
        return s;
    }

    /// <summary>Maps (or with lifetime 0 deletes) TCP internalPort; returns the latency, or null on error/timeout.</summary>
    public TimeSpan? Map(ushort internalPort, uint lifetime)
    {
        _request[0] = 0;
        _request[1] = 2; // map TCP
        BinaryPrimitives.WriteUInt16BigEndian(_request.AsSpan(4), internalPort);
        BinaryPrimitives.WriteUInt16BigEndian(_request.AsSpan(6), 0);
        BinaryPrimitives.WriteUInt32BigEndian(_request.AsSpan(8), lifetime);
        var start = Stopwatch.GetTimestamp();
        _socket.SendTo(_request, server);
        try
        {
            var n = _socket.Receive(_answer);
            var elapsed = Stopwatch.GetElapsedTime(start);
            var ok = n == 16 && _answer[1] == 130 && BinaryPrimitives.ReadUInt16BigEndian(_answer.AsSpan(2)) == 0;
            return ok ? elapsed : null;
        }
        catch (SocketException)
        {
            return null;
        }
    }

    public void Dispose() => _socket.Dispose();
}
