namespace Portcullis.PortMapping.ClientSide;

/// <summary>
/// Notices that the gateway lost its mapping state from the epoch in its answers (RFC 6887 §8.5, which refines
/// RFC 6886 §3.6). Each answer's server epoch is compared with the previous one and with the time the client saw
/// pass in between: the epoch going back by more than a second, or drifting from the client's clock by more than
/// 2 s + 1/16 of the interval either way, means the state is gone and every mapping must be made again.
/// </summary>
public sealed class EpochTracker
{
    private bool _seen;
    private uint _serverEpoch;
    private long _clientSeconds;

    /// <summary>Records an answer's epoch seen at <paramref name="now"/>; true when it shows the state was lost.</summary>
    public bool Observe(uint serverEpoch, DateTimeOffset now)
    {
        var clientSeconds = now.ToUnixTimeSeconds();
        var lost = false;
        if (_seen)
        {
            if ((long)serverEpoch < (long)_serverEpoch - 1)
            {
                lost = true;
            }
            else
            {
                var clientDelta = clientSeconds - _clientSeconds;
                var serverDelta = (long)serverEpoch - _serverEpoch;
                lost = clientDelta + 2 < serverDelta - (serverDelta / 16)
                    || serverDelta + 2 < clientDelta - (clientDelta / 16);
            }
        }
        _seen = true;
        _serverEpoch = serverEpoch;
        _clientSeconds = clientSeconds;
        return lost;
    }

    /// <summary>Forgets the history (after a mapping is made again from scratch).</summary>
    public void Reset() => _seen = false;
}
