using Portcullis.Core.Replay;
using Portcullis.WireGuard.Crypto;

namespace Portcullis.WireGuard.Device;

/// <summary>
/// The transport keys of one session. Each crypto worker has its own cipher per direction because a
/// cipher object is not thread-safe; creating one costs about a microsecond, and sessions last minutes.
/// </summary>
internal sealed class Keypair
{
    private readonly ITransportCipher[] _sendCiphers;
    private readonly ITransportCipher[] _receiveCiphers;
    private long _sendNonce = -1;
    private int _retired;

    public Keypair(Peer peer, IWireGuardCrypto crypto, int workers, ReadOnlySpan<byte> sendKey, ReadOnlySpan<byte> receiveKey,
        uint localIndex, uint remoteIndex, bool isInitiator, TimeSpan created)
    {
        Peer = peer;
        LocalIndex = localIndex;
        RemoteIndex = remoteIndex;
        IsInitiator = isInitiator;
        Created = created;
        _sendCiphers = new ITransportCipher[workers];
        _receiveCiphers = new ITransportCipher[workers];
        for (var i = 0; i < workers; i++)
        {
            _sendCiphers[i] = crypto.CreateTransportCipher(sendKey);
            _receiveCiphers[i] = crypto.CreateTransportCipher(receiveKey);
        }
    }

    public Peer Peer { get; }
    public uint LocalIndex { get; }
    public uint RemoteIndex { get; }
    public bool IsInitiator { get; }
    public TimeSpan Created { get; }

    /// <summary>Written only by the inbound writer thread (after authentication); read for the pre-check.</summary>
    public ReplayWindow Replay { get; } = new();

    public bool IsRetired => Volatile.Read(ref _retired) != 0;

    /// <summary>Takes the next send counter; it may exceed REJECT_AFTER_MESSAGES, which the caller checks.</summary>
    public ulong NextNonce() => (ulong)Interlocked.Increment(ref _sendNonce);

    public ulong NoncesUsed => (ulong)(Volatile.Read(ref _sendNonce) + 1);

    public ITransportCipher SendCipher(int worker) => _sendCiphers[worker];

    public ITransportCipher ReceiveCipher(int worker) => _receiveCiphers[worker];

    public bool IsUsableForSending(TimeSpan now) =>
        !IsRetired && now - Created < ProtocolConstants.RejectAfterTime && NoncesUsed < ProtocolConstants.RejectAfterMessages;

    /// <summary>Marks the keypair dead: packets still in the pipelines that use it are dropped from now on.</summary>
    public bool Retire() => Interlocked.Exchange(ref _retired, 1) == 0;

    /// <summary>
    /// Zeroes the keys. Called only after a grace period following <see cref="Retire"/>, so no worker is inside
    /// one of these ciphers any more.
    /// </summary>
    public void DisposeCiphers()
    {
        foreach (var c in _sendCiphers)
            c.Dispose();
        foreach (var c in _receiveCiphers)
            c.Dispose();
    }
}
