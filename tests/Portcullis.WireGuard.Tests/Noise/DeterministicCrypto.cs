using Portcullis.WireGuard.Crypto;

namespace Portcullis.WireGuard.Tests.Noise;

/// <summary>
/// The real OpenSSL crypto, except that "fresh" ephemeral keys come from a queue, so a handshake can be
/// compared byte for byte with the independent reference (Vectors/make_vectors.py).
/// </summary>
internal sealed class DeterministicCrypto(params byte[][] ephemeralKeys) : IWireGuardCrypto
{
    private readonly OpenSslCrypto _inner = new();
    private readonly Queue<byte[]> _ephemeralKeys = new(ephemeralKeys);

    public void GeneratePrivateKey(Span<byte> privateKey32) => _ephemeralKeys.Dequeue().CopyTo(privateKey32);

    public void Hash(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second, Span<byte> hash32) => _inner.Hash(first, second, hash32);
    public void Mac(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data, Span<byte> mac16) => _inner.Mac(key, data, mac16);
    public void Hmac(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data, Span<byte> mac32) => _inner.Hmac(key, data, mac32);
    public void DerivePublicKey(ReadOnlySpan<byte> privateKey32, Span<byte> publicKey32) => _inner.DerivePublicKey(privateKey32, publicKey32);
    public bool SharedSecret(ReadOnlySpan<byte> privateKey32, ReadOnlySpan<byte> publicKey32, Span<byte> shared32) => _inner.SharedSecret(privateKey32, publicKey32, shared32);
    public void Seal(ReadOnlySpan<byte> key32, ulong counter, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData, Span<byte> ciphertextAndTag) => _inner.Seal(key32, counter, plaintext, associatedData, ciphertextAndTag);
    public bool Open(ReadOnlySpan<byte> key32, ulong counter, ReadOnlySpan<byte> ciphertextAndTag, ReadOnlySpan<byte> associatedData, Span<byte> plaintext) => _inner.Open(key32, counter, ciphertextAndTag, associatedData, plaintext);
    public void XSeal(ReadOnlySpan<byte> key32, ReadOnlySpan<byte> nonce24, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData, Span<byte> ciphertextAndTag) => _inner.XSeal(key32, nonce24, plaintext, associatedData, ciphertextAndTag);
    public bool XOpen(ReadOnlySpan<byte> key32, ReadOnlySpan<byte> nonce24, ReadOnlySpan<byte> ciphertextAndTag, ReadOnlySpan<byte> associatedData, Span<byte> plaintext) => _inner.XOpen(key32, nonce24, ciphertextAndTag, associatedData, plaintext);
    public void RandomBytes(Span<byte> destination) => _inner.RandomBytes(destination);
    public ITransportCipher CreateTransportCipher(ReadOnlySpan<byte> key32) => _inner.CreateTransportCipher(key32);
}
