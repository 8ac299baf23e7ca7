using Portcullis.WireGuard.Noise;

namespace Portcullis.WireGuard.Tests.Noise;

/// <summary>Two engines run the handshake against each other: keys, failures, replay and flood rules.</summary>
public sealed class HandshakeTests
{
    private static readonly TimeSpan Start = TimeSpan.FromSeconds(100);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void FullHandshake_BothRoles_KeysCrossMatch(bool withPsk)
    {
        var psk = withPsk ? Enumerable.Range(0, 32).Select(i => (byte)(i * 3 + 1)).ToArray() : null;
        var pair = new NoisePair(initiatorPsk: psk, responderPsk: psk);

        Assert.True(pair.RunToResponse(Start));
        Assert.Equal(HandshakeState.ResponseConsumed, pair.InitiatorHandshake.State);
        Assert.Equal(HandshakeState.ResponseCreated, pair.ResponderHandshake.State);

        byte[] iSend = new byte[32], iReceive = new byte[32], rSend = new byte[32], rReceive = new byte[32];
        Assert.True(pair.Initiator.BeginSession(pair.InitiatorHandshake, iSend, iReceive, out var iIndices));
        Assert.True(pair.Responder.BeginSession(pair.ResponderHandshake, rSend, rReceive, out var rIndices));

        Assert.Equal(iSend, rReceive);
        Assert.Equal(iReceive, rSend);
        Assert.NotEqual(iSend, iReceive);
        Assert.NotEqual(new byte[32], iSend);
        Assert.Equal(new SessionIndices(NoisePair.InitiatorIndex, NoisePair.ResponderIndex, true), iIndices);
        Assert.Equal(new SessionIndices(NoisePair.ResponderIndex, NoisePair.InitiatorIndex, false), rIndices);
    }

    [Fact]
    public void BeginSession_AfterDerivation_HandshakeZeroedButReplayStateKept()
    {
        var pair = new NoisePair();
        Assert.True(pair.RunToResponse(Start));

        Assert.True(pair.Responder.BeginSession(pair.ResponderHandshake, new byte[32], new byte[32], out _));

        var handshake = pair.ResponderHandshake;
        Assert.Equal(HandshakeState.Zeroed, handshake.State);
        Assert.Equal(0u, handshake.LocalIndex);
        Assert.Equal(new byte[32], handshake.ChainKey);
        Assert.Equal(new byte[32], handshake.Hash);
        Assert.Equal(new byte[32], handshake.LocalEphemeral);
        Assert.Equal(NoisePair.Timestamp(1), handshake.LastTimestamp);
        Assert.Equal(Start, handshake.LastInitiationConsumption);
    }

    [Fact]
    public void ConsumeResponse_MismatchedPresharedKey_ReturnsNull()
    {
        var psk = Enumerable.Repeat((byte)7, 32).ToArray();
        var pair = new NoisePair(initiatorPsk: psk, responderPsk: null);

        Assert.False(pair.RunToResponse(Start));
        Assert.Equal(HandshakeState.InitiationCreated, pair.InitiatorHandshake.State);
    }

    [Fact]
    public void ConsumeInitiation_UnknownStaticKey_ReturnsNull()
    {
        var pair = new NoisePair();
        var initiation = pair.CreateInitiation();
        byte[]? seen = null;

        var result = pair.Responder.ConsumeInitiation(initiation, key => { seen = key.ToArray(); return null; }, Start);

        Assert.Null(result);
        Assert.Equal(pair.Initiator.PublicKey.ToArray(), seen);
    }

    [Fact]
    public void ConsumeInitiation_AnyFlippedBit_ReturnsNullAndChangesNothing()
    {
        var pair = new NoisePair();
        var initiation = pair.CreateInitiation();
        // MAC1/MAC2 (the last 32 bytes) are the cookie checker's, and the sender index (bytes 4..7) is not
        // authenticated by Noise (MAC1 covers it); every other bit is the engine's to check.
        for (var bit = 0; bit < (148 - 32) * 8; bit++)
        {
            if (bit / 8 is >= 4 and < 8)
                continue;
            var tampered = (byte[])initiation.Clone();
            tampered[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.Null(pair.Responder.ConsumeInitiation(tampered, pair.LookupStatic, Start));
        }
        Assert.Equal(HandshakeState.Zeroed, pair.ResponderHandshake.State);
        Assert.Same(pair.ResponderHandshake, pair.Responder.ConsumeInitiation(initiation, pair.LookupStatic, Start));
    }

    [Fact]
    public void ConsumeResponse_AnyFlippedBit_ReturnsNull()
    {
        var pair = new NoisePair();
        var initiation = pair.CreateInitiation();
        Assert.NotNull(pair.Responder.ConsumeInitiation(initiation, pair.LookupStatic, Start));
        var response = pair.CreateResponse();
        // The sender index (bytes 4..7) is not authenticated by Noise (MAC1 covers it).
        for (var bit = 0; bit < (92 - 32) * 8; bit++)
        {
            if (bit / 8 is >= 4 and < 8)
                continue;
            var tampered = (byte[])response.Clone();
            tampered[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.Null(pair.Initiator.ConsumeResponse(tampered, pair.LookupIndex));
        }
        Assert.Equal(HandshakeState.InitiationCreated, pair.InitiatorHandshake.State);
        Assert.NotNull(pair.Initiator.ConsumeResponse(response, pair.LookupIndex));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(147)]
    [InlineData(149)]
    [InlineData(92)]
    public void ConsumeInitiation_WrongLength_ReturnsNull(int length)
    {
        var pair = new NoisePair();
        var initiation = pair.CreateInitiation();
        var resized = new byte[length];
        initiation.AsSpan(0, Math.Min(length, 148)).CopyTo(resized);

        Assert.Null(pair.Responder.ConsumeInitiation(resized, pair.LookupStatic, Start));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(91)]
    [InlineData(93)]
    [InlineData(148)]
    public void ConsumeResponse_WrongLength_ReturnsNull(int length)
    {
        var pair = new NoisePair();
        Assert.NotNull(pair.Responder.ConsumeInitiation(pair.CreateInitiation(), pair.LookupStatic, Start));
        var response = pair.CreateResponse();
        var resized = new byte[length];
        response.AsSpan(0, Math.Min(length, 92)).CopyTo(resized);

        Assert.Null(pair.Initiator.ConsumeResponse(resized, pair.LookupIndex));
    }

    [Fact]
    public void ConsumeInitiation_ReplayedSameTimestamp_ReturnsNull()
    {
        var pair = new NoisePair();
        var initiation = pair.CreateInitiation(NoisePair.Timestamp(5));
        Assert.NotNull(pair.Responder.ConsumeInitiation(initiation, pair.LookupStatic, Start));

        Assert.Null(pair.Responder.ConsumeInitiation(initiation, pair.LookupStatic, Start + TimeSpan.FromSeconds(10)));
        var older = pair.CreateInitiation(NoisePair.Timestamp(4));
        Assert.Null(pair.Responder.ConsumeInitiation(older, pair.LookupStatic, Start + TimeSpan.FromSeconds(10)));
        var later = pair.CreateInitiation(NoisePair.Timestamp(5, nanoseconds: 1));
        Assert.NotNull(pair.Responder.ConsumeInitiation(later, pair.LookupStatic, Start + TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public void ConsumeInitiation_Within20Ms_ReturnsNullAndAfter20MsAccepted()
    {
        var pair = new NoisePair();
        Assert.NotNull(pair.Responder.ConsumeInitiation(pair.CreateInitiation(NoisePair.Timestamp(1)), pair.LookupStatic, Start));

        var second = pair.CreateInitiation(NoisePair.Timestamp(2));
        Assert.Null(pair.Responder.ConsumeInitiation(second, pair.LookupStatic, Start + TimeSpan.FromMilliseconds(19)));
        Assert.Null(pair.Responder.ConsumeInitiation(second, pair.LookupStatic, Start + TimeSpan.FromMilliseconds(20)));
        Assert.NotNull(pair.Responder.ConsumeInitiation(second, pair.LookupStatic, Start + TimeSpan.FromMilliseconds(21)));
        Assert.Equal(NoisePair.Timestamp(2), pair.ResponderHandshake.LastTimestamp);
    }

    [Fact]
    public void CreateResponse_WithoutConsumedInitiation_ReturnsFalse()
    {
        var pair = new NoisePair();
        var message = new byte[92];

        Assert.False(pair.Responder.CreateResponse(pair.ResponderHandshake, NoisePair.ResponderIndex, message));
        Assert.Equal(new byte[92], message);
    }

    [Fact]
    public void BeginSession_WrongStates_ReturnsFalse()
    {
        var pair = new NoisePair();
        var send = new byte[32];
        var receive = new byte[32];

        Assert.False(pair.Initiator.BeginSession(pair.InitiatorHandshake, send, receive, out _));
        pair.CreateInitiation();
        Assert.False(pair.Initiator.BeginSession(pair.InitiatorHandshake, send, receive, out _));
        Assert.NotNull(pair.Responder.ConsumeInitiation(pair.CreateInitiation(NoisePair.Timestamp(2)), pair.LookupStatic, Start));
        Assert.False(pair.Responder.BeginSession(pair.ResponderHandshake, send, receive, out var indices));
        Assert.Equal(default, indices);
        Assert.Equal(new byte[32], send);
    }

    [Fact]
    public void ConsumeResponse_InitiatorNotWaiting_ReturnsNull()
    {
        var pair = new NoisePair();
        Assert.NotNull(pair.Responder.ConsumeInitiation(pair.CreateInitiation(), pair.LookupStatic, Start));
        var response = pair.CreateResponse();
        Assert.NotNull(pair.Initiator.ConsumeResponse(response, pair.LookupIndex));

        // The same response again: the handshake is ResponseConsumed, then Zeroed after BeginSession.
        Assert.Null(pair.Initiator.ConsumeResponse(response, _ => pair.InitiatorHandshake));
        Assert.True(pair.Initiator.BeginSession(pair.InitiatorHandshake, new byte[32], new byte[32], out _));
        Assert.Null(pair.Initiator.ConsumeResponse(response, _ => pair.InitiatorHandshake));
    }

    [Fact]
    public void CreateInitiation_NoPrivateKey_ReturnsFalse()
    {
        var pair = new NoisePair();
        pair.Initiator.SetPrivateKey(new byte[32]);

        Assert.False(pair.Initiator.HasPrivateKey);
        Assert.Equal(new byte[32], pair.Initiator.PublicKey.ToArray());
        Assert.False(pair.Initiator.CreateInitiation(pair.InitiatorHandshake, 1, NoisePair.Timestamp(1), new byte[148]));
    }

    [Fact]
    public void SetPrivateKey_Changed_PrecomputedDhFollowsNewKey()
    {
        var pair = new NoisePair();
        var newKey = new byte[32];
        pair.Crypto.GeneratePrivateKey(newKey);
        pair.Responder.SetPrivateKey(newKey);
        var initiatorHandshake = pair.Initiator.CreateHandshake(pair.Responder.PublicKey, []);
        var initiation = new byte[148];
        Assert.True(pair.Initiator.CreateInitiation(initiatorHandshake, 9, NoisePair.Timestamp(1), initiation));

        // The responder's handshake was created under its old key; it must recompute DH(S_r', S_i).
        Assert.Same(pair.ResponderHandshake, pair.Responder.ConsumeInitiation(initiation, pair.LookupStatic, Start));
        var copied = new byte[32];
        pair.Responder.CopyPrivateKey(copied);
        Assert.Equal(newKey, copied);
    }

    [Fact]
    public void Indices_CarriedInMessages()
    {
        var pair = new NoisePair();
        var initiation = pair.CreateInitiation();
        Assert.Equal(NoisePair.InitiatorIndex, BitConverter.ToUInt32(initiation, 4));
        Assert.Equal(NoisePair.InitiatorIndex, pair.InitiatorHandshake.LocalIndex);
        Assert.NotNull(pair.Responder.ConsumeInitiation(initiation, pair.LookupStatic, Start));
        Assert.Equal(NoisePair.InitiatorIndex, pair.ResponderHandshake.RemoteIndex);

        var response = pair.CreateResponse();
        Assert.Equal(NoisePair.ResponderIndex, BitConverter.ToUInt32(response, 4));
        Assert.Equal(NoisePair.InitiatorIndex, BitConverter.ToUInt32(response, 8));
        Assert.NotNull(pair.Initiator.ConsumeResponse(response, pair.LookupIndex));
        Assert.Equal(NoisePair.ResponderIndex, pair.InitiatorHandshake.RemoteIndex);
    }

    [Fact]
    public void ConsumeResponse_StaleIndex_ReturnsNull()
    {
        var pair = new NoisePair();
        Assert.NotNull(pair.Responder.ConsumeInitiation(pair.CreateInitiation(), pair.LookupStatic, Start));
        var response = pair.CreateResponse();

        // A device whose index table still maps the old index to this handshake after it re-initiated.
        var again = new byte[148];
        Assert.True(pair.Initiator.CreateInitiation(pair.InitiatorHandshake, 77, NoisePair.Timestamp(2), again));

        Assert.Null(pair.Initiator.ConsumeResponse(response, _ => pair.InitiatorHandshake));
    }

    [Fact]
    public void Clear_AfterInitiation_ZeroesSecretsAndState()
    {
        var pair = new NoisePair();
        pair.CreateInitiation();
        Assert.NotEqual(new byte[32], pair.InitiatorHandshake.ChainKey);
        Assert.NotEqual(new byte[32], pair.InitiatorHandshake.LocalEphemeral);

        pair.InitiatorHandshake.Clear();

        Assert.Equal(HandshakeState.Zeroed, pair.InitiatorHandshake.State);
        Assert.Equal(0u, pair.InitiatorHandshake.LocalIndex);
        Assert.Equal(new byte[32], pair.InitiatorHandshake.ChainKey);
        Assert.Equal(new byte[32], pair.InitiatorHandshake.Hash);
        Assert.Equal(new byte[32], pair.InitiatorHandshake.LocalEphemeral);
    }

    [Fact]
    public void Destroy_ZeroesKeysAndRefusesNewInitiations()
    {
        var pair = new NoisePair(initiatorPsk: Enumerable.Repeat((byte)9, 32).ToArray());
        pair.InitiatorHandshake.Destroy();

        Assert.Equal(new byte[32], pair.InitiatorHandshake.PresharedKey);
        Assert.Equal(new byte[32], pair.InitiatorHandshake.PrecomputedStaticStatic);
        Assert.False(pair.Initiator.CreateInitiation(pair.InitiatorHandshake, 1, NoisePair.Timestamp(1), new byte[148]));
    }

    [Fact]
    public void CreateInitiation_LowOrderRemoteStatic_ReturnsFalse()
    {
        var pair = new NoisePair();
        // The all-zero u-coordinate is a low-order point: every DH with it is zero.
        var handshake = pair.Initiator.CreateHandshake(new byte[32], []);
        var message = new byte[148];

        Assert.False(pair.Initiator.CreateInitiation(handshake, 1, NoisePair.Timestamp(1), message));
        Assert.Equal(HandshakeState.Zeroed, handshake.State);
        Assert.Equal(new byte[148], message);
    }

    [Fact]
    public void ConsumeInitiation_ConcurrentCallers_ExactlyOneAcceptedPerTimestampAndStateConsistent()
    {
        var pair = new NoisePair();
        var initiations = Enumerable.Range(1, 16).Select(i => pair.CreateInitiation(NoisePair.Timestamp(i))).ToArray();
        var accepted = 0;

        // Every thread offers every initiation, 1 s apart in monotonic time, so only replay decides.
        Parallel.For(0, 8, _ =>
        {
            for (var i = 0; i < initiations.Length; i++)
            {
                if (pair.Responder.ConsumeInitiation(initiations[i], pair.LookupStatic, Start + TimeSpan.FromSeconds(i)) is not null)
                    Interlocked.Increment(ref accepted);
            }
        });

        Assert.InRange(accepted, 1, initiations.Length);
        Assert.Equal(NoisePair.Timestamp(initiations.Length), pair.ResponderHandshake.LastTimestamp);
        Assert.Equal(HandshakeState.InitiationConsumed, pair.ResponderHandshake.State);
        Assert.True(pair.Responder.CreateResponse(pair.ResponderHandshake, NoisePair.ResponderIndex, new byte[92]));
    }
}
