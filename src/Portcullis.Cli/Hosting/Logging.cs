using Microsoft.Extensions.Logging;

namespace Portcullis.Cli.Hosting;

/// <summary>Console logging for the daemons: LOG_LEVEL (as wireguard-go: error, info/verbose, debug) picks the level.</summary>
internal static class Logging
{
    public static ILoggerFactory CreateFactory()
    {
        var level = (Environment.GetEnvironmentVariable("LOG_LEVEL") ?? "info").ToLowerInvariant() switch
        {
            "debug" => LogLevel.Debug,
            "verbose" or "info" => LogLevel.Information,
            "error" => LogLevel.Error,
            "silent" => LogLevel.None,
            _ => LogLevel.Information,
        };
        return LoggerFactory.Create(builder => builder
            .SetMinimumLevel(level)
            .AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fff ";
            }));
    }
}
