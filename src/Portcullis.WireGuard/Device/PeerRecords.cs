using Portcullis.Core.Io;
using Portcullis.WireGuard.Noise;

namespace Portcullis.WireGuard.Device;

/// <summary>
/// What a host may keep of a peer beyond this process: where the peer was last heard from, and its replay floor (the
/// TAI64N of the latest initiation accepted from it, 12 bytes, zero when none was).
/// </summary>
public sealed record PeerRecord(byte[] PublicKey, UdpEndpoint? Endpoint, byte[] ReplayFloor);

/// <summary>
/// The device's side of surviving a restart: a host snapshots its peers now and then, and after a restart gives the
/// replay floors back before the device comes up (so old initiations stay refused) and asks it to handshake with peers
/// whose endpoints it remembered (so a peer that only sends keepalives need not wait out its session to come back).
/// </summary>
public sealed partial class WireGuardDevice
{
    /// <summary>Every peer, and every key no longer a peer whose replay floor the device still remembers (no endpoint).</summary>
    public IReadOnlyList<PeerRecord> SnapshotPeers()
    {
        lock (_configGate)
        {
            var records = new List<PeerRecord>(_peers.Count);
            foreach (var peer in _peers.Values)
            {
                var floor = new byte[NoiseConstants.TimestampSize];
                peer.Handshake.CopyLastTimestamp(floor);
                records.Add(new PeerRecord((byte[])peer.PublicKeyBytes.Clone(), peer.Endpoint, floor));
            }
            foreach (var (key, floor) in _removedTimestamps.Entries)
            {
                if (!_peers.ContainsKey(key))
                    records.Add(new PeerRecord(Convert.FromHexString(key), null, (byte[])floor.Clone()));
            }
            return records;
        }
    }

    /// <summary>
    /// Raises the replay floor of <paramref name="publicKey"/> to <paramref name="timestamp12"/> where that is later:
    /// at once for a peer, when it is added otherwise.
    /// </summary>
    public void RaiseReplayFloor(ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> timestamp12)
    {
        if (publicKey.Length != 32)
            throw new ArgumentException("A public key is 32 bytes.", nameof(publicKey));
        if (timestamp12.Length != NoiseConstants.TimestampSize)
            throw new ArgumentException("A TAI64N timestamp is 12 bytes.", nameof(timestamp12));
        lock (_configGate)
        {
            var key = KeyOf(publicKey);
            if (_peers.TryGetValue(key, out var peer))
                peer.Handshake.RaiseTimestampFloor(timestamp12);
            else
                _removedTimestamps.Remember(key, timestamp12);
        }
    }

    /// <summary>
    /// Sends a handshake initiation to the peer now (retried as any initiation is). False when the device is down, there
    /// is no such peer or it has no endpoint.
    /// </summary>
    public bool InitiateHandshake(ReadOnlySpan<byte> publicKey)
    {
        var peer = FindPeer(publicKey);
        if (!_up || peer is null || peer.Endpoint is null)
            return false;
        SendHandshakeInitiation(peer, isRetry: false);
        return true;
    }
}
