using Tomlyn.Parsing;
using Tomlyn.Syntax;

namespace Portcullis.Gateway.Configuration;

/// <summary>
/// Reads the gateway's TOML (DESIGN §6) through Tomlyn's syntax tree, which keeps every key's line, so each error
/// reads <c>FILE:LINE: [section] key: what is wrong</c>. Unknown sections and keys are errors; every problem in the
/// file is reported at once. Secret values never appear in an error (TOML syntax messages are scrubbed of quoted
/// source text, see <see cref="SyntaxMessages"/>).
///
/// A file holding the private key — <c>private_key_file</c>, or this file when it has <c>private_key</c> inline —
/// must not be readable by group or others: such a configuration is refused (as ssh refuses a readable identity),
/// since a warning in a daemon's log is easily missed and the key is the gateway's identity.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public static class GatewayConfigLoader
{
    private const UnixFileMode GroupOrOthers =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute |
        UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    /// <summary>Reads and validates <paramref name="path"/>; throws <see cref="GatewayConfigException"/>.</summary>
    public static GatewayConfig Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string text;
        UnixFileMode mode;
        try
        {
            text = File.ReadAllText(path);
            mode = File.GetUnixFileMode(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new GatewayConfigException($"{path}: cannot read: {e.Message}");
        }
        return Parse(text, path, mode);
    }

    /// <summary>Parses <paramref name="text"/> as if read from <paramref name="path"/> (a private file).</summary>
    public static GatewayConfig Parse(string text, string path) =>
        Parse(text, path, UnixFileMode.UserRead | UnixFileMode.UserWrite);

    private static GatewayConfig Parse(string text, string path, UnixFileMode mode)
    {
        ArgumentNullException.ThrowIfNull(text);
        var errors = new ConfigErrors(path);
        var document = SyntaxParser.Parse(text, path, true);
        if (document.HasErrors)
        {
            foreach (var diagnostic in document.Diagnostics)
            {
                if (diagnostic.Kind == DiagnosticMessageKind.Error)
                    errors.Add(diagnostic.Span.Start.Line + 1, SyntaxMessages.Scrub(diagnostic.Message));
            }
            errors.ThrowIfAny();
        }

        var parser = new SectionParser(errors, Path.GetDirectoryName(Path.GetFullPath(path)) ?? "/");
        var config = parser.Parse(document, path);
        if (parser.InlinePrivateKeyLine is { } line && (mode & GroupOrOthers) != 0)
        {
            errors.Add(line, "[tunnel]", "private_key",
                $"this file holds the private key but is accessible by group or others (mode {Octal(mode)}); chmod 600 it or use private_key_file");
        }
        errors.ThrowIfAny();
        return config!;
    }

    internal static bool IsPrivate(UnixFileMode mode) => (mode & GroupOrOthers) == 0;

    internal static string Octal(UnixFileMode mode) => Convert.ToString((int)mode & 0xfff, 8).PadLeft(4, '0');
}

/// <summary>
/// Tomlyn's messages may quote source text, in backticks (a duplicated key's earlier value) or in double quotes (the
/// text after a key that lacks its '=': `private_key "KEY"`); keep only what cannot be a secret.
/// </summary>
internal static partial class SyntaxMessages
{
    // Quotes inside a quoted fragment defeat the pairing below, so any longer run of base64 characters goes as well.
    public static string Scrub(string message) => Base64Run().Replace(Scrub(Scrub(message, '`'), '"'), "…");

    [System.Text.RegularExpressions.GeneratedRegex("[A-Za-z0-9+/=]{33,}")]
    private static partial System.Text.RegularExpressions.Regex Base64Run();

    private static string Scrub(string message, char quote)
    {
        var parts = message.Split(quote);
        // Odd indices are the quoted fragments. Key names and short tokens stay; anything else (which could be a
        // key's value) is replaced.
        for (var i = 1; i < parts.Length; i += 2)
        {
            if (parts[i].Length > 32 || !parts[i].All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' or ' '))
                parts[i] = "…";
        }
        return string.Join(quote, parts);
    }
}
