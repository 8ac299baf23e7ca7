namespace Portcullis.Client.Applications;

/// <summary>
/// An application told the forwarded port whenever the port keeper publishes a new one (the same moment as
/// <c>--port-file</c> and <c>--on-port-change</c>). <see cref="PortPublication"/> calls it and retries on failure.
/// </summary>
public interface IPortPublisher : IDisposable
{
    /// <summary>The application's name for the log ("qBittorrent").</summary>
    string Name { get; }

    /// <summary>
    /// Sets the application's listening port, returning once the application accepted it. Throws
    /// <see cref="PortPublishException"/> when the application answered but refused, and
    /// <see cref="HttpRequestException"/> or <see cref="TaskCanceledException"/> when it could not be reached in time.
    /// Exception messages never hold a password.
    /// </summary>
    Task SetPortAsync(ushort port, CancellationToken cancellationToken);
}

/// <summary>The application answered, but not with success; the message is for the log and holds no secret.</summary>
public sealed class PortPublishException : Exception
{
    public PortPublishException()
    {
    }

    public PortPublishException(string message)
        : base(message)
    {
    }

    public PortPublishException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>
    /// False when asking again cannot help (the login was refused): the port is not retried until it changes, so a
    /// wrong password does not run into qBittorrent's ban after repeated failed logins. Defaults to true.
    /// </summary>
    public bool Retry { get; init; } = true;
}
