using Portcullis.WireGuard.Cookies;
using Portcullis.WireGuard.Crypto;
using Portcullis.WireGuard.Noise;

namespace Portcullis.WireGuard.Tests.Noise;

/// <summary>
/// Spec vectors: constants, KDF and one whole handshake computed by an independent reference written
/// from the whitepaper in Python (Vectors/make_vectors.py prints every constant below).
/// </summary>
public sealed class HandshakeVectorTests
{
    private const string InitiatorStatic = "01080f161d242b323940474e555c636a71787f868d949ba2a9b0b7bec5ccd3da";
    private const string ResponderStatic = "020910171e252c333a41484f565d646b727980878e959ca3aab1b8bfc6cdd4db";
    private const string InitiatorEphemeral = "030a11181f262d343b424950575e656c737a81888f969da4abb2b9c0c7ced5dc";
    private const string ResponderEphemeral = "040b121920272e353c434a51585f666d747b828990979ea5acb3bac1c8cfd6dd";
    private const string PresharedKey = "050c131a21282f363d444b525960676e757c838a91989fa6adb4bbc2c9d0d7de";
    private const string Timestamp = "400000006553f1000000002a";
    private const string Initiation = "0100000044332211bb50ff9e82a574cfbf820e97f60fb9c143ec7415cf514f8cfd98eff59e0596149c8012d193b4aa851af47ce34a5618c7c0673c2dccf004ae5a2c863e7f8f9187d0f07eebcb322940999de3c569990484d08d25afb2d92d075767096f14326c7c4bee1a19e5ba2e08ee831bc2825d31c9ea809c830eea489b793de54500000000000000000000000000000000";
    private const string Response = "020000008877665544332211f74e5bb7515d565274967af75d88497dc6fc7fcd607da9dd91a617db86ad0110ca585df53e6ea5c0f95c43c63872f3e2fa87e8b234fcfdc3f2e51f6dd8d95fba00000000000000000000000000000000";
    private const string InitiatorSendKey = "a316076be197197a1e0dccfe7ae75c6bfee56565adfb055edc242be87501b587";
    private const string InitiatorReceiveKey = "1c0be82383c43e80c763643da5dae99b3e84330b0d0f7b507d2f246aaf581f6f";
    private const string Kdf3Output1 = "9e2859dfa91938c05bc47ab0ec97611c3557daf9c96ea42671cf0d7bbe1aff8a";
    private const string Kdf3Output2 = "31fce381149dc8ee09a02b1ac6def9cf60389041088a29ae18ecaed88b10cafe";
    private const string Kdf3Output3 = "59182a6e2d4cecf941cc780dc90e319824cb01df1bf4df624e251956341ff370";

    private const uint InitiatorIndex = 0x11223344;
    private const uint ResponderIndex = 0x55667788;

    [Fact]
    public void InitialChainKeyAndHash_RecomputedFromLabels_Match()
    {
        var crypto = new OpenSslCrypto();
        var chainKey = new byte[32];
        var hash = new byte[32];
        crypto.Hash("Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s"u8, [], chainKey);
        crypto.Hash(chainKey, "WireGuard v1 zx2c4 Jason@zx2c4.com"u8, hash);

        Assert.Equal(chainKey, NoiseConstants.InitialChainKey.ToArray());
        Assert.Equal(hash, NoiseConstants.InitialHash.ToArray());
    }

    [Fact]
    public void Kdf3_ReferenceVector_Matches()
    {
        var crypto = new OpenSslCrypto();
        var key = Enumerable.Repeat((byte)1, 32).ToArray();
        byte[] t1 = new byte[32], t2 = new byte[32], t3 = new byte[32];

        Kdf.Kdf3(crypto, key, "portcullis"u8, t1, t2, t3);

        Assert.Equal(Kdf3Output1, Convert.ToHexStringLower(t1));
        Assert.Equal(Kdf3Output2, Convert.ToHexStringLower(t2));
        Assert.Equal(Kdf3Output3, Convert.ToHexStringLower(t3));
    }

    [Fact]
    public void Kdf2_OutputAliasesKey_SameAsSeparateBuffers()
    {
        var crypto = new OpenSslCrypto();
        var key = Enumerable.Repeat((byte)1, 32).ToArray();
        var t2 = new byte[32];

        Kdf.Kdf2(crypto, key, "portcullis"u8, key, t2);

        Assert.Equal(Kdf3Output1, Convert.ToHexStringLower(key));
        Assert.Equal(Kdf3Output2, Convert.ToHexStringLower(t2));
    }

    [Fact]
    public void Handshake_ReferenceKeys_MessagesAndTransportKeysMatchReference()
    {
        var initiatorCrypto = new DeterministicCrypto(Convert.FromHexString(InitiatorEphemeral));
        var responderCrypto = new DeterministicCrypto(Convert.FromHexString(ResponderEphemeral));
        var initiator = Engine(initiatorCrypto, InitiatorStatic);
        var responder = Engine(responderCrypto, ResponderStatic);
        var psk = Convert.FromHexString(PresharedKey);
        var initiatorHandshake = initiator.CreateHandshake(responder.PublicKey, psk);
        var responderHandshake = responder.CreateHandshake(initiator.PublicKey, psk);

        var initiation = new byte[148];
        Assert.True(initiator.CreateInitiation(initiatorHandshake, InitiatorIndex, Convert.FromHexString(Timestamp), initiation));
        var initiatorMacs = new CookieGenerator(initiatorCrypto);
        initiatorMacs.Init(responder.PublicKey);
        initiatorMacs.AddMacs(initiation, TimeSpan.Zero);
        Assert.Equal(Initiation, Convert.ToHexStringLower(initiation));

        Assert.Same(responderHandshake, responder.ConsumeInitiation(initiation, _ => responderHandshake, TimeSpan.Zero));
        var response = new byte[92];
        Assert.True(responder.CreateResponse(responderHandshake, ResponderIndex, response));
        var responderMacs = new CookieGenerator(responderCrypto);
        responderMacs.Init(initiator.PublicKey);
        responderMacs.AddMacs(response, TimeSpan.Zero);
        Assert.Equal(Response, Convert.ToHexStringLower(response));

        Assert.Same(initiatorHandshake, initiator.ConsumeResponse(response, _ => initiatorHandshake));
        byte[] send = new byte[32], receive = new byte[32];
        Assert.True(initiator.BeginSession(initiatorHandshake, send, receive, out var indices));
        Assert.Equal(InitiatorSendKey, Convert.ToHexStringLower(send));
        Assert.Equal(InitiatorReceiveKey, Convert.ToHexStringLower(receive));
        Assert.Equal(new SessionIndices(InitiatorIndex, ResponderIndex, true), indices);
    }

    private static NoiseEngine Engine(IWireGuardCrypto crypto, string privateKeyHex)
    {
        var engine = new NoiseEngine(crypto);
        engine.SetPrivateKey(Convert.FromHexString(privateKeyHex));
        return engine;
    }
}
