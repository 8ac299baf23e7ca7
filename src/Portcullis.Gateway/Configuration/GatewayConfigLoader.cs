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
        var document = ParseSyntax(text, errors);
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

    /// <summary>
    /// Tomlyn's syntax tree; a <see cref="GatewayConfigException"/> where Tomlyn throws instead of reporting (found by
    /// fuzzing, Tomlyn 2.10.2): a backslash escape cut off by the end of the file fails while the lexer formats its
    /// own message about it, and nesting deeper than 64 ends the parse. Tomlyn's own text is not shown (it
    /// may quote the file, keys included).
    /// </summary>
    private static DocumentSyntax ParseSyntax(string text, ConfigErrors errors)
    {
        try
        {
            return SyntaxParser.Parse(text, errors.File, true);
        }
        catch (ArgumentOutOfRangeException)
        {
            // The escape that fails is one the end of the file cuts off: the lexer's message formats the missing
            // character. That backslash is the file's last.
            var backslash = text.LastIndexOf('\\');
            var message = "a backslash escape is cut off by the end of the file";
            if (backslash >= 0)
                errors.Add(1 + text.AsSpan(0, backslash).Count('\n'), message);
            else
                errors.AddFileWide(message);
            throw errors.ToException();
        }
        catch (Tomlyn.TomlException e) when (e.Message.Contains("maximum depth", StringComparison.Ordinal))
        {
            errors.Add(LineBeyondDepth(text, 64), "arrays or inline tables nested more than 64 deep");
            throw errors.ToException();
        }
        catch (Tomlyn.TomlException)
        {
            errors.AddFileWide("the TOML parser could not read this file");
            throw errors.ToException();
        }
    }

    /// <summary>
    /// The line where brackets and braces outside strings and comments first nest deeper than
    /// <paramref name="limit"/>, to name it in the error. Strings are taken to end with their line (a multi-line string
    /// holding brackets may move the line named); line 1 if the count never gets there.
    /// </summary>
    private static int LineBeyondDepth(string text, int limit)
    {
        var (depth, line, quote, comment) = (0, 1, '\0', false);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\n')
                (line, quote, comment) = (line + 1, '\0', false);
            else if (comment)
                continue;
            else if (quote != '\0')
            {
                if (c == '\\' && quote == '"')
                    i++;
                else if (c == quote)
                    quote = '\0';
            }
            else if (c is '"' or '\'')
                quote = c;
            else if (c == '#')
                comment = true;
            else if (c is '[' or '{' && ++depth > limit)
                return line;
            else if (c is ']' or '}')
                depth = Math.Max(0, depth - 1);
        }
        return 1;
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
