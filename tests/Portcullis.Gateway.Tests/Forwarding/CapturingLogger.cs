using Microsoft.Extensions.Logging;

namespace Portcullis.Gateway.Tests.Forwarding;

/// <summary>Keeps every formatted line, so tests can read what an operator's log would hold.</summary>
internal sealed class CapturingLogger<T> : ILogger<T>
{
    private readonly Lock _lock = new();
    private readonly List<(LogLevel Level, EventId Id, string Message)> _lines = [];

    public IReadOnlyList<(LogLevel Level, EventId Id, string Message)> Lines
    {
        get
        {
            lock (_lock)
                return [.. _lines];
        }
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    // Debug included: the privacy promise covers every level an operator might turn on.
    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var message = formatter(state, exception) + (exception is null ? "" : " | " + exception);
        lock (_lock)
            _lines.Add((logLevel, eventId, message));
    }
}
