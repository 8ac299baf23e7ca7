using Portcullis.WireGuard.Cookies;
using Portcullis.WireGuard.Messages;
using static Portcullis.Fuzz.Targets.WireGuard.WireGuardFixture;

namespace Portcullis.Fuzz.Targets.WireGuard;

/// <summary>
/// An initiator that sent the genuine initiation receives a datagram as a cookie reply. Asserts: only the genuine
/// reply's authenticated bytes are accepted (the receiver index only routes it), and the cookie taken then makes a
/// MAC2 the issuing responder accepts.
/// </summary>
internal sealed class CookieReplyTarget : FuzzTarget
{
    public override string Name => "wg-cookie-reply";


    public override void Run(ReadOnlySpan<byte> input)
    {
        var isReply = input.Length == MessageType.CookieReplySize && input[0] == MessageType.CookieReply && input[1..4].IndexOfAnyExcept((byte)0) < 0;
        Check.That(isReply == (MessageHeader.Classify(input) == MessageType.CookieReply), "Classify says cookie reply exactly for 64 bytes of type 3 with zero reserved bytes");
        Check.That(CookieReplyMessage.IsWellFormed(input) == isReply, "IsWellFormed agrees with Classify");

        var generator = new CookieGenerator(Crypto);
        generator.Init(ResponderPublic);
        var initiation = Initiation.ToArray();
        generator.AddMacs(initiation, Now);
        if (!generator.ConsumeReply(input, Now))
            return;

        Accept();
        Check.That(isReply, "only a well-formed cookie reply is accepted");
        Check.That(SameExcept(input, CookieReply, CookieReplyMessage.ReceiverOffset, CookieReplyMessage.NonceOffset), "only the genuine cookie reply is accepted");
        Check.That(!generator.ConsumeReply(input, Now), "a cookie reply is taken once");
        generator.AddMacs(initiation, Now);
        Check.That(CookieIssuer.CheckMac2(initiation, Source, Now), "the cookie makes a MAC2 its issuer accepts");
        Check.That(!CookieIssuer.CheckMac2(initiation, OtherSource, Now), "the cookie is bound to the address it was issued for");
    }

    public override IEnumerable<(string Name, byte[] Data)> ComputedSeeds() =>
    [
        ("genuine", CookieReply),
    ];
}
