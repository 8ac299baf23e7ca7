using Portcullis.WireGuard.Cookies;
using Portcullis.WireGuard.Messages;
using static Portcullis.Fuzz.Targets.WireGuard.WireGuardFixture;

namespace Portcullis.Fuzz.Targets.WireGuard;

/// <summary>
/// The DoS-protection round trip on any well-formed initiation or response: MAC1 as a sender (who needs only our
/// public key) computes it verifies; no MAC2 verifies before a cookie; the cookie reply to the message is read by the
/// sender exactly once, and the MAC2 it then adds verifies for its own address and no other.
/// </summary>
internal static class MacRoundTrip
{
    public static void Check(ReadOnlySpan<byte> input, byte[] receiverPublic)
    {
        var message = input.ToArray();
        var checker = new CookieChecker(new Support.DeterministicCrypto("checker"));
        checker.Init(receiverPublic);
        var sender = new CookieGenerator(Crypto);
        sender.Init(receiverPublic);

        sender.AddMacs(message, Now);
        Fuzz.Check.That(checker.CheckMac1(message), "MAC1 computed by a sender verifies");
        Fuzz.Check.That(!checker.CheckMac2(message, Source, Now), "no MAC2 verifies before a cookie was handed out");

        var reply = new byte[MessageType.CookieReplySize];
        checker.CreateReply(message, Source, Now, reply);
        Fuzz.Check.That(CookieReplyMessage.IsWellFormed(reply), "a cookie reply is well formed");
        Fuzz.Check.That(CookieReplyMessage.ReadReceiver(reply) == InitiationMessage.ReadSender(message), "a cookie reply is addressed to the message's sender index");
        Fuzz.Check.That(sender.ConsumeReply(reply, Now), "the sender reads the cookie reply to its last message");
        Fuzz.Check.That(!sender.ConsumeReply(reply, Now), "a cookie reply is read once");

        sender.AddMacs(message, Now);
        Fuzz.Check.That(checker.CheckMac1(message), "MAC1 still verifies with a cookie");
        Fuzz.Check.That(checker.CheckMac2(message, Source, Now), "MAC2 from the cookie verifies for its address");
        Fuzz.Check.That(!checker.CheckMac2(message, OtherSource, Now), "MAC2 from the cookie fails for another address");
    }
}
