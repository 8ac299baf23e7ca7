using Portcullis.Fuzz.Support;
using Portcullis.WireGuard.Messages;
using Portcullis.WireGuard.Noise;
using static Portcullis.Fuzz.Targets.WireGuard.WireGuardFixture;

namespace Portcullis.Fuzz.Targets.WireGuard;

/// <summary>
/// A responder receives a datagram as a handshake initiation: header and length checks, MAC1/MAC2, the cookie round
/// trip, then Noise. Asserts: only the genuine initiation's authenticated bytes are accepted (the sender index and the
/// MACs are not covered by Noise); once accepted, the same initiation is refused as a replay, and the response and
/// session keys are the genuine ones.
/// </summary>
internal sealed class InitiationTarget : FuzzTarget
{
    private readonly DeterministicCrypto _crypto = new("responder");
    private NoiseEngine? _engine;
    private Handshake? _handshake;

    public override string Name => "wg-initiation";


    public override void Run(ReadOnlySpan<byte> input)
    {
        _crypto.Rewind();
        _engine ??= NewEngine(_crypto, ResponderPrivate);
        _handshake ??= _engine.CreateHandshake(InitiatorPublic, PresharedKey);

        var type = MessageHeader.Classify(input);
        var isInitiation = input.Length == MessageType.InitiationSize && input[0] == MessageType.Initiation && input[1..4].IndexOfAnyExcept((byte)0) < 0;
        Check.That(isInitiation == (type == MessageType.Initiation), "Classify says initiation exactly for 148 bytes of type 1 with zero reserved bytes");
        Check.That(InitiationMessage.IsWellFormed(input) == isInitiation, "IsWellFormed agrees with Classify");

        var checker = new Portcullis.WireGuard.Cookies.CookieChecker(Crypto);
        checker.Init(ResponderPublic);
        if (checker.CheckMac1(input))
            Check.That(MessageMacs.HasMacs(input), "MAC1 verifies only on a message that carries MACs");

        if (!isInitiation)
        {
            Check.That(_engine.ConsumeInitiation(input, Lookup, Now) is null, "Noise refuses what is not an initiation");
            return;
        }

        MacRoundTrip.Check(input, ResponderPublic);

        var handshake = _engine.ConsumeInitiation(input, Lookup, Now);
        if (handshake is null)
            return;
        Accept();
        try
        {
            CheckAccepted(input, handshake);
        }
        finally
        {
            _handshake = null; // spent: the next run starts from a fresh one
        }
    }

    private void CheckAccepted(ReadOnlySpan<byte> input, Handshake handshake)
    {
        var engine = _engine!;
        Check.That(SameExcept(input[..InitiationMessage.Mac1Offset], Initiation.AsSpan(0, InitiationMessage.Mac1Offset), InitiationMessage.SenderOffset, InitiationMessage.EphemeralOffset),
            "only the genuine initiation is accepted");
        Check.That(engine.ConsumeInitiation(input, Lookup, Now + TimeSpan.FromSeconds(1)) is null, "an accepted initiation is refused when replayed");

        var response = new byte[MessageType.ResponseSize];
        Check.That(engine.CreateResponse(handshake, ResponderIndex, response), "an accepted initiation is answered");
        Check.That(ResponseMessage.ReadReceiver(response) == InitiationMessage.ReadSender(input), "the response goes to the initiation's sender index");
        // The receiver index is the initiation's (unauthenticated) sender, and MAC1 covers it: compare the rest.
        Check.That(SameExcept(response.AsSpan(0, ResponseMessage.Mac1Offset), Response.AsSpan(0, ResponseMessage.Mac1Offset), ResponseMessage.ReceiverOffset, ResponseMessage.EphemeralOffset),
            "the response is the genuine one");
        var send = new byte[32];
        var receive = new byte[32];
        Check.That(engine.BeginSession(handshake, send, receive, out var indices), "an answered initiation makes a session");
        Check.That(send.AsSpan().SequenceEqual(ResponderSendKey) && receive.AsSpan().SequenceEqual(ResponderReceiveKey), "the session keys are the genuine ones");
        Check.That(indices.LocalIndex == ResponderIndex && !indices.IsInitiator, "the session has the responder's index");
    }

    public override IEnumerable<(string Name, byte[] Data)> ComputedSeeds() =>
    [
        ("genuine", Initiation),
        ("response", Response),
        ("cookie-reply", CookieReply),
    ];

    private Handshake? Lookup(ReadOnlySpan<byte> remoteStatic) =>
        remoteStatic.SequenceEqual(InitiatorPublic) ? _handshake : null;
}
