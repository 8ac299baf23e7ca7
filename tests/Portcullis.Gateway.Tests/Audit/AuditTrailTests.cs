using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Portcullis.Gateway.Audit;
using Portcullis.Gateway.Forwarding;
using Portcullis.Gateway.Kernel;
using Portcullis.Gateway.Store;
using Portcullis.Gateway.Tests.Forwarding;
using Portcullis.Gateway.Tests.Store;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Tests.Audit;

/// <summary>
/// The audit trail as the gateway keeps it: kernel commits become records (a refresh is no new holder), a refused
/// commit records nothing, and the retention timer deletes records that ended longer ago than the retention while
/// recent and held ones stay — on virtual time.
/// </summary>
public sealed class AuditTrailTests : IDisposable
{
    private static readonly IPAddress Public = IPAddress.Parse("198.51.100.10");
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private readonly StoreFixture _fixture = new();

    public void Dispose() => _fixture.Dispose();

    private static ForwardingEntry Entry(ushort port, string owner, string tunnel, ushort internalPort = 8080) =>
        new(Public, MappingProtocol.Tcp, port, IPAddress.Parse(tunnel), internalPort, owner, TimeSpan.FromMinutes(10));

    private AuditRecorder Recorder(IAuditStore trail, TimeSpan retention) =>
        new(trail, id => id == "peer-1" ? "alice" : null, retention, _fixture.Time, NullLogger.Instance);

    [Fact]
    public async Task Update_AddRefreshRemove_OneRecordFromAddToRemoveWithThePeersName()
    {
        await using var store = await _fixture.OpenAsync();
        var time = _fixture.Time;
        var kernel = new InMemoryForwardingTable();
        var recorder = Recorder(store, TimeSpan.FromDays(7));
        await recorder.StartAsync(CancellationToken.None);
        var table = new AuditingForwardingTable(kernel, recorder, time);
        var mapping = Entry(31337, "peer-1", "10.99.0.2");
        var added = time.GetUtcNow();

        table.Update([], [mapping]);
        time.Advance(TimeSpan.FromMinutes(5));
        table.Update([mapping], [mapping]); // a refresh: same holder
        time.Advance(TimeSpan.FromMinutes(5));
        var removed = time.GetUtcNow();
        table.Update([mapping], []);
        kernel.Failing = true;
        Assert.ThrowsAny<ForwardingTableException>(() => table.Update([], [Entry(40000, "peer-2", "10.99.0.3")]));
        await recorder.DisposeAsync();

        var record = Assert.Single(await store.FindAuditAsync(Public, 31337, added.AddMinutes(7)));
        Assert.Equal(("peer-1", "alice", IPAddress.Parse("10.99.0.2")), (record.PeerId, record.PeerName, record.TunnelAddress));
        Assert.Equal(added, record.StartedUtc);
        Assert.Equal(removed, record.EndedUtc);
        Assert.Empty(await store.FindAuditAsync(Public, 31337, removed));
        // The refused commit left no trace.
        Assert.Empty(await store.FindAuditAsync(Public, 40000, removed));
    }

    [Fact]
    public async Task List_LivePeerEntryListedBackByTheKernel_RecordStaysOpen()
    {
        await using var store = await _fixture.OpenAsync();
        var time = _fixture.Time;
        var recorder = Recorder(store, TimeSpan.FromDays(7));
        await recorder.StartAsync(CancellationToken.None);
        using var lab = new Kernel.Support.ForwardingLab();
        var table = new AuditingForwardingTable(lab.Table, recorder, time);
        var peer = new PeerEntry(Public, MappingProtocol.Tcp, 31337, Kernel.Support.Entries.Client1, 5000,
            new IPEndPoint(Kernel.Support.Entries.Remote, 8080), "peer-1", TimeSpan.FromMinutes(10));
        var added = time.GetUtcNow();

        table.Update([], [peer]);
        time.Advance(TimeSpan.FromMinutes(1));
        table.List(); // what a repeated reconciliation does
        table.List();
        time.Advance(TimeSpan.FromMinutes(1));
        await recorder.DisposeAsync();

        var record = Assert.Single(await store.FindAuditAsync(Public, 31337, time.GetUtcNow()));
        Assert.Equal(("peer-1", added, (DateTimeOffset?)null), (record.PeerId, record.StartedUtc, record.EndedUtc));
    }

    [Fact]
    public async Task Update_PortPassesToAnotherPeer_FirstRecordEndsAsTheSecondStarts()
    {
        await using var store = await _fixture.OpenAsync();
        var time = _fixture.Time;
        var recorder = Recorder(store, TimeSpan.FromDays(7));
        await recorder.StartAsync(CancellationToken.None);
        var table = new AuditingForwardingTable(new InMemoryForwardingTable(), recorder, time);
        var first = Entry(31337, "peer-1", "10.99.0.2");
        table.Update([], [first]);
        time.Advance(TimeSpan.FromMinutes(1));
        var handover = time.GetUtcNow();

        table.Update([first], [Entry(31337, "peer-2", "10.99.0.3")]);
        await recorder.DisposeAsync();

        Assert.Equal("peer-1", Assert.Single(await store.FindAuditAsync(Public, 31337, handover.AddSeconds(-1))).PeerId);
        var now = Assert.Single(await store.FindAuditAsync(Public, 31337, handover));
        Assert.Equal(("peer-2", (string?)null), (now.PeerId, now.PeerName));
    }

    [Fact]
    public async Task SetDedicated_RouteSetThenMovedThenRemoved_EveryPortRecordedForEachHolderBothProtocols()
    {
        await using var store = await _fixture.OpenAsync();
        var time = _fixture.Time;
        var recorder = Recorder(store, TimeSpan.FromDays(7));
        await recorder.StartAsync(CancellationToken.None);
        var kernel = new InMemoryForwardingTable();
        var table = new AuditingForwardingTable(kernel, recorder, time);
        var dedicated = IPAddress.Parse("198.51.100.11");
        var alice = IPAddress.Parse("10.99.0.2");
        var set = time.GetUtcNow();

        table.SetDedicated([new DedicatedRoute(dedicated, alice, ForwardAllPorts: false, "peer-1")], new HashSet<ushort>());
        time.Advance(TimeSpan.FromMinutes(1));
        // The session came up: "every port" on, the same holder.
        table.SetDedicated([new DedicatedRoute(dedicated, alice, ForwardAllPorts: true, "peer-1")], new HashSet<ushort>());
        time.Advance(TimeSpan.FromMinutes(1));
        var moved = time.GetUtcNow();
        table.SetDedicated([new DedicatedRoute(dedicated, IPAddress.Parse("10.99.0.3"), ForwardAllPorts: true, "peer-2")], new HashSet<ushort>());
        time.Advance(TimeSpan.FromMinutes(1));
        var removed = time.GetUtcNow();
        table.SetDedicated([], new HashSet<ushort>());
        kernel.Failing = true;
        Assert.ThrowsAny<ForwardingTableException>(() =>
            table.SetDedicated([new DedicatedRoute(dedicated, alice, ForwardAllPorts: true, "peer-1")], new HashSet<ushort>()));
        await recorder.DisposeAsync();

        var first = await store.FindAuditAsync(dedicated, 45123, set.AddSeconds(90));
        Assert.Equal([MappingProtocol.Tcp, MappingProtocol.Udp], first.Select(r => r.Protocol).Order());
        Assert.All(first, r => Assert.Equal(("peer-1", "alice", alice, AuditRecord.EveryPort, set, (DateTimeOffset?)moved),
            (r.PeerId, r.PeerName, r.TunnelAddress, r.PublicPort, r.StartedUtc, r.EndedUtc)));
        Assert.All(await store.FindAuditAsync(dedicated, 1, moved), r => Assert.Equal(("peer-2", (DateTimeOffset?)removed), (r.PeerId, r.EndedUtc)));
        // Removed, and the refused commit left no trace.
        Assert.Empty(await store.FindAuditAsync(dedicated, 45123, removed));
    }

    [Fact]
    public async Task SetDedicated_Ipv6Route_EveryPortOfTheIpv6AddressRecordedForItsHolder()
    {
        await using var store = await _fixture.OpenAsync();
        var time = _fixture.Time;
        var recorder = Recorder(store, TimeSpan.FromDays(7));
        await recorder.StartAsync(CancellationToken.None);
        var table = new AuditingForwardingTable(new InMemoryForwardingTable(), recorder, time);
        var dedicated6 = IPAddress.Parse("2001:db8:1::11");
        var twin = IPAddress.Parse("fd99::2");
        var set = time.GetUtcNow();

        table.SetDedicated([new DedicatedRoute(dedicated6, twin, ForwardAllPorts: true, "peer-1")], new HashSet<ushort>());
        time.Advance(TimeSpan.FromMinutes(1));
        var removed = time.GetUtcNow();
        table.SetDedicated([], new HashSet<ushort>());
        await recorder.DisposeAsync();

        var records = await store.FindAuditAsync(dedicated6, 443, set.AddSeconds(30));
        Assert.Equal([MappingProtocol.Tcp, MappingProtocol.Udp], records.Select(r => r.Protocol).Order());
        Assert.All(records, r => Assert.Equal(("peer-1", twin, AuditRecord.EveryPort, (DateTimeOffset?)removed),
            (r.PeerId, r.TunnelAddress, r.PublicPort, r.EndedUtc)));
        Assert.Empty(await store.FindAuditAsync(IPAddress.Parse("2001:db8:1::12"), 443, set.AddSeconds(30)));
    }

    [Fact]
    public async Task Retention_VirtualTimePassesIt_EndedRecordsOlderThanItDeletedRecentAndHeldKept()
    {
        await using var store = await _fixture.OpenAsync();
        var time = _fixture.Time;
        var t0 = time.GetUtcNow();
        await store.AppendAuditAsync([
            Start(20001, t0.AddDays(-7)), AuditChange.End(Public, MappingProtocol.Tcp, 20001, t0.AddDays(-6).AddHours(-12)),
            Start(20002, t0.AddDays(-2)), AuditChange.End(Public, MappingProtocol.Tcp, 20002, t0.AddDays(-1)),
        ]);
        var recorder = Recorder(store, TimeSpan.FromDays(7));
        Assert.Equal(TimeSpan.FromHours(1), recorder.PrunePeriod);
        var firstPrune = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var deleted = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        recorder.Pruned += count =>
        {
            firstPrune.TrySetResult(count);
            if (count > 0)
                deleted.TrySetResult(count);
        };
        await recorder.StartAsync(CancellationToken.None);
        try
        {
            // At start 20001 ended 6.5 days ago: inside the retention, kept.
            Assert.Equal(0, await firstPrune.Task.WaitAsync(Wait));
            Assert.Single(await store.FindAuditAsync(Public, 20001, t0.AddDays(-7)));
            // A mapping held since long before the retention, still held: never pruned.
            await store.AppendAuditAsync([Start(20003, t0.AddDays(-9))]);

            // Half a day and a period later the timer's prune finds it past the retention.
            for (var hour = 0; hour < 14 && !deleted.Task.IsCompleted; hour++)
                time.Advance(TimeSpan.FromHours(1));
            Assert.Equal(1, await deleted.Task.WaitAsync(Wait));

            Assert.Empty(await store.FindAuditAsync(Public, 20001, t0.AddDays(-7)));
            Assert.Single(await store.FindAuditAsync(Public, 20002, t0.AddDays(-2)));
            Assert.Single(await store.FindAuditAsync(Public, 20003, time.GetUtcNow()));
        }
        finally
        {
            await recorder.DisposeAsync();
        }
    }

    [Fact]
    public async Task StartAsync_RecordsAPreviousRunLeftOpen_ClosedAtStart()
    {
        await using var store = await _fixture.OpenAsync();
        var time = _fixture.Time;
        var t0 = time.GetUtcNow();
        await store.AppendAuditAsync([Start(20001, t0.AddHours(-1))]);

        var recorder = Recorder(store, TimeSpan.FromDays(7));
        await recorder.StartAsync(CancellationToken.None);
        await recorder.DisposeAsync();

        Assert.Equal(t0, Assert.Single(await store.FindAuditAsync(Public, 20001, t0.AddMinutes(-1))).EndedUtc);
    }

    private static AuditChange Start(ushort port, DateTimeOffset at) =>
        new(Public, MappingProtocol.Tcp, port, at, new AuditStart(IPAddress.Parse("10.99.0.2"), 8080, "peer-1", "alice"));
}
