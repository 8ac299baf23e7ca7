using Microsoft.Extensions.Logging;
using Portcullis.Gateway.Forwarding;
using Portcullis.PortMapping;
using static Portcullis.Gateway.Tests.Forwarding.ForwardingHarness;

namespace Portcullis.Gateway.Tests.Forwarding;

/// <summary>DESIGN §3.8: nothing logged by default links a public port to a peer; the audit trail is opt-in.</summary>
public sealed class PrivacyTests
{
    /// <summary>A life of two mappings: create, refresh, a refused request, a kernel failure, delete, expiry, session end.</summary>
    private static List<ushort> RunScenario(ForwardingHarness h)
    {
        var client = h.Connect(2);
        var tcp = h.Map(client, MappingProtocol.Tcp, 8080, lifetimeSeconds: 120);
        var udp = h.Map(client, MappingProtocol.Udp, 8080, lifetimeSeconds: 600);
        h.Map(client, MappingProtocol.Tcp, 8080, lifetimeSeconds: 120);
        h.Map(client, MappingProtocol.Tcp, 445);
        h.Table.FailNext = 1;
        h.Map(client, MappingProtocol.Tcp, 9000);
        var third = h.Map(client, MappingProtocol.Tcp, 9001);
        h.Delete(client, MappingProtocol.Tcp, 9001);
        h.Time.Advance(TimeSpan.FromSeconds(130));
        h.Disconnect(2);
        return [tcp.ExternalPort, udp.ExternalPort, third.ExternalPort];
    }

    [Fact]
    public void DefaultPolicy_NoLineNamesPeerPortOrAddress()
    {
        using var h = new ForwardingHarness();
        var ports = RunScenario(h);

        var lines = h.Logger.Lines;
        Assert.NotEmpty(lines);
        foreach (var (_, _, message) in lines)
        {
            Assert.DoesNotContain("p2", message, StringComparison.Ordinal);
            Assert.DoesNotContain("10.99.0.2", message, StringComparison.Ordinal);
            Assert.DoesNotContain("198.51.100.10", message, StringComparison.Ordinal);
            Assert.DoesNotContain("8080", message, StringComparison.Ordinal);
            foreach (var port in ports)
                Assert.DoesNotContain(port.ToString(), message, StringComparison.Ordinal);
        }
        Assert.DoesNotContain(lines, l => l.Id.Id >= 4040);
    }

    [Fact]
    public void AuditLogOn_CreationsAndRemovalsNamePeerAndPorts()
    {
        using var h = new ForwardingHarness(new ForwardingPolicy { AuditLog = true });
        var ports = RunScenario(h);

        var audit = h.Logger.Lines.Where(l => l.Id.Id >= 4040).Select(l => l.Message).ToList();
        var created = audit.Where(m => m.StartsWith("Audit: mapping created", StringComparison.Ordinal)).ToList();
        var removed = audit.Where(m => m.StartsWith("Audit: mapping removed", StringComparison.Ordinal)).ToList();

        Assert.Equal(3, created.Count);
        Assert.Equal(3, removed.Count);
        Assert.Contains(created, m => m.Contains("p2", StringComparison.Ordinal)
            && m.Contains($"198.51.100.10:{ports[0]} -> 10.99.0.2:8080", StringComparison.Ordinal));
        Assert.Contains(removed, m => m.Contains("(Expired)", StringComparison.Ordinal) && m.Contains($":{ports[0]} ", StringComparison.Ordinal));
        Assert.Contains(removed, m => m.Contains("(Deleted)", StringComparison.Ordinal) && m.Contains($":{ports[2]} ", StringComparison.Ordinal));
        Assert.Contains(removed, m => m.Contains("(SessionEnded)", StringComparison.Ordinal) && m.Contains($":{ports[1]} ", StringComparison.Ordinal));
        Assert.Contains(h.Logger.Lines, l => l.Level == LogLevel.Warning && l.Message.StartsWith("Audit: table error", StringComparison.Ordinal));
    }

    [Fact]
    public void KernelElementOwner_IsThePeerIdGiven()
    {
        using var h = new ForwardingHarness();
        h.Service.PeerSessionStarted("p17", TunnelAddress(17));

        h.Map(TunnelAddress(17), MappingProtocol.Tcp, 8080);

        Assert.Equal("p17", Assert.Single(h.Table.Entries).Owner);
    }
}
