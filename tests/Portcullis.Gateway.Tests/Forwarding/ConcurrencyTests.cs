using Portcullis.Gateway.Forwarding;
using Portcullis.PortMapping;
using static Portcullis.Gateway.Tests.Forwarding.ForwardingHarness;

namespace Portcullis.Gateway.Tests.Forwarding;

public sealed class ConcurrencyTests
{
    [Fact]
    public async Task Requests_ManyThreadsWhileLeasesLapse_KernelAndStateAgreeAndNoPortShared()
    {
        // The table double is not thread-safe and refuses a duplicate key, so an unserialized call or a port
        // given twice shows up as a NetworkFailure or a corrupted dictionary.
        using var h = new ForwardingHarness(new ForwardingPolicy
        {
            // 64 of 80 ports held at peak, so concurrent allocations would often pick the same port.
            PortRange = new PortRange(30000, 30079),
            RequestsPerSecond = 1_000_000,
            Burst = 1_000_000,
            Quarantine = TimeSpan.Zero,
        });
        const int Peers = 16;
        for (var host = 2; host < 2 + Peers; host++)
            h.Connect(host);
        var networkFailures = 0;
        var strangers = 0;

        using var start = new Barrier(Peers + 2);
        var workers = Enumerable.Range(2, Peers).Select(host => Task.Factory.StartNew(() =>
        {
            var client = TunnelAddress(host);
            start.SignalAndWait();
            for (var i = 0; i < 3000; i++)
            {
                var internalPort = (ushort)(1000 + (i % 6));
                var protocol = i % 2 == 0 ? MappingProtocol.Tcp : MappingProtocol.Udp;
                var status = i % 5 == 4
                    ? h.Delete(client, protocol, internalPort).Status
                    : h.Map(client, protocol, internalPort, lifetimeSeconds: 120 + (i % 3)).Status;
                if (status == MapStatus.NetworkFailure)
                    Interlocked.Increment(ref networkFailures);
                // Peer 2 is briefly unknown while it reconnects; nobody else ever is.
                if (status == MapStatus.UnknownClient && host != 2)
                    Interlocked.Increment(ref strangers);
            }
        }, TaskCreationOptions.LongRunning)).ToList();
        var clock = Task.Factory.StartNew(() =>
        {
            start.SignalAndWait();
            for (var i = 0; i < 200; i++)
                h.Time.Advance(TimeSpan.FromSeconds(1));
        }, TaskCreationOptions.LongRunning);
        var sessions = Task.Factory.StartNew(() =>
        {
            start.SignalAndWait();
            for (var i = 0; i < 50; i++)
            {
                h.Disconnect(2);
                h.Connect(2);
            }
        }, TaskCreationOptions.LongRunning);
        await Task.WhenAll([.. workers, clock, sessions]);

        Assert.Equal(0, networkFailures);
        Assert.Equal(0, strangers);
        Assert.Equal(0, h.Table.FailedUpdates);
        var state = h.Service.Mappings.Select(m => (m.Protocol, m.PublicPort)).Order().ToList();
        var kernel = h.Table.Entries.Select(e => (e.Protocol, e.PublicPort)).Order().ToList();
        Assert.Equal(state, kernel);
        Assert.Equal(state.Count, state.Distinct().Count());
        Assert.All(h.Service.Mappings, m => Assert.True(m.ExpiresAt > h.Time.GetUtcNow()));
    }
}
