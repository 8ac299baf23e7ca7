using Portcullis.WireGuard.Crypto;

namespace Portcullis.WireGuard.Tests.Crypto;

public sealed class XChaChaPolyTests
{
    private readonly OpenSslCrypto _crypto = new();

    // draft-irtf-cfrg-xchacha-03 Appendix A.3.1 (AEAD_XChaCha20_Poly1305).
    private const string Key = "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f";
    private const string Nonce = "404142434445464748494a4b4c4d4e4f5051525354555657";
    private const string Ad = "50515253c0c1c2c3c4c5c6c7";
    private const string Plaintext = "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.";
    private const string CiphertextAndTag =
        "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b4522f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff921f9664c97637da9768812f615c68b13b52e"
        + "c0875924c1c7987947deafd8780acf49";

    [Fact]
    public void XSeal_DraftXChaChaA31_MatchesExpected()
    {
        var plaintext = System.Text.Encoding.ASCII.GetBytes(Plaintext);
        var output = new byte[plaintext.Length + 16];

        _crypto.XSeal(Convert.FromHexString(Key), Convert.FromHexString(Nonce), plaintext, Convert.FromHexString(Ad), output);

        Assert.Equal(CiphertextAndTag, Convert.ToHexStringLower(output));
    }

    [Fact]
    public void XOpen_DraftXChaChaA31_ReturnsPlaintext()
    {
        var ciphertext = Convert.FromHexString(CiphertextAndTag);
        var output = new byte[ciphertext.Length - 16];

        var ok = _crypto.XOpen(Convert.FromHexString(Key), Convert.FromHexString(Nonce), ciphertext, Convert.FromHexString(Ad), output);

        Assert.True(ok);
        Assert.Equal(Plaintext, System.Text.Encoding.ASCII.GetString(output));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(129)] // last tag byte
    public void XOpen_TamperedByte_ReturnsFalseAndZeroesOutput(int index)
    {
        var ciphertext = Convert.FromHexString(CiphertextAndTag);
        ciphertext[index] ^= 0x01;
        var output = Enumerable.Repeat((byte)0xAA, ciphertext.Length - 16).ToArray();

        var ok = _crypto.XOpen(Convert.FromHexString(Key), Convert.FromHexString(Nonce), ciphertext, Convert.FromHexString(Ad), output);

        Assert.False(ok);
        Assert.All(output, b => Assert.Equal(0, b));
    }

    [Fact]
    public void XOpen_CookieReplyShape_RoundTrips()
    {
        // A cookie reply seals a 16-byte cookie with AD = the 16-byte mac1 it answers.
        var key = new byte[32];
        var nonce = new byte[24];
        _crypto.RandomBytes(key);
        _crypto.RandomBytes(nonce);
        var cookie = "0123456789abcdef"u8.ToArray();
        var mac1 = "fedcba9876543210"u8.ToArray();
        var sealedCookie = new byte[32];
        var opened = new byte[16];

        _crypto.XSeal(key, nonce, cookie, mac1, sealedCookie);

        Assert.True(_crypto.XOpen(key, nonce, sealedCookie, mac1, opened));
        Assert.Equal(cookie, opened);
    }
}
