using Portcullis.WireGuard.Crypto;
using Bcl = System.Security.Cryptography;

namespace Portcullis.WireGuard.Tests.Crypto;

public sealed class ChaChaPolyTests
{
    private readonly OpenSslCrypto _crypto = new();

    // RFC 8439 §2.8.2 (the "sunscreen" AEAD vector).
    private const string Rfc8439Key = "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f";
    private const string Rfc8439Nonce = "070000004041424344454647";
    private const string Rfc8439Ad = "50515253c0c1c2c3c4c5c6c7";
    private const string Rfc8439Plaintext = "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.";
    private const string Rfc8439CiphertextAndTag =
        "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc3ff4def08e4b7a9de576d26586cec64b6116"
        + "1ae10b594f09e26a7e902ecbd0600691";

    // RFC 8439 Appendix A.5: its nonce 00000000 0102030405060708 is exactly WireGuard's layout, counter 0x0807060504030201.
    private const string A5Key = "1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0";
    private const ulong A5Counter = 0x0807060504030201;
    private const string A5Ad = "f33388860000000000004e91";
    private const string A5CiphertextAndTag =
        "64a0861575861af460f062c79be643bd5e805cfd345cf389f108670ac76c8cb24c6cfc18755d43eea09ee94e382d26b0bdb7b73c321b0100d4f03b7f355894cf332f830e710b97ce98c8a84abd0b948114ad176e008d33bd60f982b1ff37c8559797a06ef4f0ef61c186324e2b3506383606907b6a7c02b0f9f6157b53c867e4b9166c767b804d46a59b5216cde7a4e99040c5a40433225ee282a1b0a06c523eaf4534d7f83fa1155b0047718cbc546a0d072b04b3564eea1b422273f548271a0bb2316053fa76991955ebd63159434ecebb4e466dae5a1073a6727627097a1049e617d91d361094fa68f0ff77987130305beaba2eda04df997b714d6c6f2c29a6ad5cb4022b02709b"
        + "eead9d67890cbb22392336fea1851f38";
    private const string A5PlaintextStart = "Internet-Drafts are draft documents valid for a maximum of six months";

    [Fact]
    public void Seal_Rfc8439Section282_MatchesExpected()
    {
        var plaintext = System.Text.Encoding.ASCII.GetBytes(Rfc8439Plaintext);
        var output = new byte[plaintext.Length + 16];

        ChaChaPoly.Seal(Convert.FromHexString(Rfc8439Key), Convert.FromHexString(Rfc8439Nonce), plaintext, Convert.FromHexString(Rfc8439Ad), output);

        Assert.Equal(Rfc8439CiphertextAndTag, Convert.ToHexStringLower(output));
    }

    [Fact]
    public void Open_Rfc8439Section282_ReturnsPlaintext()
    {
        var ciphertext = Convert.FromHexString(Rfc8439CiphertextAndTag);
        var output = new byte[ciphertext.Length - 16];

        var ok = ChaChaPoly.Open(Convert.FromHexString(Rfc8439Key), Convert.FromHexString(Rfc8439Nonce), ciphertext, Convert.FromHexString(Rfc8439Ad), output);

        Assert.True(ok);
        Assert.Equal(Rfc8439Plaintext, System.Text.Encoding.ASCII.GetString(output));
    }

    [Fact]
    public void Open_Rfc8439AppendixA5WithCounter_ReturnsPlaintext()
    {
        var ciphertext = Convert.FromHexString(A5CiphertextAndTag);
        var plaintext = new byte[ciphertext.Length - 16];

        var ok = _crypto.Open(Convert.FromHexString(A5Key), A5Counter, ciphertext, Convert.FromHexString(A5Ad), plaintext);

        Assert.True(ok);
        Assert.StartsWith(A5PlaintextStart, System.Text.Encoding.UTF8.GetString(plaintext), StringComparison.Ordinal);
    }

    [Fact]
    public void Seal_Rfc8439AppendixA5WithCounter_ReproducesCiphertext()
    {
        var expected = Convert.FromHexString(A5CiphertextAndTag);
        var plaintext = new byte[expected.Length - 16];
        Assert.True(_crypto.Open(Convert.FromHexString(A5Key), A5Counter, expected, Convert.FromHexString(A5Ad), plaintext));
        var output = new byte[expected.Length];

        _crypto.Seal(Convert.FromHexString(A5Key), A5Counter, plaintext, Convert.FromHexString(A5Ad), output);

        Assert.Equal(expected, output);
    }

    [Theory]
    [InlineData(0)]                 // ciphertext
    [InlineData(100)]               // ciphertext
    [InlineData(264)]               // first tag byte
    [InlineData(279)]               // last tag byte
    public void Open_TamperedByte_ReturnsFalseAndZeroesOutput(int index)
    {
        var ciphertext = Convert.FromHexString(A5CiphertextAndTag);
        ciphertext[index] ^= 0x01;
        var plaintext = Enumerable.Repeat((byte)0xAA, ciphertext.Length - 16).ToArray();

        var ok = _crypto.Open(Convert.FromHexString(A5Key), A5Counter, ciphertext, Convert.FromHexString(A5Ad), plaintext);

        Assert.False(ok);
        Assert.All(plaintext, b => Assert.Equal(0, b));
    }

    [Fact]
    public void Open_TamperedAssociatedData_ReturnsFalse()
    {
        var ciphertext = Convert.FromHexString(A5CiphertextAndTag);
        var ad = Convert.FromHexString(A5Ad);
        ad[0] ^= 0x80;

        Assert.False(_crypto.Open(Convert.FromHexString(A5Key), A5Counter, ciphertext, ad, new byte[ciphertext.Length - 16]));
    }

    [Fact]
    public void Open_WrongCounter_ReturnsFalse()
    {
        var ciphertext = Convert.FromHexString(A5CiphertextAndTag);

        Assert.False(_crypto.Open(Convert.FromHexString(A5Key), A5Counter + 1, ciphertext, Convert.FromHexString(A5Ad), new byte[ciphertext.Length - 16]));
    }

    [Fact]
    public void Open_ShorterThanTag_ReturnsFalse() =>
        Assert.False(_crypto.Open(new byte[32], 0, new byte[15], default, Span<byte>.Empty));

    [Fact]
    public void Seal_EmptyPlaintext_ProducesOnlyTagThatOpens()
    {
        var key = Convert.FromHexString(Rfc8439Key);
        var sealedEmpty = new byte[16];

        _crypto.Seal(key, 7, default, "hash"u8, sealedEmpty);

        Assert.True(_crypto.Open(key, 7, sealedEmpty, "hash"u8, Span<byte>.Empty));
        Assert.False(_crypto.Open(key, 7, sealedEmpty, "hasH"u8, Span<byte>.Empty));
    }

    [Fact]
    public void Write_BigCounter_EncodesLittleEndianAfterFourZeroBytes()
    {
        var nonce = new byte[12];
        Array.Fill(nonce, (byte)0xFF);

        AeadNonce.Write(0x0102030405060708, nonce);

        Assert.Equal("000000000807060504030201", Convert.ToHexStringLower(nonce));
    }

    [Theory]
    [InlineData(0UL)]
    [InlineData(1UL)]
    [InlineData(0xFFFF_FFFF_FFFF_E000UL)] // near REJECT_AFTER_MESSAGES: all counter bytes matter
    public void Seal_Counter_MatchesBclWithLittleEndianNonce(ulong counter)
    {
        // The BCL's ChaCha20Poly1305 with a nonce built by hand is the independent check of the counter layout.
        var key = Convert.FromHexString(A5Key);
        var plaintext = "a WireGuard transport payload"u8.ToArray();
        var nonce = new byte[12];
        BitConverter.TryWriteBytes(nonce.AsSpan(4), counter);
        Assert.True(BitConverter.IsLittleEndian);
        var expected = new byte[plaintext.Length + 16];
        using (var bcl = new Bcl.ChaCha20Poly1305(key))
            bcl.Encrypt(nonce, plaintext, expected.AsSpan(0, plaintext.Length), expected.AsSpan(plaintext.Length), default);
        var actual = new byte[plaintext.Length + 16];

        _crypto.Seal(key, counter, plaintext, default, actual);

        Assert.Equal(expected, actual);
    }
}
