using System.Net;
using Portcullis.Gateway.Kernel;
using Portcullis.Gateway.Tests.Kernel.Support;

namespace Portcullis.Gateway.Tests.Kernel;

/// <summary>The text of the transactions; that the kernel accepts them is tested in NftForwardingTableTests.</summary>
public sealed class NftScriptTests
{
    [Fact]
    public void Install_LabNetwork_DnatsFromBothInterfacesAndSnatsToFirstPublicAddress()
    {
        var script = NftScript.Install(Entries.Network() with { PublicAddresses = [Entries.Public, Entries.Remote] });

        Assert.Contains("iifname { \"eth0\", \"pc0\" } meta l4proto { tcp, udp } ip daddr . meta l4proto . th dport @leases dnat ip to ip daddr . meta l4proto . th dport map @mappings", script, StringComparison.Ordinal);
        Assert.Contains("oifname \"eth0\" ip saddr 10.99.0.0/16 snat ip to 198.51.100.10\n", script, StringComparison.Ordinal);
        Assert.Contains("oifname \"pc0\" ip saddr 10.99.0.0/16 ct status dnat masquerade", script, StringComparison.Ordinal);
        Assert.Contains("iifname \"pc0\" oifname \"pc0\" drop", script, StringComparison.Ordinal);
        // Every map keeps its elements over a reinstall, PEER's outbound map too: reconciliation decides about them.
        Assert.DoesNotContain("flush map", script, StringComparison.Ordinal);
        Assert.Contains("add map ip portcullis peers ", script, StringComparison.Ordinal);
        // A PEER flow's SNAT comes ahead of the dedicated and shared-address SNAT rules, which would otherwise take it.
        var peer = script.IndexOf("oifname \"eth0\" ip saddr 10.99.0.0/16 snat ip to ip saddr . meta l4proto . th sport . ip daddr . th dport map @peers\n", StringComparison.Ordinal);
        Assert.InRange(peer, 0, script.IndexOf("snat ip to ip saddr map @", StringComparison.Ordinal));
        // The mappings' set keeps its elements; only the inbound limits' per-key state starts afresh (NftInboundLimitScript).
        Assert.DoesNotContain("flush set ip portcullis leases", script, StringComparison.Ordinal);
        Assert.DoesNotContain("flush set ip portcullis dedicated_excluded", script, StringComparison.Ordinal);
    }

    [Fact]
    public void Install_AllowPeerToPeer_AcceptsTunnelToTunnel()
    {
        var script = NftScript.Install(Entries.Network(allowPeerToPeer: true));

        Assert.Contains("iifname \"pc0\" oifname \"pc0\" accept", script, StringComparison.Ordinal);
        Assert.DoesNotContain("iifname \"pc0\" oifname \"pc0\" drop", script, StringComparison.Ordinal);
    }

    [Fact]
    public void Install_Guard_TunnelAddressesOnlyOnTheTunnelBeforeConntrack()
    {
        var script = NftScript.Install(Entries.Network());

        Assert.Contains("add chain ip portcullis guard { type filter hook prerouting priority raw; policy accept; }", script, StringComparison.Ordinal);
        Assert.Contains("add rule ip portcullis guard iifname != { \"pc0\", \"lo\" } ip saddr 10.99.0.0/16 drop", script, StringComparison.Ordinal);
        Assert.Contains("add rule ip portcullis guard iifname != { \"pc0\", \"lo\" } ip daddr 10.99.0.0/16 drop", script, StringComparison.Ordinal);
    }

    [Fact]
    public void Install_Input_TunnelReachesPortMappingReachabilityAndIcmpOnTheTunnelAddressOnly()
    {
        var lines = InputRules(NftScript.Install(Entries.Network()));

        Assert.Equal(
            [
                "add rule ip portcullis input iifname \"pc0\" ct state established,related accept",
                "add rule ip portcullis input iifname \"pc0\" ip daddr 10.99.0.1 udp dport 5351 accept",
                "add rule ip portcullis input iifname \"pc0\" ip daddr 10.99.0.1 tcp dport 8352 accept",
                "add rule ip portcullis input iifname \"pc0\" ip daddr 10.99.0.1 meta l4proto icmp accept",
                "add rule ip portcullis input iifname \"pc0\" drop",
            ],
            lines);
    }

    [Fact]
    public void Install_AllowDns_OpensPort53OnTheTunnelAddressBeforeTheDrop()
    {
        var lines = InputRules(NftScript.Install(Entries.Network() with { AllowDns = true }));

        Assert.Equal("add rule ip portcullis input iifname \"pc0\" ip daddr 10.99.0.1 meta l4proto { tcp, udp } th dport 53 accept", lines[^2]);
    }

    [Fact]
    public void Install_Egress_NonPublicDestinationsDroppedBeforeTunnelToPublicIsAccepted()
    {
        var lines = NftScript.Install(Entries.Network()).Split('\n');

        var drop = Array.IndexOf(lines,
            "add rule ip portcullis forward iifname \"pc0\" oifname \"eth0\" ip daddr { 10.0.0.0/8, 100.64.0.0/10, 169.254.0.0/16, 172.16.0.0/12, 192.168.0.0/16 } drop");
        var accept = Array.IndexOf(lines, "add rule ip portcullis forward iifname \"pc0\" oifname \"eth0\" accept");
        Assert.True(drop >= 0 && accept > drop, string.Join('\n', lines));
    }

    [Fact]
    public void Install_AllowedDestinations_ExceptedOnceEachOutermostOnly()
    {
        var script = NftScript.Install(Entries.Network() with
        {
            AllowedDestinations = [IPNetwork.Parse("10.20.1.0/24"), IPNetwork.Parse("169.254.169.254/32"), IPNetwork.Parse("10.20.0.0/16"), IPNetwork.Parse("10.20.0.0/16")],
        });

        Assert.Contains("192.168.0.0/16 } ip daddr != { 10.20.0.0/16, 169.254.169.254/32 } drop\n", script, StringComparison.Ordinal);
    }

    private static string[] InputRules(string script) =>
        [.. script.Split('\n').Where(l => l.StartsWith("add rule ip portcullis input ", StringComparison.Ordinal))];
}
