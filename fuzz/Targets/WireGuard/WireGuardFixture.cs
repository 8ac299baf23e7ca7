using Portcullis.Core.Io;
using Portcullis.Core.Time;
using Portcullis.Fuzz.Support;
using Portcullis.WireGuard.Cookies;
using Portcullis.WireGuard.Crypto;
using Portcullis.WireGuard.Noise;

namespace Portcullis.Fuzz.Targets.WireGuard;

/// <summary>
/// Two peers with fixed keys and one genuine handshake between them, computed once per process with the real Noise
/// engine: the initiation the responder must accept, the response the initiator must accept, a cookie reply, and the
/// transport keys both sides derive. Targets compare what the parsers accept against these.
/// </summary>
internal static class WireGuardFixture
{
    public const uint InitiatorIndex = 0x1c2d3e4f;
    public const uint ResponderIndex = 0x5a6b7c8d;

    public static readonly TimeSpan Now = TimeSpan.FromSeconds(1000);
    public static readonly UdpEndpoint Source = UdpEndpoint.FromIPv4([203, 0, 113, 21], 51820);
    public static readonly UdpEndpoint OtherSource = UdpEndpoint.FromIPv4([203, 0, 113, 22], 51820);

    public static readonly OpenSslCrypto Crypto = new();

    public static readonly byte[] ResponderPrivate = FixedPrivateKey("responder");
    public static readonly byte[] InitiatorPrivate = FixedPrivateKey("initiator");
    public static readonly byte[] ResponderPublic = PublicOf(ResponderPrivate);
    public static readonly byte[] InitiatorPublic = PublicOf(InitiatorPrivate);
    public static readonly byte[] PresharedKey = Hash("preshared");
    public static readonly byte[] Timestamp = MakeTimestamp();

    /// <summary>The initiation (MAC1 set, MAC2 zero) the initiator sends; ephemeral from its "initiator" random stream.</summary>
    public static readonly byte[] Initiation;

    /// <summary>The responder's answer to <see cref="Initiation"/>, MAC1 set; ephemeral from its "responder" stream.</summary>
    public static readonly byte[] Response;

    /// <summary>The cookie reply the responder's checker (stream "cookie") sends to <see cref="Initiation"/> from <see cref="Source"/>.</summary>
    public static readonly byte[] CookieReply;

    /// <summary>The checker that wrote <see cref="CookieReply"/>: its secret is fresh at <see cref="Now"/>.</summary>
    public static readonly CookieChecker CookieIssuer;

    public static readonly byte[] InitiatorSendKey = new byte[32];
    public static readonly byte[] InitiatorReceiveKey = new byte[32];
    public static readonly byte[] ResponderSendKey = new byte[32];
    public static readonly byte[] ResponderReceiveKey = new byte[32];

    static WireGuardFixture()
    {
        var (initiatorEngine, initiatorHandshake) = NewInitiator(out var initiation);
        Initiation = initiation;

        var responderEngine = NewEngine(new DeterministicCrypto("responder"), ResponderPrivate);
        var responderHandshake = responderEngine.CreateHandshake(InitiatorPublic, PresharedKey);
        if (responderEngine.ConsumeInitiation(Initiation, key => key.SequenceEqual(InitiatorPublic) ? responderHandshake : null, Now) is null)
            throw new InvalidOperationException("fixture: the genuine initiation is refused");
        Response = new byte[Portcullis.WireGuard.Messages.MessageType.ResponseSize];
        if (!responderEngine.CreateResponse(responderHandshake, ResponderIndex, Response))
            throw new InvalidOperationException("fixture: no response");
        AddMacs(Response, InitiatorPublic);
        if (!responderEngine.BeginSession(responderHandshake, ResponderSendKey, ResponderReceiveKey, out _))
            throw new InvalidOperationException("fixture: responder session");

        if (initiatorEngine.ConsumeResponse(Response, index => index == InitiatorIndex ? initiatorHandshake : null) is null)
            throw new InvalidOperationException("fixture: the genuine response is refused");
        if (!initiatorEngine.BeginSession(initiatorHandshake, InitiatorSendKey, InitiatorReceiveKey, out _))
            throw new InvalidOperationException("fixture: initiator session");

        CookieIssuer = new CookieChecker(new DeterministicCrypto("cookie"));
        CookieIssuer.Init(ResponderPublic);
        CookieReply = new byte[Portcullis.WireGuard.Messages.MessageType.CookieReplySize];
        CookieIssuer.CreateReply(Initiation, Source, Now, CookieReply);
    }

    /// <summary>An initiator that has just sent <see cref="Initiation"/> (same ephemeral every call) and waits for the response.</summary>
    public static (NoiseEngine Engine, Handshake Handshake) NewInitiator(out byte[] initiation)
    {
        var engine = NewEngine(new DeterministicCrypto("initiator"), InitiatorPrivate);
        var handshake = engine.CreateHandshake(ResponderPublic, PresharedKey);
        initiation = new byte[Portcullis.WireGuard.Messages.MessageType.InitiationSize];
        if (!engine.CreateInitiation(handshake, InitiatorIndex, Timestamp, initiation))
            throw new InvalidOperationException("fixture: no initiation");
        AddMacs(initiation, ResponderPublic);
        return (engine, handshake);
    }

    public static NoiseEngine NewEngine(IWireGuardCrypto crypto, byte[] privateKey)
    {
        var engine = new NoiseEngine(crypto);
        engine.SetPrivateKey(privateKey);
        return engine;
    }

    /// <summary>MAC1 (and MAC2 when a cookie is held) as the sender computes them for <paramref name="receiverPublic"/>.</summary>
    public static void AddMacs(byte[] message, byte[] receiverPublic)
    {
        var generator = new CookieGenerator(Crypto);
        generator.Init(receiverPublic);
        generator.AddMacs(message, Now);
    }

    /// <summary>True when <paramref name="a"/> and <paramref name="b"/> agree everywhere except in [skipFrom, skipTo).</summary>
    public static bool SameExcept(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, int skipFrom, int skipTo) =>
        a.Length == b.Length && a[..skipFrom].SequenceEqual(b[..skipFrom]) && a[skipTo..].SequenceEqual(b[skipTo..]);

    private static byte[] FixedPrivateKey(string name)
    {
        var key = Hash(name);
        key[0] &= 248;
        key[31] = (byte)((key[31] & 127) | 64);
        return key;
    }

    private static byte[] PublicOf(byte[] privateKey)
    {
        var key = new byte[32];
        Crypto.DerivePublicKey(privateKey, key);
        return key;
    }

    private static byte[] Hash(string label)
    {
        var hash = new byte[32];
        Crypto.Hash("portcullis-fuzz "u8, System.Text.Encoding.ASCII.GetBytes(label), hash);
        return hash;
    }

    private static byte[] MakeTimestamp()
    {
        var timestamp = new byte[Tai64N.Size];
        Tai64N.Write(new DateTime(2025, 1, 1, 0, 0, 0, DateTimeKind.Utc), timestamp);
        return timestamp;
    }
}
