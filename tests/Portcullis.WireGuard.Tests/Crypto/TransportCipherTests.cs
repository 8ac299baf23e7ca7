using Portcullis.WireGuard.Crypto;

namespace Portcullis.WireGuard.Tests.Crypto;

public sealed class TransportCipherTests
{
    private readonly OpenSslCrypto _crypto = new();

    private static byte[] Key() => Convert.FromHexString("1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0");

    [Fact]
    public void SealOpen_InPlace_RoundTripsAndMatchesOneShotSeal()
    {
        var plaintext = Enumerable.Range(0, 1420).Select(i => (byte)(i * 7)).ToArray();
        var expected = new byte[plaintext.Length + 16];
        _crypto.Seal(Key(), 42, plaintext, default, expected);
        var buffer = new byte[plaintext.Length + 16];
        plaintext.CopyTo(buffer, 0);
        using var cipher = _crypto.CreateTransportCipher(Key());

        cipher.Seal(42, buffer.AsSpan(0, plaintext.Length), buffer);
        Assert.Equal(expected, buffer);
        var ok = cipher.Open(42, buffer, buffer.AsSpan(0, plaintext.Length));

        Assert.True(ok);
        Assert.Equal(plaintext, buffer.AsSpan(0, plaintext.Length).ToArray());
    }

    [Fact]
    public void Open_ManyPacketsOnOneCipher_EachOpensWithItsOwnCounter()
    {
        using var sender = _crypto.CreateTransportCipher(Key());
        using var receiver = _crypto.CreateTransportCipher(Key());
        var packet = new byte[64 + 16];
        var opened = new byte[64];

        for (ulong counter = 0; counter < 100; counter++)
        {
            Array.Fill(packet, (byte)counter, 0, 64);
            sender.Seal(counter, packet.AsSpan(0, 64), packet);
            Assert.True(receiver.Open(counter, packet, opened));
            Assert.All(opened, b => Assert.Equal((byte)counter, b));
        }
    }

    [Fact]
    public void Open_TamperedTag_ReturnsFalseThenNextPacketStillOpens()
    {
        using var cipher = _crypto.CreateTransportCipher(Key());
        var packet = new byte[32 + 16];
        var opened = new byte[32];
        cipher.Seal(1, new byte[32], packet);
        packet[^1] ^= 0x01;

        Assert.False(cipher.Open(1, packet, opened));

        // A failure must not leave the context in a state that breaks the next packet.
        cipher.Seal(2, new byte[32], packet);
        Assert.True(cipher.Open(2, packet, opened));
    }

    [Fact]
    public void Open_WrongCounter_ReturnsFalse()
    {
        using var cipher = _crypto.CreateTransportCipher(Key());
        var packet = new byte[32 + 16];
        cipher.Seal(5, new byte[32], packet);

        Assert.False(cipher.Open(6, packet, new byte[32]));
    }

    [Fact]
    public void Seal_Keepalive_Is16ByteTagThatOpens()
    {
        using var cipher = _crypto.CreateTransportCipher(Key());
        var keepalive = new byte[16];

        cipher.Seal(9, default, keepalive);

        Assert.NotEqual(new byte[16], keepalive);
        Assert.True(cipher.Open(9, keepalive, Span<byte>.Empty));
    }

    [Fact]
    public void Open_ShorterThanTag_ReturnsFalse()
    {
        using var cipher = _crypto.CreateTransportCipher(Key());

        Assert.False(cipher.Open(0, new byte[10], Span<byte>.Empty));
    }

    [Fact]
    public void Seal_AfterDispose_ThrowsObjectDisposed()
    {
        var cipher = _crypto.CreateTransportCipher(Key());
        cipher.Dispose();
        cipher.Dispose();

        Assert.Throws<ObjectDisposedException>(() => cipher.Seal(0, default, new byte[16]));
    }

    [Fact]
    public void Open_PartiallyOverlappingOutput_ThrowsArgumentException()
    {
        using var cipher = _crypto.CreateTransportCipher(Key());
        var buffer = new byte[16 + 32 + 16];
        cipher.Seal(3, new byte[32], buffer.AsSpan(16));

        Assert.Throws<ArgumentException>(() => cipher.Open(3, buffer.AsSpan(16), buffer.AsSpan(0, 32)));
    }

    [Fact]
    public void CreateTransportCipher_WrongKeyLength_ThrowsArgumentException() =>
        Assert.Throws<ArgumentException>(() => _crypto.CreateTransportCipher(new byte[16]));

    [Fact]
    public void SealOpen_SteadyState_AllocatesNothing()
    {
        using var cipher = _crypto.CreateTransportCipher(Key());
        var buffer = new byte[1420 + 16];
        cipher.Seal(0, buffer.AsSpan(0, 1420), buffer);
        cipher.Open(0, buffer, buffer.AsSpan(0, 1420));

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (ulong counter = 1; counter <= 100; counter++)
        {
            cipher.Seal(counter, buffer.AsSpan(0, 1420), buffer);
            cipher.Open(counter, buffer, buffer.AsSpan(0, 1420));
        }
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
    }
}
