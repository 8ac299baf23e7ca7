using System.Buffers.Binary;
using System.Net;
using Portcullis.Core.Net;

namespace Portcullis.Core.Tests.Net;

/// <summary>The kernel's selftest/allowedips.h cases (as wireguard-go ports them), prefixes with host bits included.</summary>
public sealed class AllowedIpsKernelVectorTests
{
    private sealed class Peer(string name)
    {
        public override string ToString() => name;
    }

    private readonly AllowedIps<Peer> _table = new();

    private void Insert4(Peer peer, byte a, byte b, byte c, byte d, int cidr) =>
        _table.Insert(IpPrefix.Masked(new IPAddress(new[] { a, b, c, d }), cidr), peer);

    private Peer? Lookup4(byte a, byte b, byte c, byte d) => _table.Lookup(new[] { a, b, c, d });

    private static byte[] V6(uint a, uint b, uint c, uint d)
    {
        var bytes = new byte[16];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, a);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(4), b);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(8), c);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(12), d);
        return bytes;
    }

    private void Insert6(Peer peer, uint a, uint b, uint c, uint d, int cidr) =>
        _table.Insert(IpPrefix.Masked(new IPAddress(V6(a, b, c, d)), cidr), peer);

    [Fact]
    public void Lookup_KernelIPv4Vectors_ReturnLongestMatch()
    {
        Peer a = new("a"), b = new("b"), c = new("c"), d = new("d"), e = new("e"), g = new("g"), h = new("h");
        Insert4(a, 192, 168, 4, 0, 24);
        Insert4(b, 192, 168, 4, 4, 32);
        Insert4(c, 192, 168, 0, 0, 16);
        Insert4(d, 192, 95, 5, 64, 27);
        Insert4(c, 192, 95, 5, 65, 27); // same /27 as d after masking: replaces d
        Insert4(e, 0, 0, 0, 0, 0);
        Insert4(g, 64, 15, 112, 0, 20);
        Insert4(h, 64, 15, 123, 211, 25);
        Insert4(a, 10, 0, 0, 0, 25);
        Insert4(b, 10, 0, 0, 128, 25);
        Insert4(a, 10, 1, 0, 0, 30);
        Insert4(b, 10, 1, 0, 4, 30);
        Insert4(c, 10, 1, 0, 8, 29);
        Insert4(d, 10, 1, 0, 16, 29);

        Assert.Same(a, Lookup4(192, 168, 4, 20));
        Assert.Same(a, Lookup4(192, 168, 4, 0));
        Assert.Same(b, Lookup4(192, 168, 4, 4));
        Assert.Same(c, Lookup4(192, 168, 200, 182));
        Assert.Same(c, Lookup4(192, 95, 5, 68));
        Assert.Same(e, Lookup4(192, 95, 5, 96));
        Assert.Same(g, Lookup4(64, 15, 116, 26));
        Assert.Same(g, Lookup4(64, 15, 127, 3));
        Assert.Same(h, Lookup4(64, 15, 123, 200));
        Assert.Same(b, Lookup4(10, 0, 0, 200));
        Assert.Same(d, Lookup4(10, 1, 0, 20));

        Insert4(a, 1, 0, 0, 0, 32);
        Insert4(a, 64, 0, 0, 0, 32);
        Insert4(a, 128, 0, 0, 0, 32);
        Insert4(a, 192, 0, 0, 0, 32);
        Insert4(a, 255, 0, 0, 0, 32);
        Assert.Same(a, Lookup4(1, 0, 0, 0));
        Assert.Same(a, Lookup4(64, 0, 0, 0));
        Assert.Same(a, Lookup4(128, 0, 0, 0));
        Assert.Same(a, Lookup4(192, 0, 0, 0));
        Assert.Same(a, Lookup4(255, 0, 0, 0));

        _table.RemoveByValue(a);
        Assert.NotSame(a, Lookup4(1, 0, 0, 0));
        Assert.NotSame(a, Lookup4(64, 0, 0, 0));
        Assert.NotSame(a, Lookup4(128, 0, 0, 0));
        Assert.NotSame(a, Lookup4(192, 0, 0, 0));
        Assert.NotSame(a, Lookup4(255, 0, 0, 0));
        Assert.Same(e, Lookup4(1, 0, 0, 0));

        foreach (var peer in new[] { a, b, c, d, e, g, h })
            _table.RemoveByValue(peer);
        Assert.Equal(0, _table.Count);
        Assert.Empty(_table.Snapshot());

        Insert4(a, 192, 168, 0, 0, 16);
        Insert4(a, 192, 168, 0, 0, 24);
        _table.RemoveByValue(a);
        Assert.Null(Lookup4(192, 168, 0, 1));
    }

    [Fact]
    public void Lookup_KernelIPv6Vectors_ReturnLongestMatch()
    {
        Peer a = new("a"), b = new("b"), c = new("c"), d = new("d"), e = new("e"), f = new("f"), g = new("g"), h = new("h");
        Insert6(d, 0x26075300, 0x60006b00, 0, 0xc05f0543, 128);
        Insert6(c, 0x26075300, 0x60006b00, 0, 0, 64);
        Insert6(e, 0, 0, 0, 0, 0);
        Insert6(f, 0, 0, 0, 0, 0);
        Insert6(g, 0x24046800, 0, 0, 0, 32);
        Insert6(h, 0x24046800, 0x40040800, 0xdeadbeef, 0xdeadbeef, 64);
        Insert6(a, 0x24046800, 0x40040800, 0xdeadbeef, 0xdeadbeef, 128);
        Insert6(c, 0x24446800, 0x40e40800, 0xdeaebeef, 0xdefbeef, 128);
        Insert6(b, 0x24446800, 0xf0e40800, 0xeeaebeef, 0, 98);

        Assert.Same(d, _table.Lookup(V6(0x26075300, 0x60006b00, 0, 0xc05f0543)));
        Assert.Same(c, _table.Lookup(V6(0x26075300, 0x60006b00, 0, 0xc02e01ee)));
        Assert.Same(f, _table.Lookup(V6(0x26075300, 0x60006b01, 0, 0)));
        Assert.Same(g, _table.Lookup(V6(0x24046800, 0x40040806, 0, 0x1006)));
        Assert.Same(g, _table.Lookup(V6(0x24046800, 0x40040806, 0x1234, 0x5678)));
        Assert.Same(f, _table.Lookup(V6(0x240467ff, 0x40040806, 0x1234, 0x5678)));
        Assert.Same(f, _table.Lookup(V6(0x24046801, 0x40040806, 0x1234, 0x5678)));
        Assert.Same(h, _table.Lookup(V6(0x24046800, 0x40040800, 0x1234, 0x5678)));
        Assert.Same(h, _table.Lookup(V6(0x24046800, 0x40040800, 0, 0)));
        Assert.Same(h, _table.Lookup(V6(0x24046800, 0x40040800, 0x10101010, 0x10101010)));
        Assert.Same(a, _table.Lookup(V6(0x24046800, 0x40040800, 0xdeadbeef, 0xdeadbeef)));
        Assert.Same(b, _table.Lookup(V6(0x24446800, 0xf0e40800, 0xeeaebeef, 0x0fffffff)));
        Assert.Equal(8, _table.Count); // e's ::/0 was replaced by f's
    }
}
