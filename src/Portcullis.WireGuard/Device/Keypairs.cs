namespace Portcullis.WireGuard.Device;

/// <summary>
/// A peer's previous, current and next keypairs (whitepaper 6.4, wireguard-go keypair.go). The responder's
/// new keypair waits as "next" until the initiator proves it has it by sending on it.
/// </summary>
internal sealed class Keypairs
{
    private readonly Lock _gate = new();
    private Keypair? _previous;
    private Keypair? _current;
    private Keypair? _next;

    public Keypair? Current
    {
        get { lock (_gate) return _current; }
    }

    /// <summary>Installs a freshly derived keypair; returns the keypairs it pushed out (to retire).</summary>
    public void Install(Keypair keypair, List<Keypair> displaced)
    {
        lock (_gate)
        {
            // As wireguard-go's BeginSymmetricSession: an unconfirmed "next" becomes "previous" (packets may still
            // arrive on it), everything older goes.
            if (keypair.IsInitiator)
            {
                if (_next is not null)
                {
                    if (_current is not null) displaced.Add(_current);
                    if (_previous is not null) displaced.Add(_previous);
                    _previous = _next;
                    _next = null;
                }
                else
                {
                    if (_previous is not null) displaced.Add(_previous);
                    _previous = _current;
                }
                _current = keypair;
            }
            else
            {
                if (_next is not null) displaced.Add(_next);
                if (_previous is not null) displaced.Add(_previous);
                _previous = null;
                _next = keypair;
            }
        }
    }

    /// <summary>
    /// Called for every authenticated packet: when it arrived on "next", rotate it to current. Returns true when it did,
    /// i.e. the responder's session has just been confirmed.
    /// </summary>
    public bool ConfirmReceivedOn(Keypair keypair, List<Keypair> displaced)
    {
        lock (_gate)
        {
            if (!ReferenceEquals(_next, keypair))
                return false;
            if (_previous is not null)
                displaced.Add(_previous);
            _previous = _current;
            _current = _next;
            _next = null;
            return true;
        }
    }

    /// <summary>Removes every keypair (peer removed, key material zeroed, private key changed).</summary>
    public void Clear(List<Keypair> displaced)
    {
        lock (_gate)
        {
            if (_previous is not null) displaced.Add(_previous);
            if (_current is not null) displaced.Add(_current);
            if (_next is not null) displaced.Add(_next);
            _previous = _current = _next = null;
        }
    }
}
