using BenchmarkDotNet.Attributes;
using Portcullis.WireGuard.Crypto;
using Portcullis.WireGuard.Noise;

namespace Portcullis.Benchmarks;

/// <summary>
/// Whole handshakes per second on one side, the peer's messages prepared once:
/// initiator = CreateInitiation + ConsumeResponse + BeginSession; responder = ConsumeInitiation +
/// CreateResponse + BeginSession. The expected cost is dominated by X25519 (4 per side, and the
/// initiator's ephemeral public key). Should allocate nothing.
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

    [GlobalSetup]
    public void Setup()
    {
        var crypto = new OpenSslCrypto();
        // The initiator's ephemeral is pinned so that one prepared response answers every initiation
        // it creates; the RNG and the public-key derivation still run each time.
        var fixedEphemeral = new byte[32];
        crypto.GeneratePrivateKey(fixedEphemeral);
        _initiator = Engine(new FixedEphemeralCrypto(crypto, fixedEphemeral));
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

    private static NoiseEngine Engine(IWireGuardCrypto crypto)
    {
        var engine = new NoiseEngine(crypto);
        var key = new byte[32];
        crypto.GeneratePrivateKey(key);
        engine.SetPrivateKey(key);
        return engine;
    }

    /// <summary>OpenSSL crypto whose fresh private keys are all one fixed key (after paying for a real one).</summary>
    private sealed class FixedEphemeralCrypto(IWireGuardCrypto inner, byte[] ephemeral) : IWireGuardCrypto
    {
        public void GeneratePrivateKey(Span<byte> privateKey32)
        {
            inner.GeneratePrivateKey(privateKey32);
            ephemeral.CopyTo(privateKey32);
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
        public ITransportCipher CreateTransportCipher(ReadOnlySpan<byte> key32) => inner.CreateTransportCipher(key32);
    }
}
