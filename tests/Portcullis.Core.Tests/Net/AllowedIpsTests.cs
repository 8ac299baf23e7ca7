using System.Net;
using Portcullis.Core.Net;

namespace Portcullis.Core.Tests.Net;

public sealed class AllowedIpsTests
{
    private sealed class Peer(string name)
    {
        public override string ToString() => name;
    }

    private readonly AllowedIps<Peer> _table = new();
    private readonly Peer _a = new("a");
    private readonly Peer _b = new("b");
    private readonly Peer _c = new("c");

    private static byte[] Bytes(string address) => IPAddress.Parse(address).GetAddressBytes();

    private Peer? Lookup(string address) => _table.Lookup(Bytes(address));

    [Fact]
    public void Lookup_NestedPrefixes_ReturnsLongestMatch()
    {
        _table.Insert(IPNetwork.Parse("10.0.0.0/8"), _a);
        _table.Insert(IPNetwork.Parse("10.1.0.0/16"), _b);
        _table.Insert(IPNetwork.Parse("10.1.2.3/32"), _c);

        Assert.Same(_a, Lookup("10.200.0.1"));
        Assert.Same(_b, Lookup("10.1.9.9"));
        Assert.Same(_c, Lookup("10.1.2.3"));
        Assert.Same(_b, Lookup("10.1.2.4"));
        Assert.Null(Lookup("11.0.0.1"));
    }

    [Fact]
    public void Lookup_IPv4AndIPv6_AreSeparate()
    {
        _table.Insert(IPNetwork.Parse("0.0.0.0/0"), _a);
        _table.Insert(IPNetwork.Parse("::/0"), _b);

        Assert.Same(_a, Lookup("192.0.2.1"));
        Assert.Same(_b, Lookup("2001:db8::1"));
        // An IPv4-mapped IPv6 address is an IPv6 address to the trie, as in the kernel.
        Assert.Same(_b, Lookup("::ffff:192.0.2.1"));
    }

    [Fact]
    public void Lookup_OnlyIPv4Routes_IPv6MissesAndViceVersa()
    {
        _table.Insert(IPNetwork.Parse("0.0.0.0/0"), _a);
        Assert.Null(Lookup("2001:db8::1"));

        _table.Clear();
        _table.Insert(IPNetwork.Parse("::/0"), _a);
        Assert.Null(Lookup("192.0.2.1"));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(15)]
    [InlineData(17)]
    public void Lookup_AddressOfWrongLength_ReturnsNull(int length)
    {
        _table.Insert(IPNetwork.Parse("0.0.0.0/0"), _a);
        _table.Insert(IPNetwork.Parse("::/0"), _a);
        Assert.Null(_table.Lookup(new byte[length]));
    }

    [Fact]
    public void Insert_DefaultRoutes_MatchEveryAddress()
    {
        _table.Insert(IPNetwork.Parse("0.0.0.0/0"), _a);
        _table.Insert(IPNetwork.Parse("::/0"), _b);

        Assert.Same(_a, Lookup("0.0.0.0"));
        Assert.Same(_a, Lookup("255.255.255.255"));
        Assert.Same(_b, Lookup("::"));
        Assert.Same(_b, Lookup("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
    }

    [Fact]
    public void Insert_HostPrefixes_MatchOnlyThatAddress()
    {
        _table.Insert(IPNetwork.Parse("255.255.255.255/32"), _a);
        _table.Insert(IPNetwork.Parse("0.0.0.0/32"), _b);
        _table.Insert(IPNetwork.Parse("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128"), _a);
        _table.Insert(IPNetwork.Parse("::1/128"), _c);

        Assert.Same(_a, Lookup("255.255.255.255"));
        Assert.Null(Lookup("255.255.255.254"));
        Assert.Same(_b, Lookup("0.0.0.0"));
        Assert.Null(Lookup("0.0.0.1"));
        Assert.Same(_a, Lookup("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
        Assert.Null(Lookup("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe"));
        Assert.Same(_c, Lookup("::1"));
        Assert.Null(Lookup("::2"));
    }

    [Fact]
    public void Insert_IdenticalPrefix_ReplacesValueAndKeepsCount()
    {
        _table.Insert(IPNetwork.Parse("10.0.0.0/24"), _a);
        _table.Insert(IPNetwork.Parse("10.0.0.0/24"), _b);

        Assert.Same(_b, Lookup("10.0.0.7"));
        Assert.Equal(1, _table.Count);
        Assert.Empty(_table.EntriesFor(_a));
        Assert.Equal([IPNetwork.Parse("10.0.0.0/24")], _table.EntriesFor(_b));
    }

    [Fact]
    public void Insert_SamePrefixSameValueTwice_IsListedOnce()
    {
        _table.Insert(IPNetwork.Parse("10.0.0.0/24"), _a);
        _table.Insert(IPNetwork.Parse("10.0.0.0/24"), _a);

        Assert.Equal(1, _table.Count);
        Assert.Single(_table.EntriesFor(_a));
    }

    [Fact]
    public void Insert_PrefixWithHostBits_StoresMaskedPrefix()
    {
        _table.Insert(IpPrefix.Masked(IPAddress.Parse("10.9.8.7"), 16), _a);
        _table.Insert(IpPrefix.Masked(IPAddress.Parse("2001:db8:1:2::99"), 48), _b);

        Assert.Same(_a, Lookup("10.9.0.1"));
        Assert.Same(_b, Lookup("2001:db8:1:ffff::1"));
        Assert.Equal([IPNetwork.Parse("10.9.0.0/16")], _table.EntriesFor(_a));
        Assert.Equal([IPNetwork.Parse("2001:db8:1::/48")], _table.EntriesFor(_b));
    }

    [Fact]
    public void Remove_ExactPrefix_LeavesShorterAndLongerOnes()
    {
        _table.Insert(IPNetwork.Parse("10.0.0.0/8"), _a);
        _table.Insert(IPNetwork.Parse("10.1.0.0/16"), _b);
        _table.Insert(IPNetwork.Parse("10.1.1.0/24"), _c);

        Assert.True(_table.Remove(IPNetwork.Parse("10.1.0.0/16")));

        Assert.Same(_a, Lookup("10.1.9.9"));
        Assert.Same(_c, Lookup("10.1.1.1"));
        Assert.Equal(2, _table.Count);
        Assert.Empty(_table.EntriesFor(_b));
    }

    [Fact]
    public void Remove_AbsentPrefix_ReturnsFalseAndChangesNothing()
    {
        _table.Insert(IPNetwork.Parse("10.0.0.0/8"), _a);
        _table.Insert(IPNetwork.Parse("10.1.0.0/16"), _b);

        Assert.False(_table.Remove(IPNetwork.Parse("10.0.0.0/9")));
        Assert.False(_table.Remove(IPNetwork.Parse("10.1.0.0/24")));
        Assert.False(_table.Remove(IPNetwork.Parse("::/0")));

        Assert.Equal(2, _table.Count);
        Assert.Same(_b, Lookup("10.1.0.1"));
    }

    [Fact]
    public void Remove_BranchNodeWithoutValue_ReturnsFalse()
    {
        // 10.0.0.0/24 and 10.0.1.0/24 are joined by a valueless 10.0.0.0/23 node.
        _table.Insert(IPNetwork.Parse("10.0.0.0/24"), _a);
        _table.Insert(IPNetwork.Parse("10.0.1.0/24"), _b);

        Assert.False(_table.Remove(IPNetwork.Parse("10.0.0.0/23")));
        Assert.Same(_a, Lookup("10.0.0.1"));
        Assert.Same(_b, Lookup("10.0.1.1"));
    }

    [Fact]
    public void RemoveByValue_RemovesAllItsPrefixesInBothFamilies()
    {
        _table.Insert(IPNetwork.Parse("10.0.0.0/8"), _a);
        _table.Insert(IPNetwork.Parse("10.1.0.0/16"), _b);
        _table.Insert(IPNetwork.Parse("10.1.1.0/24"), _a);
        _table.Insert(IPNetwork.Parse("2001:db8::/32"), _a);
        _table.Insert(IPNetwork.Parse("2001:db8:1::/48"), _b);

        _table.RemoveByValue(_a);

        Assert.Null(Lookup("10.2.0.1"));
        Assert.Same(_b, Lookup("10.1.1.1"));
        Assert.Null(Lookup("2001:db8:2::1"));
        Assert.Same(_b, Lookup("2001:db8:1::1"));
        Assert.Equal(2, _table.Count);
        Assert.Empty(_table.EntriesFor(_a));
    }

    [Fact]
    public void EntriesFor_ReturnsPrefixesOfThatValueOnly()
    {
        _table.Insert(IPNetwork.Parse("10.0.0.0/8"), _a);
        _table.Insert(IPNetwork.Parse("192.0.2.0/24"), _b);
        _table.Insert(IPNetwork.Parse("2001:db8::/32"), _a);

        Assert.Equal([IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("2001:db8::/32")], _table.EntriesFor(_a));
        Assert.Equal([IPNetwork.Parse("192.0.2.0/24")], _table.EntriesFor(_b));
        Assert.Empty(_table.EntriesFor(_c));
    }

    [Fact]
    public void Clear_EmptiesTable()
    {
        _table.Insert(IPNetwork.Parse("10.0.0.0/8"), _a);
        _table.Insert(IPNetwork.Parse("::/0"), _b);

        _table.Clear();

        Assert.Equal(0, _table.Count);
        Assert.Null(Lookup("10.0.0.1"));
        Assert.Null(Lookup("::1"));
        Assert.Empty(_table.EntriesFor(_a));
    }

    [Fact]
    public void Lookup_DoesNotAllocate()
    {
        _table.Insert(IPNetwork.Parse("10.0.0.0/8"), _a);
        _table.Insert(IPNetwork.Parse("10.1.0.0/16"), _b);
        _table.Insert(IPNetwork.Parse("2001:db8::/32"), _c);
        ReadOnlySpan<byte> v4 = [10, 1, 2, 3];
        var v6 = Bytes("2001:db8::1");
        _table.Lookup(v4);
        _table.Lookup(v6);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            _table.Lookup(v4);
            _table.Lookup(v6);
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
