namespace Portcullis.WireGuard.Device;

/// <summary>
/// Retiring keypairs safely. A retired keypair leaves the index table at once, so no new packet can pick it up, but
/// a batch already in a crypto worker may still be inside one of its ciphers. Its keys are therefore zeroed (the
/// ciphers disposed) only after a grace period in real time, far longer than a batch spends in the pipeline.
/// </summary>
public sealed partial class WireGuardDevice
{
    private static readonly TimeSpan GraveyardPeriod = TimeSpan.FromSeconds(2);
    private const long GraceMilliseconds = 1000;

    private readonly ITimer _graveyardTimer;
    private readonly Lock _graveyardGate = new();
    private readonly Queue<(Keypair Keypair, long RetiredAt)> _graveyard = new();

    /// <summary>Retires every keypair in <paramref name="displaced"/> and empties the list.</summary>
    internal void RetireKeypairs(List<Keypair> displaced)
    {
        foreach (var keypair in displaced)
        {
            if (!keypair.Retire())
                continue;
            Indices.Delete(keypair.LocalIndex);
            lock (_graveyardGate)
                _graveyard.Enqueue((keypair, Environment.TickCount64));
        }
        displaced.Clear();
    }

    private void BuryRetiredKeypairs(bool all)
    {
        var now = Environment.TickCount64;
        while (true)
        {
            Keypair keypair;
            lock (_graveyardGate)
            {
                if (_graveyard.Count == 0 || (!all && now - _graveyard.Peek().RetiredAt < GraceMilliseconds))
                    return;
                keypair = _graveyard.Dequeue().Keypair;
            }
            keypair.DisposeCiphers();
        }
    }

    internal int RetiredKeypairsAwaitingZeroing
    {
        get { lock (_graveyardGate) return _graveyard.Count; }
    }
}
