using System.Net;
using Portcullis.Gateway.Store;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Tests.Store;

/// <summary>
/// The audit trail: a start opens a record, an end closes the open one of its key; a query answers by the span that holds
/// the time; pruning deletes only records that ended before the cutoff; closing what a previous run left open.
/// </summary>
public abstract class GatewayStoreAuditTests : IDisposable
{
    private static readonly IPAddress Public = IPAddress.Parse("198.51.100.10");
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);
    private readonly IStoreTarget _fixture;

    protected GatewayStoreAuditTests(IStoreTarget target) => _fixture = target;

    public void Dispose()
    {
        _fixture.Dispose();
        GC.SuppressFinalize(this);
    }

    private static AuditChange Start(ushort port, string peer, string address, DateTimeOffset at, MappingProtocol protocol = MappingProtocol.Tcp) =>
        new(Public, protocol, port, at, new AuditStart(IPAddress.Parse(address), 8080, peer, peer + "-name"));

    private static AuditChange End(ushort port, DateTimeOffset at, MappingProtocol protocol = MappingProtocol.Tcp) =>
        AuditChange.End(Public, protocol, port, at);

    private async Task<(IGatewayStore Store, IAuditStore Trail)> OpenAsync()
    {
        var store = await _fixture.OpenAsync();
        return (store, Assert.IsAssignableFrom<IAuditStore>(store));
    }

    [Fact]
    public async Task FindAudit_PortHeldByTwoPeersInTurn_AnswersWhoeverHeldItThen()
    {
        var (store, trail) = await OpenAsync();
        await using var _ = store;
        await trail.AppendAuditAsync([Start(31337, "p1", "10.99.0.2", T0), End(31337, T0.AddMinutes(10))]);
        await trail.AppendAuditAsync([Start(31337, "p2", "10.99.0.3", T0.AddMinutes(20)), Start(40000, "p1", "10.99.0.2", T0.AddMinutes(20))]);

        var first = Assert.Single(await trail.FindAuditAsync(Public, 31337, T0.AddMinutes(5)));
        Assert.Equal(("p1", "p1-name", IPAddress.Parse("10.99.0.2"), (ushort)8080), (first.PeerId, first.PeerName, first.TunnelAddress, first.InternalPort));
        Assert.Equal(T0, first.StartedUtc);
        Assert.Equal(T0.AddMinutes(10), first.EndedUtc);
        Assert.Empty(await trail.FindAuditAsync(Public, 31337, T0.AddMinutes(15)));
        Assert.Empty(await trail.FindAuditAsync(Public, 31337, T0.AddMinutes(-1)));
        var second = Assert.Single(await trail.FindAuditAsync(Public, 31337, T0.AddDays(3)));
        Assert.Equal("p2", second.PeerId);
        Assert.Null(second.EndedUtc);
        // Another address's port of the same number is another port.
        Assert.Empty(await trail.FindAuditAsync(IPAddress.Parse("198.51.100.11"), 31337, T0.AddMinutes(5)));
    }

    [Fact]
    public async Task FindAudit_DedicatedAddressEveryPort_AnswersForPortsNoMappingHeld()
    {
        var (store, trail) = await OpenAsync();
        await using var _ = store;
        var dedicated = new AuditStart(IPAddress.Parse("10.99.0.2"), AuditRecord.EveryPort, "p1", "p1-name");
        await trail.AppendAuditAsync([
            new AuditChange(Public, MappingProtocol.Tcp, AuditRecord.EveryPort, T0, dedicated),
            Start(31337, "p2", "10.99.0.3", T0.AddMinutes(1)),
            AuditChange.End(Public, MappingProtocol.Tcp, AuditRecord.EveryPort, T0.AddMinutes(10)),
        ]);

        var any = Assert.Single(await trail.FindAuditAsync(Public, 45123, T0.AddMinutes(5)));
        Assert.Equal(("p1", AuditRecord.EveryPort, AuditRecord.EveryPort), (any.PeerId, any.PublicPort, any.InternalPort));
        Assert.Equal(T0.AddMinutes(10), any.EndedUtc);
        // A port a mapping held answers with the mapping alone; after the route ended nobody holds the other ports.
        Assert.Equal("p2", Assert.Single(await trail.FindAuditAsync(Public, 31337, T0.AddMinutes(5))).PeerId);
        Assert.Empty(await trail.FindAuditAsync(Public, 45123, T0.AddMinutes(11)));
        Assert.Empty(await trail.FindAuditAsync(IPAddress.Parse("198.51.100.11"), 45123, T0.AddMinutes(5)));
    }

    [Fact]
    public async Task AppendAudit_BatchWithABadChange_RefusedAndNoneOfItWritten()
    {
        var (store, trail) = await OpenAsync();
        await using var _ = store;
        // Every port on the public side but one internal port: no such record.
        var bad = new AuditChange(Public, MappingProtocol.Tcp, AuditRecord.EveryPort, T0, new AuditStart(IPAddress.Parse("10.99.0.2"), 8080, "p1", null));

        await Assert.ThrowsAsync<ArgumentException>(() => trail.AppendAuditAsync([Start(31337, "p1", "10.99.0.2", T0), bad]));
        await Assert.ThrowsAsync<ArgumentException>(() => trail.AppendAuditAsync([Start(31337, "", "10.99.0.2", T0)]));

        Assert.Empty(await trail.FindAuditAsync(Public, 31337, T0.AddMinutes(1)));
    }

    [Fact]
    public async Task AppendAudit_EndOfOneProtocol_LeavesTheOtherOpen()
    {
        var (store, trail) = await OpenAsync();
        await using var _ = store;
        await trail.AppendAuditAsync([
            Start(31337, "p1", "10.99.0.2", T0), Start(31337, "p1", "10.99.0.2", T0, MappingProtocol.Udp), End(31337, T0.AddMinutes(1)),
        ]);

        var held = Assert.Single(await trail.FindAuditAsync(Public, 31337, T0.AddMinutes(2)));
        Assert.Equal(MappingProtocol.Udp, held.Protocol);
        Assert.Equal(2, (await trail.FindAuditAsync(Public, 31337, T0.AddSeconds(30))).Count);
    }

    [Fact]
    public async Task PruneAudit_DeletesOnlyRecordsEndedBeforeTheCutoff()
    {
        var (store, trail) = await OpenAsync();
        await using var _ = store;
        await trail.AppendAuditAsync([
            Start(20001, "old", "10.99.0.2", T0), End(20001, T0.AddHours(1)),
            Start(20002, "recent", "10.99.0.3", T0), End(20002, T0.AddDays(6)),
            Start(20003, "held", "10.99.0.4", T0),
        ]);

        var pruned = await trail.PruneAuditAsync(T0.AddDays(1));

        Assert.Equal(1, pruned);
        Assert.Empty(await trail.FindAuditAsync(Public, 20001, T0.AddMinutes(30)));
        Assert.Single(await trail.FindAuditAsync(Public, 20002, T0.AddMinutes(30)));
        Assert.Single(await trail.FindAuditAsync(Public, 20003, T0.AddMinutes(30)));
        Assert.Equal(0, await trail.PruneAuditAsync(T0.AddDays(1)));
    }

    [Fact]
    public async Task CloseOpenAudit_RecordsLeftOpen_EndAtTheGivenTimeAndSurviveAReopen()
    {
        var (store, trail) = await OpenAsync();
        await using (store)
        {
            await trail.AppendAuditAsync([Start(20001, "p1", "10.99.0.2", T0), Start(20002, "p2", "10.99.0.3", T0), End(20002, T0.AddMinutes(1))]);
            Assert.Equal(1, await trail.CloseOpenAuditAsync(T0.AddMinutes(5)));
        }

        var (reopened, again) = await OpenAsync();
        await using var _ = reopened;
        var closed = Assert.Single(await again.FindAuditAsync(Public, 20001, T0.AddMinutes(1)));
        Assert.Equal(T0.AddMinutes(5), closed.EndedUtc);
        Assert.Empty(await again.FindAuditAsync(Public, 20001, T0.AddMinutes(6)));
    }
}
