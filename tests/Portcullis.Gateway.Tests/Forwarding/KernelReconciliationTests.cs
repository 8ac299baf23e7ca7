using System.Net;
using Portcullis.Core.RateLimiting;
using Portcullis.Gateway.Forwarding;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Tests.Forwarding;

// Reconciliation's plan alone: what the kernel holds against what the parts justify.
public sealed class KernelReconciliationTests
{
    private static readonly IPAddress Public = IPAddress.Parse("198.51.100.10");

    [Fact]
    public void Plan_KeepsMatching_RemovesUnownedAndRepointed_AddsMissing()
    {
        var statics = new StaticForwardSet();
        var leases = new LeaseBook();
        var peer = new PeerSession("p2", IPAddress.Parse("10.99.0.2"), Public, new TokenBucket(10, 10, TimeSpan.Zero));
        var lease = new Mapping(peer, MappingProtocol.Udp, 1000, 30000, null, TimeSpan.FromHours(1), TimeSpan.FromHours(1),
            TimeSpan.FromSeconds(5), 1000);
        leases.Add(lease);
        var live = StaticForwardSet.EntryOf(new StaticForwardRule(Public, MappingProtocol.Tcp, 8080, "p2", 80), peer.TunnelAddress);
        statics.SetLive(live);
        var unowned = live with { PublicPort = 8081 };
        var repointed = lease.Entry with { TunnelAddress = IPAddress.Parse("10.99.0.3") };

        var (remove, add) = KernelReconciliation.Plan([live, unowned, repointed], statics, leases);

        Assert.Equal([unowned, repointed], remove);
        Assert.Equal([lease.Entry], add);
    }
}
