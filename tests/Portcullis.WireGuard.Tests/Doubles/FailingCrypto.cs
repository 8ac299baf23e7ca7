using Portcullis.WireGuard.Crypto;

namespace Portcullis.WireGuard.Tests.Doubles;

/// <summary>
/// Real crypto (OpenSSL) whose transport ciphers can be told to throw on their next calls, as a bug or a broken
/// library would: the device's crypto workers must survive it.
/// </summary>
internal sealed class FailingCrypto : IWireGuardCrypto
{
    private readonly OpenSslCrypto _inner = new();
    private int _sealFailures;
    private int _openFailures;

    /// <summary>The next <paramref name="count"/> seals, on any keypair and worker, throw.</summary>
    public void FailSeals(int count) => Volatile.Write(ref _sealFailures, count);

    /// <summary>The next <paramref name="count"/> opens, on any keypair and worker, throw.</summary>
    public void FailOpens(int count) => Volatile.Write(ref _openFailures, count);

    public void Hash(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second, Span<byte> hash32) => _inner.Hash(first, second, hash32);
    public void Mac(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data, Span<byte> mac16) => _inner.Mac(key, data, mac16);
    public void Hmac(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data, Span<byte> mac32) => _inner.Hmac(key, data, mac32);
    public void GeneratePrivateKey(Span<byte> privateKey32) => _inner.GeneratePrivateKey(privateKey32);
    public void DerivePublicKey(ReadOnlySpan<byte> privateKey32, Span<byte> publicKey32) => _inner.DerivePublicKey(privateKey32, publicKey32);

    public bool SharedSecret(ReadOnlySpan<byte> privateKey32, ReadOnlySpan<byte> publicKey32, Span<byte> shared32) =>
        _inner.SharedSecret(privateKey32, publicKey32, shared32);

    public void Seal(ReadOnlySpan<byte> key32, ulong counter, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData, Span<byte> ciphertextAndTag) =>
        _inner.Seal(key32, counter, plaintext, associatedData, ciphertextAndTag);

    public bool Open(ReadOnlySpan<byte> key32, ulong counter, ReadOnlySpan<byte> ciphertextAndTag, ReadOnlySpan<byte> associatedData, Span<byte> plaintext) =>
        _inner.Open(key32, counter, ciphertextAndTag, associatedData, plaintext);

    public void XSeal(ReadOnlySpan<byte> key32, ReadOnlySpan<byte> nonce24, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData, Span<byte> ciphertextAndTag) =>
        _inner.XSeal(key32, nonce24, plaintext, associatedData, ciphertextAndTag);

    public bool XOpen(ReadOnlySpan<byte> key32, ReadOnlySpan<byte> nonce24, ReadOnlySpan<byte> ciphertextAndTag, ReadOnlySpan<byte> associatedData, Span<byte> plaintext) =>
        _inner.XOpen(key32, nonce24, ciphertextAndTag, associatedData, plaintext);

    public void RandomBytes(Span<byte> destination) => _inner.RandomBytes(destination);

    public ITransportCipher CreateTransportCipher(ReadOnlySpan<byte> key32) => new Cipher(this, _inner.CreateTransportCipher(key32));

    private static void MaybeFail(ref int failures, string what)
    {
        int left;
        do
        {
            left = Volatile.Read(ref failures);
            if (left <= 0)
                return;
        }
        while (Interlocked.CompareExchange(ref failures, left - 1, left) != left);
        throw new InvalidOperationException($"{what} failed on purpose");
    }

    private sealed class Cipher(FailingCrypto owner, ITransportCipher inner) : ITransportCipher
    {
        public void Seal(ulong counter, ReadOnlySpan<byte> plaintext, Span<byte> ciphertextAndTag)
        {
            MaybeFail(ref owner._sealFailures, "seal");
            inner.Seal(counter, plaintext, ciphertextAndTag);
        }

        public bool Open(ulong counter, ReadOnlySpan<byte> ciphertextAndTag, Span<byte> plaintext)
        {
            MaybeFail(ref owner._openFailures, "open");
            return inner.Open(counter, ciphertextAndTag, plaintext);
        }

        public void Dispose() => inner.Dispose();
    }
}
