namespace Portcullis.WireGuard.Uapi;

/// <summary>
/// The errno values the UAPI answers with, chosen as wireguard-go's <c>ipc</c> package does:
/// a line that is not <c>key=value</c> (or an unknown operation, an over-long line, an over-large
/// request) is a protocol error; a known line with a bad key or value is invalid.
/// </summary>
public static class UapiErrno
{
    /// <summary>-EIO: the device failed for a reason it did not classify.</summary>
    public const int IO = -5;

    /// <summary>-EINVAL: unknown key, key in the wrong section, bad hex, number, address or prefix.</summary>
    public const int Invalid = -22;

    /// <summary>-EPROTO: not a <c>key=value</c> line, unknown operation, line or request over the limits.</summary>
    public const int Protocol = -71;

    /// <summary>-EADDRINUSE: the listen port (or fwmark) could not be applied to the socket.</summary>
    public const int AddressInUse = -98;
}
