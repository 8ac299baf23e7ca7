using System.Net;
using Portcullis.PortMapping.Server;
using Portcullis.PortMapping.Tests.Support;
using Portcullis.Testing;
using static Portcullis.PortMapping.Tests.Support.PcpVectors;

namespace Portcullis.PortMapping.Tests.Server;

// PCP PEER (RFC 6887 §12) through the whole server minus its socket: bytes in, bytes out, what the policy was asked.
public sealed class PcpPeerDispatchTests
{
    private const string EpochHex = "000004D2"; // AuthorityDouble.EpochSeconds = 1234
    private const string Remote = "00000000 00000000 0000FFFF C0000264"; // ::ffff:192.0.2.100
    private static readonly IPAddress Client = IPAddress.Parse("10.99.0.2");

    private readonly AuthorityDouble _authority = new();
    private readonly PortMappingCounters _counters = new();
    private readonly byte[] _response = new byte[PortMappingDispatcher.MaxResponseSize];

    private string Handle(byte[] datagram)
    {
        var dispatcher = new PortMappingDispatcher(_authority,
            new PortMappingServerOptions { ListenAddress = IPAddress.Parse("10.99.0.1"), EnablePcp = true }, _counters, new CapturingLogger());
        var length = dispatcher.Handle(datagram, Client, _response);
        return Hex.Of(_response.AsSpan(0, length));
    }

    [Fact]
    public void Peer_AsksPolicyForTheFlowAndAnswersTheAssignedEndpoint()
    {
        var response = Handle(Peer(remotePort: "0050", remoteAddress: Remote, internalPort: "1F90", suggestedPort: "9C41"));

        // Header: version 2, R|PEER, reserved, SUCCESS, lifetime 3600, epoch 1234, 96 reserved bits; then the MAP
        // part with the assigned port 40000 and address ::ffff:198.51.100.10, then the remote peer as asked.
        var expected = "02820000" + "00000E10" + EpochHex + "000000000000000000000000"
            + Nonce + "06000000" + "1F90" + "9C40" + "00000000000000000000FFFFC633640A"
            + "0050" + "0000" + "00000000000000000000FFFFC0000264";
        Assert.Equal(expected, response);
        var call = Assert.Single(_authority.PeerCalls);
        Assert.Equal(Client, call.Client);
        Assert.Equal(MappingProtocol.Tcp, call.Protocol);
        Assert.Equal(8080, call.InternalPort);
        Assert.Equal(IPAddress.Parse("192.0.2.100"), call.RemoteAddress.IsIPv4MappedToIPv6 ? call.RemoteAddress.MapToIPv4() : call.RemoteAddress);
        Assert.Equal(80, call.RemotePort);
        Assert.Equal(40001, call.SuggestedExternalPort);
        Assert.Equal(TimeSpan.FromHours(1), call.Lifetime);
        Assert.Equal(Nonce, Convert.ToHexString(call.Nonce!.Value.Span));
        Assert.Empty(_authority.MapCalls);
        Assert.Equal(1, _counters.Granted);
    }

    [Fact]
    public void Peer_Repeated_SamePortAndLifetimeClamped()
    {
        _authority.MaxLifetime = TimeSpan.FromMinutes(10);

        var first = Handle(Peer(lifetime: "00015180"));
        var second = Handle(Peer(lifetime: "00015180"));

        Assert.Equal("00000258", first[8..16]); // 600 s
        Assert.Equal(first[84..88], second[84..88]);
        Assert.Equal("9C40", second[84..88]);
    }

    [Fact]
    public void Peer_LifetimeZero_DeletesAndAnswersLifetimeZero()
    {
        Handle(Peer());

        var response = Handle(Peer(lifetime: "00000000"));

        Assert.Equal("02820000" + "00000000", response[..16]);
        Assert.Equal(TimeSpan.Zero, _authority.PeerCalls[^1].Lifetime);
        Assert.Equal(160, response.Length);
    }

    [Theory]
    [InlineData(MapStatus.QuotaExceeded, "0A")]
    [InlineData(MapStatus.NotAuthorized, "02")]
    [InlineData(MapStatus.UnknownClient, "02")]
    [InlineData(MapStatus.NoResources, "08")]
    [InlineData(MapStatus.NetworkFailure, "07")]
    public void Peer_Refused_ErrorCodeWithTheRequestCopied(MapStatus status, string code)
    {
        _authority.ForcedStatus = status;
        var request = Peer();

        var response = Handle(request);

        Assert.Equal("028200" + code, response[..8]);
        // The PEER data comes back as it was sent (RFC 6887 §8.3), after the 24-byte header.
        Assert.Equal(Hex.Of(request.AsSpan(24)), response[48..]);
        Assert.Equal(1, _counters.Refused);
    }

    [Fact]
    public void Peer_UnknownProtocol_UnsupportedProtocolWithoutAskingPolicy()
    {
        var response = Handle(Peer(protocol: "84")); // SCTP

        Assert.Equal("02820009", response[..8]);
        Assert.Empty(_authority.PeerCalls);
    }

    [Fact]
    public void Peer_PolicyThrows_NetworkFailure()
    {
        _authority.Throws = true;

        Assert.Equal("02820007", Handle(Peer())[..8]);
    }
}
