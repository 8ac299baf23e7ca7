namespace Portcullis.WireGuard.Device;

/// <summary>
/// A peer's previous, current and next keypairs (whitepaper 6.4, wireguard-go keypair.go). The responder's
/// new keypair waits as "next" until the initiator proves it has it by sending on it.
/// </summary>
internal sealed class Keypairs
{
    private readonly Lock gate = new();
    private Keypair? previous;
    private Keypair? current;
    private Keypair? next;

    public Keypair? Current
    {
        get { lock (gate) return current; }
    }

    /// <summary>Installs a freshly derived keypair; returns the keypairs it pushed out (to retire).</summary>
    public void Install(Keypair keypair, List<Keypair> displaced)
    {
        lock (gate)
        {
            // As wireguard-go's BeginSymmetricSession: an unconfirmed "next" becomes "previous" (packets may still
            // arrive on it), everything older goes.
            if (keypair.IsInitiator)
            {
                if (next is not null)
                {
                    if (current is not null) displaced.Add(current);
                    if (previous is not null) displaced.Add(previous);
                    previous = next;
                    next = null;
                }
                else
                {
                    if (previous is not null) displaced.Add(previous);
                    previous = current;
                }
                current = keypair;
            }
            else
            {
                if (next is not null) displaced.Add(next);
                if (previous is not null) displaced.Add(previous);
                previous = null;
                next = keypair;
            }
        }
    }

    /// <summary>
    /// Called for every authenticated packet: when it arrived on "next", rotate it to current. Returns true when it did,
    /// i.e. the responder's session has just been confirmed.
    /// </summary>
    public bool ConfirmReceivedOn(Keypair keypair, List<Keypair> displaced)
    {
        lock (gate)
        {
            if (!ReferenceEquals(next, keypair))
                return false;
            if (previous is not null)
                displaced.Add(previous);
            previous = current;
            current = next;
            next = null;
            return true;
        }
    }

    /// <summary>Removes every keypair (peer removed, key material zeroed, private key changed).</summary>
    public void Clear(List<Keypair> displaced)
    {
        lock (gate)
        {
            if (previous is not null) displaced.Add(previous);
            if (current is not null) displaced.Add(current);
            if (next is not null) displaced.Add(next);
            previous = current = next = null;
        }
    }
}
