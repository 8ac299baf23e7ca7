using System.Net;
using Microsoft.Extensions.Time.Testing;
using Portcullis.Core.Io;
using Portcullis.WireGuard.Uapi;

namespace Portcullis.WireGuard.Tests.Device;

/// <summary>A captured initiation replayed after its peer was removed and added again moves nothing.</summary>
public sealed class ReplayAfterReaddTests
{
    private static readonly UdpEndpoint Attacker = UdpEndpoint.FromIPv4([192, 0, 2, 66], 4444);

    [Fact]
    public void Replay_AfterRemoveAndAdd_RejectedAndEndpointStays()
    {
        using var pair = new DevicePair();
        Assert.NotNull(pair.SendAToB());
        var initiation = pair.Network.Sent.First(s => s.From.Equals(DevicePair.EndpointA) && s.Data.Length == 148 && s.Data[0] == 1).Data;

        // Disable and enable, as the gateway does it: remove, then add with the same key.
        pair.B.Apply(new UapiSetRequest { Peers = [new UapiPeerChange { PublicKey = pair.PublicA, Remove = true }] });
        pair.B.Apply(new UapiSetRequest
        {
            Peers = [new UapiPeerChange { PublicKey = pair.PublicA, AddedAllowedIps = [IPNetwork.Parse("10.0.0.1/32")] }],
        });
        var rejected = pair.B.Counters.HandshakeRejected;
        pair.Network.Deliver(Attacker, DevicePair.EndpointB, initiation);

        Assert.True(DevicePair.Eventually(() => pair.B.Counters.HandshakeRejected == rejected + 1), "the replay was not rejected");
        Assert.DoesNotContain(pair.Network.Sent, s => s.To.Equals(Attacker));
        var peer = Assert.Single(pair.B.Peers);
        Assert.NotEqual(Attacker, peer.Endpoint);
    }

    [Fact]
    public void FreshInitiation_AfterRemoveAndAdd_StillAccepted()
    {
        // Virtual time: initiation timestamps are coarse on purpose (whitened), so a new one within the same tick as
        // the last is rightly refused; a second later it is news.
        var time = new FakeTimeProvider();
        using var pair = new DevicePair(time);
        Assert.NotNull(pair.SendAToB());
        pair.B.Apply(new UapiSetRequest { Peers = [new UapiPeerChange { PublicKey = pair.PublicA, Remove = true }] });
        pair.B.Apply(new UapiSetRequest
        {
            Peers = [new UapiPeerChange { PublicKey = pair.PublicA, Endpoint = DevicePair.EndpointA, AddedAllowedIps = [IPNetwork.Parse("10.0.0.1/32")] }],
        });
        // A starts over (its session with B is gone): a new initiation carries a later timestamp.
        time.Advance(TimeSpan.FromSeconds(1));
        pair.A.Apply(new UapiSetRequest { Peers = [new UapiPeerChange { PublicKey = pair.PublicB, Remove = true }] });
        pair.A.Apply(new UapiSetRequest
        {
            Peers = [new UapiPeerChange
            {
                PublicKey = pair.PublicB, Endpoint = DevicePair.EndpointB,
                AddedAllowedIps = [IPNetwork.Parse("10.0.0.2/32"), IPNetwork.Parse("fd00::2/128")],
            }],
        });

        Assert.NotNull(pair.SendAToB("after re-adding"));
    }
}
