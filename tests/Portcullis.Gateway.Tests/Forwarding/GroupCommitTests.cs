using Portcullis.Gateway.Forwarding;
using Portcullis.PortMapping;
using static Portcullis.Gateway.Tests.Forwarding.ForwardingHarness;

namespace Portcullis.Gateway.Tests.Forwarding;

// Group commit through the service: requests that arrive while a table update runs share the next one.
public sealed class GroupCommitTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>A harness whose first table update (after the peers connected) waits until released.</summary>
    private sealed class HeldTable : IDisposable
    {
        private readonly ManualResetEventSlim _entered = new();
        private readonly ManualResetEventSlim _release = new();
        private int _held;

        public HeldTable(ForwardingHarness h) => h.Table.BeforeUpdate = () =>
        {
            if (Interlocked.Exchange(ref _held, 1) == 0)
            {
                _entered.Set();
                Assert.True(_release.Wait(Patience), "the test never released the held update");
            }
        };

        public void WaitEntered() => Assert.True(_entered.Wait(Patience), "no table update started");

        public void Release() => _release.Set();

        public void Dispose()
        {
            _release.Set();
            _entered.Dispose();
            _release.Dispose();
        }
    }

    private static ForwardingHarness Harness(int peers)
    {
        var h = new ForwardingHarness(new ForwardingPolicy { RequestsPerSecond = 1000, Burst = 1000 });
        for (var host = 2; host < 2 + peers; host++)
            h.Connect(host);
        return h;
    }

    private static void WaitQueued(ForwardingHarness h, int count) =>
        Assert.True(SpinWait.SpinUntil(() => h.Service.QueuedRequests == count, Patience), $"{count} requests never queued");

    [Fact]
    public async Task Map_PeersArriveDuringAnUpdate_ShareTheNextUpdate()
    {
        using var h = Harness(9);
        using var held = new HeldTable(h);
        var updatesBefore = h.Table.Updates.Count;

        var first = Task.Run(() => h.Map(TunnelAddress(2), MappingProtocol.Tcp, 1000));
        held.WaitEntered();
        var rest = Enumerable.Range(3, 8).Select(host => Task.Run(() => h.Map(TunnelAddress(host), MappingProtocol.Tcp, 1000))).ToList();
        WaitQueued(h, 8);
        held.Release();
        var results = await Task.WhenAll([first, .. rest]);

        Assert.All(results, r => Assert.Equal(MapStatus.Success, r.Status));
        Assert.Equal(9, results.Select(r => r.ExternalPort).Distinct().Count());
        // The first update carried the first request alone; the eight that queued behind it went in one.
        Assert.Equal(2, h.Table.Updates.Count - updatesBefore);
        Assert.Equal(8, h.Table.Updates[^1].Add.Length);
        Assert.Equal(9, h.Table.Entries.Count);
    }

    [Fact]
    public async Task Map_OneEntryRefusedInABatch_OnlyItsRequestFails()
    {
        using var h = Harness(9);
        using var held = new HeldTable(h);
        h.Table.Refuses = entry => entry.InternalPort == 666;

        var first = Task.Run(() => h.Map(TunnelAddress(2), MappingProtocol.Tcp, 1000));
        held.WaitEntered();
        var rest = Enumerable.Range(3, 8)
            .Select(host => Task.Run(() => h.Map(TunnelAddress(host), MappingProtocol.Tcp, host == 5 ? (ushort)666 : (ushort)1000)))
            .ToList();
        WaitQueued(h, 8);
        held.Release();
        await first;
        var results = await Task.WhenAll(rest);

        Assert.Equal(MapStatus.NetworkFailure, results[5 - 3].Status);
        Assert.All(results.Where((_, i) => i != 5 - 3), r => Assert.Equal(MapStatus.Success, r.Status));
        // State and kernel agree: the refused one is in neither.
        var state = h.Service.Mappings.Select(m => (m.Protocol, m.PublicPort)).Order().ToList();
        var kernel = h.Table.Entries.Select(e => (e.Protocol, e.PublicPort)).Order().ToList();
        Assert.Equal(state, kernel);
        Assert.Equal(8, state.Count);
        Assert.DoesNotContain(h.Service.Mappings, m => m.InternalPort == 666);
    }

    [Fact]
    public async Task Map_OnePeersRequestsQueuedTogether_RunInOrderInSeparateUpdates()
    {
        using var h = Harness(2);
        using var held = new HeldTable(h);
        var updatesBefore = h.Table.Updates.Count;

        var first = Task.Run(() => h.Map(TunnelAddress(2), MappingProtocol.Tcp, 1000));
        held.WaitEntered();
        var create = Task.Run(() => h.Map(TunnelAddress(3), MappingProtocol.Tcp, 2000));
        WaitQueued(h, 1);
        var delete = Task.Run(() => h.Delete(TunnelAddress(3), MappingProtocol.Tcp, 2000));
        WaitQueued(h, 2);
        held.Release();
        await first;

        Assert.Equal(MapStatus.Success, (await create).Status);
        Assert.Equal(MapStatus.Success, (await delete).Status);
        // Create then delete, each its own update: the delete saw the mapping the create made.
        Assert.Equal(3, h.Table.Updates.Count - updatesBefore);
        Assert.Single(h.Table.Updates[^2].Add);
        Assert.Single(h.Table.Updates[^1].Remove);
        Assert.DoesNotContain(h.Service.Mappings, m => m.PeerId == PeerId(3));
    }

    [Fact]
    public async Task Map_TwoPeersCreateWhileTheRangeHasTwoPorts_NeitherIsGivenTheOthersPort()
    {
        using var h = new ForwardingHarness(new ForwardingPolicy { PortRange = new PortRange(30000, 30001), RequestsPerSecond = 1000, Burst = 1000 });
        h.Connect(2);
        h.Connect(3);
        h.Connect(4);
        using var held = new HeldTable(h);

        var first = Task.Run(() => h.Map(TunnelAddress(2), MappingProtocol.Tcp, 1000));
        held.WaitEntered();
        var second = Task.Run(() => h.Map(TunnelAddress(3), MappingProtocol.Tcp, 1000));
        var third = Task.Run(() => h.Map(TunnelAddress(4), MappingProtocol.Tcp, 1000));
        WaitQueued(h, 2);
        held.Release();
        var results = await Task.WhenAll(first, second, third);

        // Two ports for three peers: the batch's second create must see the port the first one reserved.
        Assert.Equal(2, results.Count(r => r.Status == MapStatus.Success));
        Assert.Single(results, r => r.Status == MapStatus.NoResources);
        Assert.Equal(2, results.Where(r => r.Status == MapStatus.Success).Select(r => r.ExternalPort).Distinct().Count());
    }
}
