namespace Portcullis.Gateway.Store;

/// <summary>
/// The store cannot be opened, read or written: a corrupt or locked file, a schema newer than this build, a failed
/// migration. The message names the store (its path) and says what to do; it never holds a secret.
/// </summary>
public class StoreException : Exception
{
    public StoreException()
    {
    }

    public StoreException(string message)
        : base(message)
    {
    }

    public StoreException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>What a <see cref="StoreConflictException"/> clashed on.</summary>
public enum StoreConflict
{
    PeerName,
    PeerPublicKey,
    TunnelAddress,
    StaticForward,
    DedicatedAddress,

    /// <summary>The tunnel prefix has no free host address left.</summary>
    AddressPoolExhausted,
}

/// <summary>A change would break a uniqueness rule (the admin API answers 409). Nothing was changed.</summary>
public sealed class StoreConflictException : StoreException
{
    public StoreConflictException()
    {
    }

    public StoreConflictException(string message)
        : base(message)
    {
    }

    public StoreConflictException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public StoreConflictException(StoreConflict conflict, string value, string message)
        : base(message)
    {
        Conflict = conflict;
        Value = value;
    }

    public StoreConflict Conflict { get; }

    /// <summary>The clashing value as text (a name, a public key, an address, a forward key).</summary>
    public string Value { get; } = "";
}
