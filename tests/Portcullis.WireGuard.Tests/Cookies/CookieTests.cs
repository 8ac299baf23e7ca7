using System.Net;
using Portcullis.Core.Io;
using Portcullis.WireGuard.Cookies;
using Portcullis.WireGuard.Crypto;
using Portcullis.WireGuard.Messages;

namespace Portcullis.WireGuard.Tests.Cookies;

/// <summary>MAC1, MAC2 and the cookie reply between a responder's checker and an initiator's generator.</summary>
public sealed class CookieTests
{
    private static readonly TimeSpan Start = TimeSpan.FromSeconds(1000);
    private static readonly UdpEndpoint Source = UdpEndpoint.FromIPEndPoint(IPEndPoint.Parse("203.0.113.21:51820"));

    private readonly OpenSslCrypto _crypto = new();
    private readonly byte[] _responderPublic = new byte[32];
    private readonly CookieChecker _checker;
    private readonly CookieGenerator _generator;

    public CookieTests()
    {
        var privateKey = new byte[32];
        _crypto.GeneratePrivateKey(privateKey);
        _crypto.DerivePublicKey(privateKey, _responderPublic);
        _checker = new CookieChecker(_crypto);
        _checker.Init(_responderPublic);
        _generator = new CookieGenerator(_crypto);
        _generator.Init(_responderPublic);
    }

    [Theory]
    [InlineData(MessageType.Initiation, MessageType.InitiationSize)]
    [InlineData(MessageType.Response, MessageType.ResponseSize)]
    public void CheckMac1_AddedByGenerator_True(byte type, int size)
    {
        var message = Message(type, size, sender: 1);
        _generator.AddMacs(message, Start);

        Assert.True(_checker.CheckMac1(message));
        Assert.Equal(new byte[16], message[^16..]);
    }

    [Fact]
    public void CheckMac1_AnyFlippedBit_False()
    {
        var message = Message(MessageType.Initiation, MessageType.InitiationSize, sender: 1);
        _generator.AddMacs(message, Start);
        for (var bit = 0; bit < (message.Length - 16) * 8; bit++)
        {
            var tampered = (byte[])message.Clone();
            tampered[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.False(_checker.CheckMac1(tampered));
        }
    }

    [Fact]
    public void CheckMac1_KeyedForAnotherResponder_False()
    {
        var other = new CookieGenerator(_crypto);
        other.Init(Enumerable.Repeat((byte)9, 32).ToArray());
        var message = Message(MessageType.Initiation, MessageType.InitiationSize, sender: 1);
        other.AddMacs(message, Start);

        Assert.False(_checker.CheckMac1(message));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(31)]
    [InlineData(147)]
    [InlineData(149)]
    public void CheckMac1_WrongLength_False(int length)
    {
        var message = Message(MessageType.Initiation, MessageType.InitiationSize, sender: 1);
        _generator.AddMacs(message, Start);
        var resized = new byte[length];
        message.AsSpan(0, Math.Min(length, message.Length)).CopyTo(resized);

        Assert.False(_checker.CheckMac1(resized));
    }

    [Fact]
    public void CheckMac2_NoCookie_False()
    {
        var message = Message(MessageType.Initiation, MessageType.InitiationSize, sender: 1);
        _generator.AddMacs(message, Start);

        Assert.False(_checker.CheckMac2(message, Source, Start));
    }

    [Fact]
    public void CookieFlow_ReplyConsumed_NextMessageCarriesAcceptedMac2()
    {
        var first = Message(MessageType.Initiation, MessageType.InitiationSize, sender: 0xCAFEBABE);
        _generator.AddMacs(first, Start);
        var reply = new byte[MessageType.CookieReplySize];

        _checker.CreateReply(first, Source, Start, reply);

        Assert.True(CookieReplyMessage.IsWellFormed(reply));
        Assert.Equal(0xCAFEBABEu, CookieReplyMessage.ReadReceiver(reply));
        Assert.True(_generator.ConsumeReply(reply, Start));

        var next = Message(MessageType.Initiation, MessageType.InitiationSize, sender: 2);
        _generator.AddMacs(next, Start + TimeSpan.FromSeconds(1));
        Assert.NotEqual(new byte[16], next[^16..]);
        Assert.True(_checker.CheckMac1(next));
        Assert.True(_checker.CheckMac2(next, Source, Start + TimeSpan.FromSeconds(1)));

        next[10] ^= 1;
        Assert.False(_checker.CheckMac2(next, Source, Start + TimeSpan.FromSeconds(1)));
    }

    [Theory]
    [InlineData("203.0.113.21:51821")]
    [InlineData("203.0.113.22:51820")]
    [InlineData("[2001:db8::21]:51820")]
    public void CheckMac2_FromAnotherSource_False(string otherSource)
    {
        var next = MessageWithCookie(Start);

        Assert.True(_checker.CheckMac2(next, Source, Start));
        Assert.False(_checker.CheckMac2(next, UdpEndpoint.FromIPEndPoint(IPEndPoint.Parse(otherSource)), Start));
    }

    [Fact]
    public void CheckMac2_After120sAndRotation_OldCookieFails()
    {
        // The generator got its cookie late in the secret's life, so it still uses it after the secret expires.
        var secretBorn = Start;
        var first = Message(MessageType.Initiation, MessageType.InitiationSize, sender: 1);
        _generator.AddMacs(first, secretBorn);
        _checker.CreateReply(first, Source, secretBorn, new byte[64]);
        var late = secretBorn + TimeSpan.FromSeconds(100);
        var next = MessageWithCookie(late);
        Assert.True(_checker.CheckMac2(next, Source, late));

        var expired = secretBorn + TimeSpan.FromSeconds(121);
        var old = Message(MessageType.Initiation, MessageType.InitiationSize, sender: 3);
        _generator.AddMacs(old, expired);
        Assert.NotEqual(new byte[16], old[^16..]);
        Assert.False(_checker.CheckMac2(old, Source, expired));

        _checker.CreateReply(old, Source, expired, new byte[64]);   // rotates the secret
        Assert.False(_checker.CheckMac2(old, Source, expired));
    }

    [Fact]
    public void AddMacs_CookieOlderThanUseTime_Mac2Zero()
    {
        MessageWithCookie(Start);
        var message = Message(MessageType.Initiation, MessageType.InitiationSize, sender: 5);

        _generator.AddMacs(message, Start + TimeSpan.FromSeconds(116));

        Assert.Equal(new byte[16], message[^16..]);
    }

    [Fact]
    public void ConsumeReply_BadTag_False()
    {
        var message = Message(MessageType.Initiation, MessageType.InitiationSize, sender: 1);
        _generator.AddMacs(message, Start);
        var reply = new byte[64];
        _checker.CreateReply(message, Source, Start, reply);

        for (var i = CookieReplyMessage.NonceOffset; i < reply.Length; i++)
        {
            var tampered = (byte[])reply.Clone();
            tampered[i] ^= 0x80;
            Assert.False(_generator.ConsumeReply(tampered, Start));
        }
        Assert.True(_generator.ConsumeReply(reply, Start));
    }

    [Fact]
    public void ConsumeReply_ForAnotherMessage_False()
    {
        var answered = Message(MessageType.Initiation, MessageType.InitiationSize, sender: 1);
        _generator.AddMacs(answered, Start);
        var reply = new byte[64];
        _checker.CreateReply(answered, Source, Start, reply);
        var later = Message(MessageType.Initiation, MessageType.InitiationSize, sender: 2);
        _generator.AddMacs(later, Start);

        Assert.False(_generator.ConsumeReply(reply, Start));
    }

    [Fact]
    public void ConsumeReply_Replayed_False()
    {
        var message = Message(MessageType.Initiation, MessageType.InitiationSize, sender: 1);
        _generator.AddMacs(message, Start);
        var reply = new byte[64];
        _checker.CreateReply(message, Source, Start, reply);

        Assert.True(_generator.ConsumeReply(reply, Start));
        Assert.False(_generator.ConsumeReply(reply, Start));
    }

    [Theory]
    [InlineData(63)]
    [InlineData(65)]
    public void ConsumeReply_WrongLength_False(int length)
    {
        var message = Message(MessageType.Initiation, MessageType.InitiationSize, sender: 1);
        _generator.AddMacs(message, Start);
        var reply = new byte[64];
        _checker.CreateReply(message, Source, Start, reply);
        var resized = new byte[length];
        reply.AsSpan(0, Math.Min(64, length)).CopyTo(resized);

        Assert.False(_generator.ConsumeReply(resized, Start));
    }

    [Fact]
    public void ConsumeReply_NothingSent_False()
    {
        var reply = new byte[64];
        var message = Message(MessageType.Initiation, MessageType.InitiationSize, sender: 1);
        var other = new CookieGenerator(_crypto);
        other.Init(_responderPublic);
        other.AddMacs(message, Start);
        _checker.CreateReply(message, Source, Start, reply);

        Assert.False(_generator.ConsumeReply(reply, Start));
    }

    /// <summary>Runs one cookie exchange at <paramref name="now"/> and returns a fresh message carrying MAC2.</summary>
    private byte[] MessageWithCookie(TimeSpan now)
    {
        var first = Message(MessageType.Initiation, MessageType.InitiationSize, sender: 1);
        _generator.AddMacs(first, now);
        var reply = new byte[64];
        _checker.CreateReply(first, Source, now, reply);
        Assert.True(_generator.ConsumeReply(reply, now));
        var next = Message(MessageType.Initiation, MessageType.InitiationSize, sender: 2);
        _generator.AddMacs(next, now);
        return next;
    }

    /// <summary>A handshake message of the given type with random body bytes (the MACs don't care what they cover).</summary>
    private byte[] Message(byte type, int size, uint sender)
    {
        var message = new byte[size];
        _crypto.RandomBytes(message.AsSpan(8, size - 8 - 32));
        message[0] = type;
        BitConverter.TryWriteBytes(message.AsSpan(4), sender);
        return message;
    }
}
