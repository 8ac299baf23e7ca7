using BenchmarkDotNet.Attributes;
using Portcullis.WireGuard.Crypto;
using Bcl = System.Security.Cryptography;

namespace Portcullis.Benchmarks;

/// <summary>
/// The primitives on WireGuard's paths: per-packet seal/open of a full 1420-byte MTU payload (our
/// OpenSSL transport cipher against the BCL's ChaCha20Poly1305, both with the key set up once), and
/// the handshake's X25519 and BLAKE2s. Run: dotnet run -c Release --project bench/Portcullis.Benchmarks -- --filter '*Crypto*' --job short
/// </summary>
[MemoryDiagnoser]
public class CryptoBenchmarks
{
    private const int PayloadSize = 1420;

    private readonly OpenSslCrypto _crypto = new();
    private readonly byte[] _key = new byte[32];
    private readonly byte[] _plaintext = new byte[PayloadSize];
    private readonly byte[] _sealed = new byte[PayloadSize + 16];
    private readonly byte[] _output = new byte[PayloadSize + 16];
    private readonly byte[] _nonce = new byte[12];
    private readonly byte[] _privateKey = new byte[32];
    private readonly byte[] _peerPublicKey = new byte[32];
    private readonly byte[] _shared = new byte[32];
    private readonly byte[] _initiation = new byte[148];
    private readonly byte[] _hash = new byte[32];
    private ITransportCipher _openSsl = null!;
    private Bcl.ChaCha20Poly1305 _bcl = null!;

    [GlobalSetup]
    public void Setup()
    {
        _crypto.RandomBytes(_key);
        _crypto.RandomBytes(_plaintext);
        _crypto.RandomBytes(_initiation);
        _openSsl = _crypto.CreateTransportCipher(_key);
        _bcl = new Bcl.ChaCha20Poly1305(_key);
        _openSsl.Seal(0, _plaintext, _sealed);

        _crypto.GeneratePrivateKey(_privateKey);
        Span<byte> peerPrivate = stackalloc byte[32];
        _crypto.GeneratePrivateKey(peerPrivate);
        _crypto.DerivePublicKey(peerPrivate, _peerPublicKey);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _openSsl.Dispose();
        _bcl.Dispose();
    }

    [Benchmark(Baseline = true, Description = "Seal 1420 B, OpenSSL reused ctx")]
    public void SealOpenSsl() => _openSsl.Seal(0, _plaintext, _output);

    [Benchmark(Description = "Seal 1420 B, BCL ChaCha20Poly1305")]
    public void SealBcl()
    {
        // The nonce is rebuilt per call, as the data path would.
        AeadNonceBytes(0, _nonce);
        _bcl.Encrypt(_nonce, _plaintext, _output.AsSpan(0, PayloadSize), _output.AsSpan(PayloadSize), default);
    }

    [Benchmark(Description = "Open 1420 B, OpenSSL reused ctx")]
    public bool OpenOpenSsl() => _openSsl.Open(0, _sealed, _output.AsSpan(0, PayloadSize));

    [Benchmark(Description = "Open 1420 B, BCL ChaCha20Poly1305")]
    public void OpenBcl()
    {
        AeadNonceBytes(0, _nonce);
        _bcl.Decrypt(_nonce, _sealed.AsSpan(0, PayloadSize), _sealed.AsSpan(PayloadSize), _output.AsSpan(0, PayloadSize), default);
    }

    [Benchmark(Description = "CreateTransportCipher")]
    public void CreateTransportCipher() => _crypto.CreateTransportCipher(_key).Dispose();

    [Benchmark(Description = "X25519 shared secret")]
    public bool SharedSecret() => _crypto.SharedSecret(_privateKey, _peerPublicKey, _shared);

    [Benchmark(Description = "BLAKE2s-256 of 148 B")]
    public void Hash148() => _crypto.Hash(_initiation, default, _hash);

    [Benchmark(Description = "MAC (keyed BLAKE2s-16) of 116 B")]
    public void Mac116() => _crypto.Mac(_key, _initiation.AsSpan(0, 116), _hash.AsSpan(0, 16));

    [Benchmark(Description = "HMAC-BLAKE2s of 1 B")]
    public void Hmac1() => _crypto.Hmac(_key, _initiation.AsSpan(0, 1), _hash);

    private static void AeadNonceBytes(ulong counter, byte[] nonce)
    {
        nonce.AsSpan(0, 4).Clear();
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(nonce.AsSpan(4), counter);
    }
}
