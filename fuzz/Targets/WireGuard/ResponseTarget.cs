using Portcullis.WireGuard.Messages;
using static Portcullis.Fuzz.Targets.WireGuard.WireGuardFixture;

namespace Portcullis.Fuzz.Targets.WireGuard;

/// <summary>
/// An initiator that sent the genuine initiation receives a datagram as the response: header and length checks, the
/// MAC and cookie round trip, then Noise. Asserts: only the genuine response's authenticated bytes (and our receiver
/// index) are accepted, and the session keys are then the genuine ones.
/// </summary>
internal sealed class ResponseTarget : FuzzTarget
{
    public override string Name => "wg-response";


    public override void Run(ReadOnlySpan<byte> input)
    {
        var type = MessageHeader.Classify(input);
        var isResponse = input.Length == MessageType.ResponseSize && input[0] == MessageType.Response && input[1..4].IndexOfAnyExcept((byte)0) < 0;
        Check.That(isResponse == (type == MessageType.Response), "Classify says response exactly for 92 bytes of type 2 with zero reserved bytes");
        Check.That(ResponseMessage.IsWellFormed(input) == isResponse, "IsWellFormed agrees with Classify");

        var (engine, handshake) = NewInitiator(out _);
        if (!isResponse)
        {
            Check.That(engine.ConsumeResponse(input, index => index == InitiatorIndex ? handshake : null) is null, "Noise refuses what is not a response");
            return;
        }

        MacRoundTrip.Check(input, InitiatorPublic);

        var consumed = engine.ConsumeResponse(input, index => index == InitiatorIndex ? handshake : null);
        if (consumed is null)
            return;
        Accept();
        Check.That(SameExcept(input[..ResponseMessage.Mac1Offset], Response.AsSpan(0, ResponseMessage.Mac1Offset), ResponseMessage.SenderOffset, ResponseMessage.ReceiverOffset),
            "only the genuine response is accepted");
        Check.That(engine.ConsumeResponse(input, index => index == InitiatorIndex ? handshake : null) is null, "a consumed response is not taken twice");
        var send = new byte[32];
        var receive = new byte[32];
        Check.That(engine.BeginSession(consumed, send, receive, out var indices), "an accepted response makes a session");
        Check.That(send.AsSpan().SequenceEqual(InitiatorSendKey) && receive.AsSpan().SequenceEqual(InitiatorReceiveKey), "the session keys are the genuine ones");
        Check.That(send.AsSpan().SequenceEqual(ResponderReceiveKey) && receive.AsSpan().SequenceEqual(ResponderSendKey), "the two sides' keys pair up");
        Check.That(indices.IsInitiator && indices.LocalIndex == InitiatorIndex && indices.RemoteIndex == ResponseMessage.ReadSender(input),
            "the session has our index and the response's sender index");
    }

    public override IEnumerable<(string Name, byte[] Data)> ComputedSeeds() =>
    [
        ("genuine", Response),
        ("initiation", Initiation),
    ];
}
