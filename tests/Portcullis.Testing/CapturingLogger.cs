using Microsoft.Extensions.Logging;

namespace Portcullis.Testing;

/// <summary>
/// Keeps every log line at every level (the privacy promise covers any level an operator might turn on), so tests can
/// read what an operator's log would hold: as entries, or as text lines "ID MESSAGE [EXCEPTION]".
/// </summary>
public class CapturingLogger : ILogger
{
    private readonly Lock _gate = new();
    private readonly List<(LogLevel Level, EventId Id, string Message, Exception? Exception)> _entries = [];

    /// <summary>Each line with its level and event id; the message ends with " | EXCEPTION" when there was one.</summary>
    public IReadOnlyList<(LogLevel Level, EventId Id, string Message)> Lines =>
        [.. Snapshot().Select(e => (e.Level, e.Id, e.Message + (e.Exception is null ? "" : " | " + e.Exception)))];

    /// <summary>Each line as "ID MESSAGE", with " | EXCEPTION" when there was one.</summary>
    public IReadOnlyList<string> Text => [.. Lines.Select(l => $"{l.Id.Id} {l.Message}")];

    /// <summary>The formatted messages alone: what the message template made, without the exception.</summary>
    public IReadOnlyList<string> Messages => [.. Snapshot().Select(e => e.Message)];

    /// <summary>How many lines were logged at <paramref name="level"/>.</summary>
    public int Count(LogLevel level) => Snapshot().Count(e => e.Level == level);

    private List<(LogLevel Level, EventId Id, string Message, Exception? Exception)> Snapshot()
    {
        lock (_gate)
            return [.. _entries];
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        var message = formatter(state, exception);
        lock (_gate)
            _entries.Add((logLevel, eventId, message, exception));
    }
}

/// <summary>A <see cref="CapturingLogger"/> for code that asks for an <see cref="ILogger{TCategoryName}"/>.</summary>
public sealed class CapturingLogger<T> : CapturingLogger, ILogger<T>;
