using Portcullis.Lab.Tunnel;
using static Portcullis.Lab.Gateway.GatewayLab;

namespace Portcullis.Lab.Gateway;

/// <summary>PCP over the tunnel: answered from the address asked, at the canonical size, and only for the sender itself.</summary>
[Collection(LabCollection.Name)]
public sealed class PcpTests
{
    private const int Tcp = 6;

    [Fact]
    public async Task PcpMap_FromClient_AnsweredFromTunnelAddressWith60BytesAndForwarded()
    {
        await using var lab = await GatewayLab.StartAsync();
        await Probes.ListenAsync(lab.ClientA, "tcp", 8080);

        var answer = await PcpClient.MapAsync(lab.ClientA, AddressA, Tcp, 8080, 600);

        Assert.Equal(new PcpAnswer(GatewayTunnelAddress, 60, PcpClient.Success, answer.Lifetime, answer.ExternalPort, PublicAddress), answer);
        Assert.InRange(answer.ExternalPort, 20000, 59999);
        Assert.InRange(answer.Lifetime, 1, 600);
        Assert.Contains(Element(answer.ExternalPort, AddressA, 8080), await lab.RulesetAsync(), StringComparison.Ordinal);
        Assert.Equal("clienta from 192.0.2.100", await Probes.AskAsync(lab.Remote, "tcp", PublicAddress, answer.ExternalPort));
    }

    [Fact]
    public async Task PcpDeleteAll_WithANonce_EndsThatNoncesMappingsOnly()
    {
        const string first = "0102030405060708090a0b0c", second = "f1f2f3f4f5f6f7f8f9fafbfc";
        await using var lab = await GatewayLab.StartAsync();
        var mine = await PcpClient.MapAsync(lab.ClientA, AddressA, Tcp, 8080, 600, first);
        var another = await PcpClient.MapAsync(lab.ClientA, AddressA, Tcp, 8081, 600, second);
        Assert.Equal((PcpClient.Success, PcpClient.Success), (mine.Result, another.Result));

        // RFC 6887 §15: internal port 0 with lifetime 0 deletes this protocol's mappings — those of the asking nonce.
        var deleted = await PcpClient.MapAsync(lab.ClientA, AddressA, Tcp, 0, 0, first);

        Assert.Equal(PcpClient.Success, deleted.Result);
        var ruleset = await lab.RulesetAsync();
        Assert.DoesNotContain(Element(mine.ExternalPort, AddressA, 8080), ruleset, StringComparison.Ordinal);
        Assert.Contains(Element(another.ExternalPort, AddressA, 8081), ruleset, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PcpMap_ClaimingAnotherClientsAddress_AddressMismatchAndNothingMapped()
    {
        await using var lab = await GatewayLab.StartAsync();

        var answer = await PcpClient.MapAsync(lab.ClientA, AddressB, Tcp, 8080, 600);

        Assert.Equal(PcpClient.AddressMismatch, answer.Result);
        Assert.Equal(60, answer.Size);
        Assert.DoesNotContain($": {AddressB} .", await lab.RulesetAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain($": {AddressA} .", await lab.RulesetAsync(), StringComparison.Ordinal);
    }
}
