using BenchmarkDotNet.Attributes;
using Portcullis.WireGuard.Crypto;
using Portcullis.WireGuard.Noise;

namespace Portcullis.Benchmarks;

/// <summary>
/// Whole handshakes per second on one side, the peer's messages prepared once:
/// initiator = CreateInitiation + ConsumeResponse + BeginSession; responder = ConsumeInitiation +
/// CreateResponse + BeginSession. The cost is dominated by X25519, so the X25519 steps are measured alone too:
/// what wireguard-go's design spends per handshake in either role is one public key from a fresh ephemeral plus
/// three DHs (the static-static DH is precomputed per peer), i.e. X25519PublicKey + 3 × X25519Dh. With OpenSSL a
/// private key object costs a base-point multiplication to build (it computes the public key), which is why the
/// static key and each ephemeral are built once (X25519DhFromBytes is what a DH cost when every call built one).
/// <see cref="KeyObjectsOnce"/> = false measures the same code with every DH and public key built from raw bytes,
/// as before issue 11 (the crypto's default <see cref="IWireGuardCrypto.ImportPrivateKey"/>), in the same run.
/// Allocations: the ephemeral's key object (one per handshake), nothing else.
/// </summary>
[MemoryDiagnoser]
public class HandshakeBenchmarks
{
    private const uint InitiatorIndex = 1;
    private const uint ResponderIndex = 2;

    private readonly byte[] _timestamp = [0x40, 0, 0, 0, 0x65, 0x53, 0xf1, 0, 0, 0, 0, 1];
    private readonly byte[] _initiation = new byte[148];
    private readonly byte[] _response = new byte[92];
    private readonly byte[] _sendKey = new byte[32];
    private readonly byte[] _receiveKey = new byte[32];

    private NoiseEngine _initiator = null!;
    private NoiseEngine _responder = null!;
    private Handshake _initiatorHandshake = null!;
    private Handshake _responderHandshake = null!;
    private StaticKeyLookup _staticLookup = null!;
    private LocalIndexLookup _indexLookup = null!;
    private IWireGuardCrypto _crypto = null!;
    private IDhKey _dhKey = null!;
    private readonly byte[] _privateKey = new byte[32];
    private readonly byte[] _peerPublic = new byte[32];
    private readonly byte[] _shared = new byte[32];

    /// <summary>True: OpenSSL key objects built once per key (now). False: rebuilt for every DH (before).</summary>
    [Params(true, false)]
    public bool KeyObjectsOnce { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        IWireGuardCrypto crypto = new BenchCrypto(new OpenSslCrypto(), null, KeyObjectsOnce);
        _crypto = crypto;
        crypto.GeneratePrivateKey(_privateKey);
        _dhKey = crypto.ImportPrivateKey(_privateKey);
        var peer = new byte[32];
        crypto.GeneratePrivateKey(peer);
        crypto.DerivePublicKey(peer, _peerPublic);
        // The initiator's ephemeral is pinned so that one prepared response answers every initiation
        // it creates; the RNG and the public-key derivation still run each time.
        var fixedEphemeral = new byte[32];
        crypto.GeneratePrivateKey(fixedEphemeral);
        _initiator = Engine(new BenchCrypto(new OpenSslCrypto(), fixedEphemeral, KeyObjectsOnce));
        _responder = Engine(crypto);
        _initiatorHandshake = _initiator.CreateHandshake(_responder.PublicKey, []);
        _responderHandshake = _responder.CreateHandshake(_initiator.PublicKey, []);
        _staticLookup = _ => _responderHandshake;
        _indexLookup = _ => _initiatorHandshake;

        if (!_initiator.CreateInitiation(_initiatorHandshake, InitiatorIndex, _timestamp, _initiation) ||
            _responder.ConsumeInitiation(_initiation, _staticLookup, TimeSpan.Zero) is null ||
            !_responder.CreateResponse(_responderHandshake, ResponderIndex, _response))
            throw new InvalidOperationException("Benchmark setup handshake failed.");
        // Both measured paths must run the whole handshake, not an early rejection.
        if (!Initiator() || !Responder())
            throw new InvalidOperationException("A benchmarked handshake did not complete.");
    }

    [Benchmark]
    public bool Initiator()
    {
        _initiator.CreateInitiation(_initiatorHandshake, InitiatorIndex, _timestamp, _initiation);
        _initiator.ConsumeResponse(_response, _indexLookup);
        return _initiator.BeginSession(_initiatorHandshake, _sendKey, _receiveKey, out _);
    }

    [Benchmark]
    public bool Responder()
    {
        // Forget the last accepted timestamp and arrival so the same initiation passes replay and flood checks.
        lock (_responderHandshake.Sync)
        {
            _responderHandshake.LastTimestamp.AsSpan().Clear();
            _responderHandshake.HasConsumedInitiation = false;
        }
        _responder.ConsumeInitiation(_initiation, _staticLookup, TimeSpan.Zero);
        _responder.CreateResponse(_responderHandshake, ResponderIndex, _response);
        return _responder.BeginSession(_responderHandshake, _sendKey, _receiveKey, out _);
    }

    [GlobalCleanup]
    public void Cleanup() => _dhKey.Dispose();

    /// <summary>A fresh ephemeral's public key: generate, build the key object (OpenSSL computes the public key), read it.</summary>
    [Benchmark]
    public void X25519PublicKey()
    {
        _crypto.GeneratePrivateKey(_privateKey);
        using var key = _crypto.ImportPrivateKey(_privateKey);
        key.WritePublicKey(_shared);
    }

    /// <summary>One DH with a key object built once (our static key; an ephemeral's second use).</summary>
    [Benchmark]
    public bool X25519Dh() => _dhKey.SharedSecret(_peerPublic, _shared);

    /// <summary>One DH from raw private key bytes: builds the key object (a base-point multiplication) every time.</summary>
    [Benchmark]
    public bool X25519DhFromBytes() => _crypto.SharedSecret(_privateKey, _peerPublic, _shared);

    private static NoiseEngine Engine(IWireGuardCrypto crypto)
    {
        var engine = new NoiseEngine(crypto);
        var key = new byte[32];
        crypto.GeneratePrivateKey(key);
        engine.SetPrivateKey(key);
        return engine;
    }

    /// <summary>
    /// OpenSSL crypto, optionally with fresh private keys all one fixed key (after paying for a real one), and with
    /// key objects either built once (OpenSSL's ImportPrivateKey) or rebuilt from bytes for every operation.
    /// </summary>
    private sealed class BenchCrypto(IWireGuardCrypto inner, byte[]? ephemeral, bool keyObjectsOnce) : IWireGuardCrypto
    {
        public void GeneratePrivateKey(Span<byte> privateKey32)
        {
            inner.GeneratePrivateKey(privateKey32);
            ephemeral?.CopyTo(privateKey32);
        }

        public void Hash(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second, Span<byte> hash32) => inner.Hash(first, second, hash32);
        public void Mac(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data, Span<byte> mac16) => inner.Mac(key, data, mac16);
        public void Hmac(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data, Span<byte> mac32) => inner.Hmac(key, data, mac32);
        public void DerivePublicKey(ReadOnlySpan<byte> privateKey32, Span<byte> publicKey32) => inner.DerivePublicKey(privateKey32, publicKey32);
        public bool SharedSecret(ReadOnlySpan<byte> privateKey32, ReadOnlySpan<byte> publicKey32, Span<byte> shared32) => inner.SharedSecret(privateKey32, publicKey32, shared32);
        public void Seal(ReadOnlySpan<byte> key32, ulong counter, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData, Span<byte> ciphertextAndTag) => inner.Seal(key32, counter, plaintext, associatedData, ciphertextAndTag);
        public bool Open(ReadOnlySpan<byte> key32, ulong counter, ReadOnlySpan<byte> ciphertextAndTag, ReadOnlySpan<byte> associatedData, Span<byte> plaintext) => inner.Open(key32, counter, ciphertextAndTag, associatedData, plaintext);
        public void XSeal(ReadOnlySpan<byte> key32, ReadOnlySpan<byte> nonce24, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData, Span<byte> ciphertextAndTag) => inner.XSeal(key32, nonce24, plaintext, associatedData, ciphertextAndTag);
        public bool XOpen(ReadOnlySpan<byte> key32, ReadOnlySpan<byte> nonce24, ReadOnlySpan<byte> ciphertextAndTag, ReadOnlySpan<byte> associatedData, Span<byte> plaintext) => inner.XOpen(key32, nonce24, ciphertextAndTag, associatedData, plaintext);
        public void RandomBytes(Span<byte> destination) => inner.RandomBytes(destination);
        public IDhKey ImportPrivateKey(ReadOnlySpan<byte> privateKey32) =>
            keyObjectsOnce ? inner.ImportPrivateKey(privateKey32) : new BytesDhKey(this, privateKey32);
        public ITransportCipher CreateTransportCipher(ReadOnlySpan<byte> key32) => inner.CreateTransportCipher(key32);
    }
}
