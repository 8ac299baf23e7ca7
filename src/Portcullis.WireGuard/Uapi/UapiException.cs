namespace Portcullis.WireGuard.Uapi;

/// <summary>
/// A UAPI failure carrying the negative errno that goes back to the client as <c>errno=N</c>.
/// The message is for logs: never put key material in it.
/// </summary>
public sealed class UapiException : Exception
{
    public UapiException()
        : this(UapiErrno.Invalid, "UAPI request failed.")
    {
    }

    public UapiException(string message)
        : this(UapiErrno.Invalid, message)
    {
    }

    public UapiException(string message, Exception innerException)
        : base(message, innerException) => Errno = UapiErrno.Invalid;

    public UapiException(int errno, string message)
        : base(message)
    {
        if (errno >= 0)
            throw new ArgumentOutOfRangeException(nameof(errno), errno, "A UAPI errno is negative.");
        Errno = errno;
    }

    /// <summary>Negative, e.g. -22 (<see cref="UapiErrno.Invalid"/>).</summary>
    public int Errno { get; }
}
