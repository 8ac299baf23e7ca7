namespace Portcullis.Fuzz;

/// <summary>
/// One parser of untrusted bytes, driven by one input at a time. <see cref="Run"/> returns normally when the parser
/// behaved as documented (accepted, or refused with its documented exception, which the target catches) and throws
/// anything else: an undocumented exception escaping the parser, or a <see cref="FuzzCheckException"/> from a broken
/// property (a round trip that does not return, a refusal that should have been an acceptance).
/// </summary>
public abstract class FuzzTarget
{
    /// <summary>The name on the command line and of the folders fuzz/corpora/NAME and fuzz/dictionaries/NAME.dict.</summary>
    public abstract string Name { get; }

    public abstract void Run(ReadOnlySpan<byte> input);

    /// <summary>
    /// Inputs the parser accepted so far (in this process). A corpus whose inputs are all refused tests only the
    /// refusals: the replay test checks that every target's corpus reaches acceptance.
    /// </summary>
    public long Accepted { get; private set; }

    /// <summary>Targets call this where the parser accepted the input, before checking what it made of it.</summary>
    protected void Accept() => Accepted++;

    /// <summary>Seed inputs that must be computed (they carry MACs or ciphertext under the harness's fixed keys).</summary>
    public virtual IEnumerable<(string Name, byte[] Data)> ComputedSeeds() => [];
}

/// <summary>A property of the parser did not hold for this input.</summary>
public sealed class FuzzCheckException : Exception
{
    public FuzzCheckException()
    {
    }

    public FuzzCheckException(string message)
        : base(message)
    {
    }

    public FuzzCheckException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>Assertions for targets: a failed one is a finding.</summary>
public static class Check
{
    public static void That(bool condition, string property)
    {
        if (!condition)
            throw new FuzzCheckException(property);
    }
}
