using Portcullis.WireGuard.Crypto;

namespace Portcullis.WireGuard.Tests.Crypto;

public sealed class Blake2sTests
{
    private readonly OpenSslCrypto _crypto = new();

    private static byte[] Sequence(int length) => Enumerable.Range(0, length).Select(i => (byte)i).ToArray();

    [Fact]
    public void Hash_Rfc7693AppendixBAbc_MatchesExpected()
    {
        var hash = new byte[32];

        _crypto.Hash("abc"u8, default, hash);

        // RFC 7693 Appendix B: BLAKE2s-256("abc").
        Assert.Equal("508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982", Convert.ToHexStringLower(hash));
    }

    [Fact]
    public void Hash_TwoParts_EqualsHashOfConcatenation()
    {
        var split = new byte[32];
        var whole = new byte[32];

        _crypto.Hash("ab"u8, "c"u8, split);
        _crypto.Hash(default, "abc"u8, whole);

        Assert.Equal(whole, split);
    }

    [Fact]
    public void Hash_WireGuardConstructionThenIdentifier_MatchesPython()
    {
        // The first two steps of every WireGuard handshake, from Python 3:
        //   c = hashlib.blake2s(b"Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s").digest()
        //   h = hashlib.blake2s(c + b"WireGuard v1 zx2c4 Jason@zx2c4.com").digest()
        var chainingKey = new byte[32];
        var hash = new byte[32];

        _crypto.Hash("Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s"u8, default, chainingKey);
        _crypto.Hash(chainingKey, "WireGuard v1 zx2c4 Jason@zx2c4.com"u8, hash);

        Assert.Equal("60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36", Convert.ToHexStringLower(chainingKey));
        Assert.Equal("2211b361081ac566691243db458ad5322d9c6c662293e8b70ee19c65ba079ef3", Convert.ToHexStringLower(hash));
    }

    [Theory]
    // Produced with Python 3 (an independent BLAKE2 implementation, CPython's _blake2):
    //   hashlib.blake2s(bytes(range(116)), key=bytes(range(32)), digest_size=16).hexdigest()  -> mac1 shape
    //   hashlib.blake2s(bytes(range(132)), key=bytes(range(16)), digest_size=16).hexdigest()  -> mac2 shape (cookie key)
    [InlineData(32, 116, "072e94ffbfc684bd8ab2a1b9dade2fd5")]
    [InlineData(16, 132, "b03d1196bdcfaad40f911db86b79ac7e")]
    public void Mac_KeyedBlake2s16_MatchesPython(int keyLength, int dataLength, string expected)
    {
        var mac = new byte[16];

        _crypto.Mac(Sequence(keyLength), Sequence(dataLength), mac);

        Assert.Equal(expected, Convert.ToHexStringLower(mac));
    }

    [Fact]
    public void Mac_DigestSize16_IsNotTruncated32ByteHash()
    {
        // Python 3: hashlib.blake2s(bytes(range(116)), key=bytes(range(32))).hexdigest()[:32]
        // The digest length is part of BLAKE2's parameter block, so a truncated 32-byte MAC differs.
        const string truncated = "77ac012a3f754dcfeab5eb996be9cd2d";
        var mac = new byte[16];

        _crypto.Mac(Sequence(32), Sequence(116), mac);

        Assert.NotEqual(truncated, Convert.ToHexStringLower(mac));
    }

    [Theory]
    // Produced with Python 3's hmac over hashlib.blake2s (block size 64):
    //   hmac.new(bytes(range(32)), b"\x01", hashlib.blake2s).hexdigest()        -> KDF step shape
    //   hmac.new(bytes(range(100)), b"WireGuard", hashlib.blake2s).hexdigest()   -> key longer than a block
    [InlineData(32, "01", "0eb5b63e94eb0ee56be66329386c25cca6d38e699ce487595a1bfa66e6968f35")]
    [InlineData(100, "576972654775617264", "27e2783bbe0418733b41f953203368e342aabae567508501430166d5cd0d7e37")]
    public void Hmac_Blake2s_MatchesPython(int keyLength, string dataHex, string expected)
    {
        var mac = new byte[32];

        _crypto.Hmac(Sequence(keyLength), Convert.FromHexString(dataHex), mac);

        Assert.Equal(expected, Convert.ToHexStringLower(mac));
    }

    [Fact]
    public void Mac_KeyLongerThan32_ThrowsArgumentException()
    {
        var mac = new byte[16];

        Assert.Throws<ArgumentException>(() => _crypto.Mac(new byte[33], "x"u8, mac));
    }

    [Fact]
    public void HashMacHmac_ManyThreads_AgreeWithSingleThread()
    {
        // The MACs share prepared OpenSSL templates across threads; every copy must come out the same.
        var data = Sequence(148);
        var key = Sequence(32);
        var expected = new byte[32 + 16 + 32];
        _crypto.Hash(data, default, expected.AsSpan(0, 32));
        _crypto.Mac(key, data, expected.AsSpan(32, 16));
        _crypto.Hmac(key, data, expected.AsSpan(48, 32));
        var failures = 0;

        Parallel.For(0, 2000, _ =>
        {
            Span<byte> actual = stackalloc byte[32 + 16 + 32];
            _crypto.Hash(data, default, actual[..32]);
            _crypto.Mac(key, data, actual.Slice(32, 16));
            _crypto.Hmac(key, data, actual.Slice(48, 32));
            if (!actual.SequenceEqual(expected))
                Interlocked.Increment(ref failures);
        });

        Assert.Equal(0, failures);
    }
}
