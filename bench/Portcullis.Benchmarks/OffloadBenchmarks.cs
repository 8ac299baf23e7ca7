using System.Buffers.Binary;
using System.Net;
using BenchmarkDotNet.Attributes;
using Portcullis.Core.Io;
using Portcullis.Linux.Tun.Offload;
using Portcullis.Linux.Udp;
using Portcullis.WireGuard.Crypto;

namespace Portcullis.Benchmarks;

/// <summary>
/// The outbound path per 64 KiB TCP super-packet as a vnet-header TUN read hands it over: split into 1368-byte
/// segments (MTU 1420, TCP timestamps), each sealed in place as a transport message, then sent to a loopback UDP
/// socket with UDP GSO (one message per run) and without (sendmmsg, one datagram each). Per operation = one
/// super-packet (48 segments, 65,664 bytes of IP packets). The receiving socket is never read: the kernel drops what
/// overflows it, after the whole send path ran. Run:
/// dotnet run -c Release --project bench/Portcullis.Benchmarks -- --filter '*Offload*' --job short
/// </summary>
[MemoryDiagnoser]
public class OffloadBenchmarks
{
    private const int Mtu = 1420;
    private const int HeaderRoom = 16;
    private const int SegmentSize = Mtu - 20 - 32;
    private const int Segments = 48;

    private readonly OpenSslCrypto _crypto = new();
    private readonly byte[] _superPacket = new byte[20 + 32 + (SegmentSize * Segments)];
    private readonly ArraySegment<byte>[] _slots = new ArraySegment<byte>[Segments];
    private readonly ArraySegment<byte>[] _messages = new ArraySegment<byte>[Segments];
    private VirtioNetHeader _header;
    private int _headerLength;
    private ITransportCipher _cipher = null!;
    private LinuxBind _gso = null!;
    private LinuxBind _plain = null!;
    private LinuxBind _sink = null!;
    private UdpEndpoint _destination;
    private ulong _nonce;

    [GlobalSetup]
    public void Setup()
    {
        var packet = _superPacket.AsSpan();
        packet[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(packet[2..], (ushort)packet.Length);
        packet[8] = 64;
        packet[9] = 6;
        IPAddress.Parse("10.99.0.2").TryWriteBytes(packet[12..], out _);
        IPAddress.Parse("10.99.0.1").TryWriteBytes(packet[16..], out _);
        packet[20 + 12] = 8 << 4;
        packet[20 + 13] = 0x18;
        _crypto.RandomBytes(packet[52..]);
        _header = new VirtioNetHeader
        {
            Flags = VirtioNetHeader.NeedsChecksum,
            GsoType = VirtioNetHeader.GsoTcpV4,
            HeaderLength = 52,
            GsoSize = SegmentSize,
            ChecksumStart = 20,
            ChecksumOffset = 16,
        };
        if (GsoSplitter.SegmentCount(_superPacket, _header, out _headerLength) != Segments)
            throw new InvalidOperationException("the super-packet does not split into 48 segments");
        for (var i = 0; i < Segments; i++)
            _slots[i] = new ArraySegment<byte>(GC.AllocateArray<byte>(4096, pinned: true));

        var key = new byte[32];
        _crypto.RandomBytes(key);
        _cipher = _crypto.CreateTransportCipher(key);
        _sink = new LinuxBindFactory().OpenBind(0, 0);
        _gso = new LinuxBindFactory().OpenBind(0, 0);
        _plain = new LinuxBindFactory { Offload = false }.OpenBind(0, 0);
        if (!_gso.Segmentation)
            throw new InvalidOperationException("this kernel has no UDP GSO");
        _destination = UdpEndpoint.FromIPEndPoint(new IPEndPoint(IPAddress.Loopback, _sink.Port));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _cipher.Dispose();
        _gso.Dispose();
        _plain.Dispose();
        _sink.Dispose();
    }

    [Benchmark(Baseline = true, Description = "Segment 64 KiB TSO")]
    public int Segment()
    {
        var bytes = 0;
        for (var i = 0; i < Segments; i++)
            bytes += GsoSplitter.WriteSegment(_superPacket, _header, _headerLength, i, _slots[i].AsSpan(HeaderRoom));
        return bytes;
    }

    [Benchmark(Description = "Segment + seal 64 KiB")]
    public int SegmentSeal() => SegmentAndSeal();

    [Benchmark(Description = "Segment + seal + send 64 KiB, UDP GSO")]
    public int SegmentSealSendGso()
    {
        SegmentAndSeal();
        return _gso.Send(_messages, _destination);
    }

    [Benchmark(Description = "Segment + seal + send 64 KiB, sendmmsg")]
    public int SegmentSealSendPlain()
    {
        SegmentAndSeal();
        return _plain.Send(_messages, _destination);
    }

    /// <summary>As the device does: transport header in front, padding to 16 (capped at the MTU), tag behind, in place.</summary>
    private int SegmentAndSeal()
    {
        var bytes = 0;
        for (var i = 0; i < Segments; i++)
        {
            var buffer = _slots[i].Array!;
            var length = GsoSplitter.WriteSegment(_superPacket, _header, _headerLength, i, buffer.AsSpan(HeaderRoom));
            var padded = Math.Min((length + 15) & ~15, Math.Max(length, Mtu));
            buffer.AsSpan(HeaderRoom + length, padded - length).Clear();
            var nonce = _nonce++;
            buffer[0] = 4;
            BinaryPrimitives.WriteUInt64LittleEndian(buffer.AsSpan(8), nonce);
            var body = buffer.AsSpan(HeaderRoom, padded + 16);
            _cipher.Seal(nonce, body[..padded], body);
            _messages[i] = new ArraySegment<byte>(buffer, 0, HeaderRoom + padded + 16);
            bytes += _messages[i].Count;
        }
        return bytes;
    }
}
