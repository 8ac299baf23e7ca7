using System.Net;
using Portcullis.Gateway.Store;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Tests.Store;

public sealed class ConfigPeerPlannerTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Earlier = Now.AddDays(-3);
    private static readonly IPAddress Shared = IPAddress.Parse("198.51.100.10");
    private static readonly StoreSnapshot Empty = new([], [], []);

    private static IPAddress Ip(string text) => IPAddress.Parse(text);

    private static StoredPeer Stored(string id, string name, string key, string address, bool enabled = true) => new()
    {
        Id = id,
        Name = name,
        PublicKey = key,
        TunnelAddress = Ip(address),
        Enabled = enabled,
        CreatedUtc = Earlier,
    };

    private static ConfigPeerChanges Plan(IReadOnlyList<ConfiguredPeer> file, StoreSnapshot current)
    {
        var next = 0;
        return ConfigPeerPlanner.Plan(file, current, StoreFixture.Pool, Now, () => $"new{++next}");
    }

    [Fact]
    public void Plan_EmptyStore_AddsEveryPeerPinnedFirstThenLowestFreeInFileOrder()
    {
        var file = new[]
        {
            new ConfiguredPeer { Name = "alice", PublicKey = "KA" },
            new ConfiguredPeer { Name = "bob", PublicKey = "KB", TunnelAddress = Ip("10.99.0.2") },
            new ConfiguredPeer { Name = "carol", PublicKey = "KC" },
        };

        var changes = Plan(file, Empty);

        Assert.Equal(
            [
                new StoredPeer { Id = "new1", Name = "alice", PublicKey = "KA", TunnelAddress = Ip("10.99.0.3"), CreatedUtc = Now },
                new StoredPeer { Id = "new2", Name = "bob", PublicKey = "KB", TunnelAddress = Ip("10.99.0.2"), CreatedUtc = Now },
                new StoredPeer { Id = "new3", Name = "carol", PublicKey = "KC", TunnelAddress = Ip("10.99.0.4"), CreatedUtc = Now },
            ],
            changes.Added);
        Assert.Empty(changes.Updated);
    }

    [Fact]
    public void Plan_StoreAlreadyMatches_IsEmpty()
    {
        var current = new StoreSnapshot(
            [Stored("a", "alice", "KA", "10.99.0.7")],
            [new StoredForward { PublicAddress = Shared, Protocol = MappingProtocol.Tcp, ExternalPort = 30000, PeerId = "a", InternalPort = 8080 }],
            [new DedicatedAddress(Ip("198.51.100.11"), "a")]);
        var file = new[]
        {
            new ConfiguredPeer
            {
                Name = "alice", PublicKey = "KA", DedicatedAddress = Ip("198.51.100.11"),
                Forwards = [new ConfiguredForward(Shared, MappingProtocol.Tcp, 30000, 8080)],
            },
        };

        var changes = Plan(file, current);

        Assert.True(changes.IsEmpty);
    }

    [Fact]
    public void Plan_NameChangedInFile_UpdatesPeerMatchedByKeyKeepingIdAddressAndEnabled()
    {
        var current = new StoreSnapshot([Stored("a", "alice", "KA", "10.99.0.7", enabled: false)], [], []);

        var changes = Plan([new ConfiguredPeer { Name = "alice-laptop", PublicKey = "KA" }], current);

        Assert.Empty(changes.Added);
        Assert.Equal([Stored("a", "alice-laptop", "KA", "10.99.0.7", enabled: false)], changes.Updated);
    }

    [Fact]
    public void Plan_KeyRotatedInFile_UpdatesPeerMatchedByName()
    {
        var current = new StoreSnapshot([Stored("a", "alice", "OLD", "10.99.0.7")], [], []);

        var changes = Plan([new ConfiguredPeer { Name = "alice", PublicKey = "NEW" }], current);

        Assert.Empty(changes.Added);
        Assert.Equal([Stored("a", "alice", "NEW", "10.99.0.7")], changes.Updated);
    }

    [Fact]
    public void Plan_NamesSwappedInFile_UpdatesBothByKey()
    {
        var current = new StoreSnapshot([Stored("a", "alice", "KA", "10.99.0.2"), Stored("b", "bob", "KB", "10.99.0.3")], [], []);

        var changes = Plan(
            [new ConfiguredPeer { Name = "bob", PublicKey = "KA" }, new ConfiguredPeer { Name = "alice", PublicKey = "KB" }], current);

        Assert.Empty(changes.Added);
        Assert.Equal([Stored("a", "bob", "KA", "10.99.0.2"), Stored("b", "alice", "KB", "10.99.0.3")], changes.Updated);
    }

    [Fact]
    public void Plan_FilePinsAddressOfPeerNotInFile_FileWinsAndThatPeerMovesToLowestFree()
    {
        var current = new StoreSnapshot(
            [Stored("a", "alice", "KA", "10.99.0.5"), Stored("x", "api-added", "KX", "10.99.0.2"), Stored("y", "other", "KY", "10.99.0.3")],
            [], []);

        var changes = Plan([new ConfiguredPeer { Name = "alice", PublicKey = "KA", TunnelAddress = Ip("10.99.0.2") }], current);

        Assert.Equal(
            [Stored("a", "alice", "KA", "10.99.0.2"), Stored("x", "api-added", "KX", "10.99.0.4")],
            changes.Updated);
        Assert.Empty(changes.Added);
    }

    [Fact]
    public void Plan_PeersNotInFile_AreNotTouched()
    {
        var bob = Stored("b", "bob", "KB", "10.99.0.2", enabled: false);
        var current = new StoreSnapshot(
            [bob],
            [new StoredForward { PublicAddress = Shared, Protocol = MappingProtocol.Udp, ExternalPort = 40000, PeerId = "b", InternalPort = 1 }],
            [new DedicatedAddress(Ip("198.51.100.12"), "b")]);

        var changes = Plan([new ConfiguredPeer { Name = "alice", PublicKey = "KA" }], current);

        Assert.Equal(["alice"], changes.Added.Select(p => p.Name));
        Assert.Equal(Ip("10.99.0.3"), changes.Added[0].TunnelAddress);
        Assert.Empty(changes.Updated);
        Assert.Empty(changes.Forwards);
        Assert.Empty(changes.DedicatedAddresses);
    }

    [Fact]
    public void Plan_ForwardAndDedicatedAddressHeldByAnother_GoToTheFilePeer()
    {
        var current = new StoreSnapshot(
            [Stored("a", "alice", "KA", "10.99.0.2"), Stored("b", "bob", "KB", "10.99.0.3")],
            [
                new StoredForward { PublicAddress = Shared, Protocol = MappingProtocol.Tcp, ExternalPort = 30000, PeerId = "b", InternalPort = 22 },
                new StoredForward { PublicAddress = Shared, Protocol = MappingProtocol.Udp, ExternalPort = 30000, PeerId = "a", InternalPort = 9 },
            ],
            [new DedicatedAddress(Ip("198.51.100.11"), "b")]);
        var file = new[]
        {
            new ConfiguredPeer
            {
                Name = "alice", PublicKey = "KA", DedicatedAddress = Ip("198.51.100.11"),
                Forwards =
                [
                    new ConfiguredForward(Shared, MappingProtocol.Tcp, 30000, 8080),
                    new ConfiguredForward(Shared, MappingProtocol.Udp, 30000, 8080),
                ],
            },
        };

        var changes = Plan(file, current);

        Assert.Equal([new DedicatedAddress(Ip("198.51.100.11"), "a")], changes.DedicatedAddresses);
        Assert.Equal(
            [
                new StoredForward { PublicAddress = Shared, Protocol = MappingProtocol.Tcp, ExternalPort = 30000, PeerId = "a", InternalPort = 8080 },
                new StoredForward { PublicAddress = Shared, Protocol = MappingProtocol.Udp, ExternalPort = 30000, PeerId = "a", InternalPort = 8080 },
            ],
            changes.Forwards);
        Assert.Empty(changes.Updated);
    }

    [Fact]
    public void Plan_NewPeerForwards_NameTheNewId()
    {
        var file = new[]
        {
            new ConfiguredPeer { Name = "alice", PublicKey = "KA", Forwards = [new ConfiguredForward(Shared, MappingProtocol.Tcp, 30000, 30000)] },
        };

        var changes = Plan(file, Empty);

        Assert.Equal("new1", Assert.Single(changes.Forwards).PeerId);
    }

    [Theory]
    [InlineData("name")]
    [InlineData("key")]
    [InlineData("address")]
    [InlineData("outside")]
    [InlineData("gateway")]
    [InlineData("forward")]
    public void Plan_FileContradictsItself_ThrowsArgumentException(string what)
    {
        var forward = new ConfiguredForward(Shared, MappingProtocol.Tcp, 30000, 1);
        var first = new ConfiguredPeer { Name = "alice", PublicKey = "KA", TunnelAddress = Ip("10.99.0.2"), Forwards = [forward] };
        var second = what switch
        {
            "name" => new ConfiguredPeer { Name = "alice", PublicKey = "KB" },
            "key" => new ConfiguredPeer { Name = "bob", PublicKey = "KA" },
            "address" => new ConfiguredPeer { Name = "bob", PublicKey = "KB", TunnelAddress = Ip("10.99.0.2") },
            "outside" => new ConfiguredPeer { Name = "bob", PublicKey = "KB", TunnelAddress = Ip("10.100.0.2") },
            "gateway" => new ConfiguredPeer { Name = "bob", PublicKey = "KB", TunnelAddress = Ip("10.99.0.1") },
            _ => new ConfiguredPeer { Name = "bob", PublicKey = "KB", Forwards = [forward] },
        };

        Assert.Throws<ArgumentException>(() => Plan([first, second], Empty));
    }

    [Fact]
    public void Plan_PoolExhausted_ThrowsConflictNamingThePeer()
    {
        var tiny = new TunnelAddressPool(IPNetwork.Parse("10.99.0.0/30"), Ip("10.99.0.1"));
        var file = new[] { new ConfiguredPeer { Name = "alice", PublicKey = "KA" }, new ConfiguredPeer { Name = "bob", PublicKey = "KB" } };

        var e = Assert.Throws<StoreConflictException>(() => ConfigPeerPlanner.Plan(file, Empty, tiny, Now, () => "id"));

        Assert.Equal(StoreConflict.AddressPoolExhausted, e.Conflict);
        Assert.Contains("bob", e.Message, StringComparison.Ordinal);
    }
}
