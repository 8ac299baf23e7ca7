using System.CommandLine;

namespace Portcullis.Cli.Admin;

/// <summary>
/// Runs a command over the API with the CLI's exit codes: 0 done, 1 the gateway refused or could not be reached
/// (its reason on stderr), 2 a usage error found before anything was sent.
/// </summary>
internal static class AdminAction
{
    public static void Set(Command command, string name, ApiOptions api, Func<ParseResult, AdminClient, CancellationToken, Task<int>> run)
    {
        command.SetAction(async (result, cancellationToken) =>
        {
            var target = api.Resolve(result, out var error);
            if (target is null)
                return Usage(name, error!);
            try
            {
                using var client = AdminClient.Create(target);
                return await run(result, client, cancellationToken).ConfigureAwait(false);
            }
            catch (UsageException e)
            {
                return Usage(name, e.Message);
            }
            catch (AdminCliException e)
            {
                await Console.Error.WriteLineAsync($"portcullis {name}: {e.Message}").ConfigureAwait(false);
                return 1;
            }
        });
    }

    private static int Usage(string name, string message)
    {
        Console.Error.WriteLine($"portcullis {name}: {message}");
        return 2;
    }
}

/// <summary>An argument that cannot be right (checked before any request): exit 2.</summary>
internal sealed class UsageException : Exception
{
    public UsageException() { }
    public UsageException(string message) : base(message) { }
    public UsageException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>Checks of arguments before they are sent; the API checks them again.</summary>
internal static class Arguments
{
    public static int Port(string text, string what) =>
        int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port) && port is >= 1 and <= 65535
            ? port
            : throw new UsageException($"{what} '{text}' is not a port (1-65535)");

    public static string Protocol(string text, bool allowBoth) => text.ToLowerInvariant() switch
    {
        "tcp" => "tcp",
        "udp" => "udp",
        "both" when allowBoth => "both",
        _ => throw new UsageException($"'{text}' is not a protocol; expected {(allowBoth ? "tcp, udp or both" : "tcp or udp")}"),
    };

    public static string Address(string text, string what) =>
        System.Net.IPAddress.TryParse(text, out _) ? text : throw new UsageException($"{what} '{text}' is not an IP address");

    public static string Segment(string text) => Uri.EscapeDataString(text);
}
