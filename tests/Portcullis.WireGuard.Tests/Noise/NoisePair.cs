using Portcullis.WireGuard.Crypto;
using Portcullis.WireGuard.Noise;

namespace Portcullis.WireGuard.Tests.Noise;

/// <summary>
/// Two identities, each with an engine and a handshake for the other, and the lookups a device would
/// give the engine (by static key, by our index). Messages are real bytes passed between them.
/// </summary>
internal sealed class NoisePair
{
    public const uint InitiatorIndex = 0x0A0B0C0D;
    public const uint ResponderIndex = 0x01020304;

    public NoisePair(IWireGuardCrypto? crypto = null, byte[]? initiatorPsk = null, byte[]? responderPsk = null)
    {
        Crypto = crypto ?? new OpenSslCrypto();
        Initiator = NewEngine(Crypto);
        Responder = NewEngine(Crypto);
        InitiatorHandshake = Initiator.CreateHandshake(Responder.PublicKey, initiatorPsk ?? []);
        ResponderHandshake = Responder.CreateHandshake(Initiator.PublicKey, responderPsk ?? []);
    }

    public IWireGuardCrypto Crypto { get; }
    public NoiseEngine Initiator { get; }
    public NoiseEngine Responder { get; }
    public Handshake InitiatorHandshake { get; }
    public Handshake ResponderHandshake { get; }

    /// <summary>The responder's peer table: knows only the initiator.</summary>
    public Handshake? LookupStatic(ReadOnlySpan<byte> key) =>
        key.SequenceEqual(ResponderHandshake.RemoteStatic) ? ResponderHandshake : null;

    /// <summary>The initiator's index table.</summary>
    public Handshake? LookupIndex(uint index) => index == InitiatorHandshake.LocalIndex ? InitiatorHandshake : null;

    public byte[] CreateInitiation(byte[]? timestamp = null)
    {
        var message = new byte[148];
        Assert.True(Initiator.CreateInitiation(InitiatorHandshake, InitiatorIndex, timestamp ?? Timestamp(1), message));
        return message;
    }

    public byte[] CreateResponse()
    {
        var message = new byte[92];
        Assert.True(Responder.CreateResponse(ResponderHandshake, ResponderIndex, message));
        return message;
    }

    /// <summary>Initiation → response, both consumed; true when the initiator accepted the response.</summary>
    public bool RunToResponse(TimeSpan now)
    {
        var initiation = CreateInitiation();
        Assert.Same(ResponderHandshake, Responder.ConsumeInitiation(initiation, LookupStatic, now));
        var response = CreateResponse();
        return Initiator.ConsumeResponse(response, LookupIndex) is not null;
    }

    /// <summary>A TAI64N value that grows with <paramref name="seconds"/>.</summary>
    public static byte[] Timestamp(long seconds, int nanoseconds = 0)
    {
        var bytes = new byte[12];
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(bytes, 0x4000000000000000L + seconds);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(8), nanoseconds);
        return bytes;
    }

    private static NoiseEngine NewEngine(IWireGuardCrypto crypto)
    {
        var engine = new NoiseEngine(crypto);
        var key = new byte[32];
        crypto.GeneratePrivateKey(key);
        engine.SetPrivateKey(key);
        return engine;
    }
}
