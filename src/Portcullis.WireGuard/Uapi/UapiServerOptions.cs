namespace Portcullis.WireGuard.Uapi;

/// <summary>Where the UAPI socket lives and how much an untrusted client may make the server hold.</summary>
public sealed record UapiServerOptions
{
    /// <summary>Defaults to <c>/var/run/wireguard</c>, where stock <c>wg</c> looks (created 0755 if missing).</summary>
    public string SocketDirectory { get; init; } = UapiSocket.DefaultDirectory;

    /// <summary>
    /// Longest line in bytes, newline excluded. Defaults to 4096; the longest real line (an IPv6 endpoint)
    /// is under 70. A longer line is answered with -EPROTO and the connection is closed.
    /// </summary>
    public int MaxLineLength { get; init; } = 4096;

    /// <summary>
    /// Largest <c>set=1</c> body in bytes. Defaults to 16 MiB (tens of thousands of peers). The whole request
    /// is held before it is applied, so unlimited buffering would let one client exhaust memory.
    /// </summary>
    public int MaxRequestBytes { get; init; } = 16 << 20;

    /// <summary>
    /// Connections held at once. Defaults to 64. A new one past it takes the place of the connection that has waited
    /// longest for its client's bytes; when every connection is busy with a request, the new one is closed.
    /// </summary>
    public int MaxConnections { get; init; } = 64;

    /// <summary>A connection idle this long in the middle of reading is closed. Defaults to 30 s.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(30);
}
