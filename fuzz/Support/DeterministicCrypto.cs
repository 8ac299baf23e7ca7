using Portcullis.WireGuard.Crypto;

namespace Portcullis.Fuzz.Support;

/// <summary>
/// The real primitives (OpenSSL, libsodium) with one change: randomness (ephemeral keys, cookie secrets, nonces) comes
/// from a counter hashed with BLAKE2s, so one input always takes the same path and the computed seeds stay valid. A
/// fuzzer needs that to tell new coverage from noise. Everything authenticated is authenticated for real.
/// </summary>
public sealed class DeterministicCrypto(string stream) : IWireGuardCrypto
{
    private readonly OpenSslCrypto _real = new();
    private readonly byte[] _label = System.Text.Encoding.ASCII.GetBytes(stream);
    private ulong _counter;

    /// <summary>Starts the random stream again, so a run repeats the previous one exactly.</summary>
    public void Rewind() => _counter = 0;

    public void Hash(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second, Span<byte> hash32) => _real.Hash(first, second, hash32);

    public void Mac(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data, Span<byte> mac16) => _real.Mac(key, data, mac16);

    public void Hmac(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data, Span<byte> mac32) => _real.Hmac(key, data, mac32);

    public void GeneratePrivateKey(Span<byte> privateKey32)
    {
        RandomBytes(privateKey32[..32]);
        privateKey32[0] &= 248;
        privateKey32[31] = (byte)((privateKey32[31] & 127) | 64);
    }

    public void DerivePublicKey(ReadOnlySpan<byte> privateKey32, Span<byte> publicKey32) => _real.DerivePublicKey(privateKey32, publicKey32);

    public bool SharedSecret(ReadOnlySpan<byte> privateKey32, ReadOnlySpan<byte> publicKey32, Span<byte> shared32) =>
        _real.SharedSecret(privateKey32, publicKey32, shared32);

    public void Seal(ReadOnlySpan<byte> key32, ulong counter, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData, Span<byte> ciphertextAndTag) =>
        _real.Seal(key32, counter, plaintext, associatedData, ciphertextAndTag);

    public bool Open(ReadOnlySpan<byte> key32, ulong counter, ReadOnlySpan<byte> ciphertextAndTag, ReadOnlySpan<byte> associatedData, Span<byte> plaintext) =>
        _real.Open(key32, counter, ciphertextAndTag, associatedData, plaintext);

    public void XSeal(ReadOnlySpan<byte> key32, ReadOnlySpan<byte> nonce24, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData, Span<byte> ciphertextAndTag) =>
        _real.XSeal(key32, nonce24, plaintext, associatedData, ciphertextAndTag);

    public bool XOpen(ReadOnlySpan<byte> key32, ReadOnlySpan<byte> nonce24, ReadOnlySpan<byte> ciphertextAndTag, ReadOnlySpan<byte> associatedData, Span<byte> plaintext) =>
        _real.XOpen(key32, nonce24, ciphertextAndTag, associatedData, plaintext);

    public void RandomBytes(Span<byte> destination)
    {
        Span<byte> block = stackalloc byte[32];
        Span<byte> counter = stackalloc byte[8];
        while (!destination.IsEmpty)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(counter, _counter++);
            _real.Hash(_label, counter, block);
            var n = Math.Min(block.Length, destination.Length);
            block[..n].CopyTo(destination);
            destination = destination[n..];
        }
    }

    public ITransportCipher CreateTransportCipher(ReadOnlySpan<byte> key32) => _real.CreateTransportCipher(key32);
}
