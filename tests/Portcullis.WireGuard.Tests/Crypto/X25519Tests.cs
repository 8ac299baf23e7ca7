using Portcullis.WireGuard.Crypto;

namespace Portcullis.WireGuard.Tests.Crypto;

public sealed class X25519Tests
{
    private readonly OpenSslCrypto _crypto = new();

    public static TheoryData<string, string, string> Rfc7748Vectors => new()
    {
        // RFC 7748 §5.2: scalar, input u-coordinate, output u-coordinate (scalars are not pre-clamped).
        { "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4", "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c", "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552" },
        { "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d", "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493", "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957" },
        // RFC 7748 §6.1: Alice's private key with Bob's public key, and the other way round.
        { "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f", "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742" },
        { "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb", "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a", "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742" },
    };

    [Theory]
    [MemberData(nameof(Rfc7748Vectors))]
    public void SharedSecret_Rfc7748Vector_MatchesExpected(string scalar, string u, string expected)
    {
        var shared = new byte[32];

        var ok = _crypto.SharedSecret(Convert.FromHexString(scalar), Convert.FromHexString(u), shared);

        Assert.True(ok);
        Assert.Equal(expected, Convert.ToHexStringLower(shared));
    }

    [Theory]
    // RFC 7748 §6.1: X25519(a, 9) and X25519(b, 9).
    [InlineData("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")]
    [InlineData("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb", "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")]
    public void DerivePublicKey_Rfc7748Vector_MatchesExpected(string privateKey, string expected)
    {
        var publicKey = new byte[32];

        _crypto.DerivePublicKey(Convert.FromHexString(privateKey), publicKey);

        Assert.Equal(expected, Convert.ToHexStringLower(publicKey));
    }

    [Theory]
    // Points of small order: zero, one, and a point of order 8 (the libsodium/NSec blocklist).
    [InlineData("0000000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("0100000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800")]
    public void SharedSecret_LowOrderPublicKey_ReturnsFalseAndZeroesOutput(string lowOrderPoint)
    {
        var privateKey = Convert.FromHexString("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
        var shared = Enumerable.Repeat((byte)0xAA, 32).ToArray();

        var ok = _crypto.SharedSecret(privateKey, Convert.FromHexString(lowOrderPoint), shared);

        Assert.False(ok);
        Assert.All(shared, b => Assert.Equal(0, b));
    }

    [Fact]
    public void GeneratePrivateKey_Twice_ClampedAndDistinct()
    {
        var first = new byte[32];
        var second = new byte[32];

        _crypto.GeneratePrivateKey(first);
        _crypto.GeneratePrivateKey(second);

        foreach (var key in new[] { first, second })
        {
            Assert.Equal(0, key[0] & 7);
            Assert.Equal(0x40, key[31] & 0xC0);
        }
        Assert.NotEqual(first, second);
    }

    [Fact]
    public void SharedSecret_GeneratedKeyPairs_AgreeBothWays()
    {
        Span<byte> a = stackalloc byte[32], b = stackalloc byte[32], aPublic = stackalloc byte[32], bPublic = stackalloc byte[32];
        Span<byte> ab = stackalloc byte[32], ba = stackalloc byte[32];
        _crypto.GeneratePrivateKey(a);
        _crypto.GeneratePrivateKey(b);
        _crypto.DerivePublicKey(a, aPublic);
        _crypto.DerivePublicKey(b, bPublic);

        Assert.True(_crypto.SharedSecret(a, bPublic, ab));
        Assert.True(_crypto.SharedSecret(b, aPublic, ba));
        Assert.True(ab.SequenceEqual(ba));
        Assert.False(ab.SequenceEqual(new byte[32]));
    }

    [Fact]
    public void ImportPrivateKey_SameResultsAsTheSpanMethods()
    {
        var a = new byte[32];
        var b = new byte[32];
        var bPublic = new byte[32];
        _crypto.GeneratePrivateKey(a);
        _crypto.GeneratePrivateKey(b);
        _crypto.DerivePublicKey(b, bPublic);
        var expectedPublic = new byte[32];
        var expectedShared = new byte[32];
        _crypto.DerivePublicKey(a, expectedPublic);
        _crypto.SharedSecret(a, bPublic, expectedShared);

        using var key = _crypto.ImportPrivateKey(a);
        var publicKey = new byte[32];
        var shared = new byte[32];
        key.WritePublicKey(publicKey);

        Assert.Equal(expectedPublic, publicKey);
        for (var i = 0; i < 2; i++)
        {
            Assert.True(key.SharedSecret(bPublic, shared));
            Assert.Equal(expectedShared, shared);
        }
    }

    [Theory]
    [MemberData(nameof(Rfc7748Vectors))]
    public void ImportPrivateKey_Rfc7748Vector_MatchesExpected(string scalar, string u, string expected)
    {
        using var key = _crypto.ImportPrivateKey(Convert.FromHexString(scalar));
        var shared = new byte[32];

        Assert.True(key.SharedSecret(Convert.FromHexString(u), shared));
        Assert.Equal(expected, Convert.ToHexStringLower(shared));
    }

    [Fact]
    public void ImportPrivateKey_DisposedKey_DhFailsWithOutputZeroed()
    {
        var privateKey = new byte[32];
        var peerPublic = new byte[32];
        _crypto.GeneratePrivateKey(privateKey);
        _crypto.DerivePublicKey(privateKey, peerPublic);
        var key = _crypto.ImportPrivateKey(privateKey);
        key.Dispose();
        var shared = Enumerable.Repeat((byte)0xAA, 32).ToArray();

        Assert.False(key.SharedSecret(peerPublic, shared));
        Assert.Equal(new byte[32], shared);
    }

    [Theory]
    [InlineData("0000000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("0100000000000000000000000000000000000000000000000000000000000000")]
    public void ImportPrivateKey_LowOrderPublicKey_ReturnsFalseAndZeroesOutput(string lowOrderPoint)
    {
        var privateKey = new byte[32];
        _crypto.GeneratePrivateKey(privateKey);
        using var key = _crypto.ImportPrivateKey(privateKey);
        var shared = Enumerable.Repeat((byte)0xAA, 32).ToArray();

        Assert.False(key.SharedSecret(Convert.FromHexString(lowOrderPoint), shared));
        Assert.Equal(new byte[32], shared);
    }

    [Fact]
    public void SharedSecret_ShortKey_ThrowsArgumentException()
    {
        var shared = new byte[32];

        Assert.Throws<ArgumentException>(() => _crypto.SharedSecret(new byte[31], new byte[32], shared));
    }

    [Theory]
    [InlineData("00", true)]
    [InlineData("0000000000000000000000000000000000000000000000000000000000000000", true)]
    [InlineData("0000000000000000000000000000000000000000000000000000000000000080", false)]
    [InlineData("0100000000000000000000000000000000000000000000000000000000000000", false)]
    public void IsAllZero_Value_DetectsOnlyAllZero(string hex, bool expected) =>
        Assert.Equal(expected, X25519.IsAllZero(Convert.FromHexString(hex)));
}
