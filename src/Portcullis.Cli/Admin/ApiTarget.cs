using System.Net;
using Tomlyn;
using Tomlyn.Model;

namespace Portcullis.Cli.Admin;

/// <summary>
/// Where the admin API is and which file holds its token. Each of the two is looked up on its own, first hit wins:
/// the --api / --token-file options, then PORTCULLIS_API / PORTCULLIS_TOKEN_FILE, then the gateway's TOML given with
/// --config ([admin] listen, token_file), then http://127.0.0.1:8351 and /etc/portcullis/admin.token.
/// </summary>
internal sealed record ApiTarget(Uri BaseAddress, string TokenFile)
{
    public const string ApiVariable = "PORTCULLIS_API";
    public const string TokenFileVariable = "PORTCULLIS_TOKEN_FILE";
    public const string DefaultApi = "http://127.0.0.1:8351";
    public const string DefaultTokenFile = "/etc/portcullis/admin.token";

    /// <summary>The target, or a usage error (bad URL, unreadable or invalid config file) in <paramref name="error"/>.</summary>
    public static ApiTarget? Resolve(string? api, string? tokenFile, string? configPath, Func<string, string?> environment, out string? error)
    {
        error = null;
        string? configApi = null;
        string? configToken = null;
        if (configPath is not null && !TryReadConfig(configPath, out configApi, out configToken, out error))
            return null;

        var apiText = NonEmpty(api) ?? NonEmpty(environment(ApiVariable)) ?? configApi ?? DefaultApi;
        if (!Uri.TryCreate(apiText, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            error = $"'{apiText}' is not an http:// or https:// URL of the admin API";
            return null;
        }
        var token = NonEmpty(tokenFile) ?? NonEmpty(environment(TokenFileVariable)) ?? configToken ?? DefaultTokenFile;
        return new ApiTarget(uri, token);
    }

    /// <summary>Reads only [admin] from the gateway's file: the CLI needs neither its keys nor the right to read them.</summary>
    private static bool TryReadConfig(string path, out string? api, out string? tokenFile, out string? error)
    {
        api = null;
        tokenFile = null;
        error = null;
        TomlTable model;
        try
        {
            model = TomlSerializer.Deserialize<TomlTable>(File.ReadAllText(path), (TomlSerializerOptions?)null) ?? [];
        }
        catch (TomlException)
        {
            // Tomlyn's message may quote the file, and the file may hold the private key: say no more than this.
            error = $"--config {path}: not valid TOML (portcullis gateway --config names the line)";
            return false;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error = $"--config {path}: {e.Message}";
            return false;
        }
        if (!model.TryGetValue("admin", out var section) || section is not TomlTable admin)
            return true;
        if (admin.TryGetValue("listen", out var listen) && listen is string listenText)
        {
            if (!IPEndPoint.TryParse(listenText, out var endpoint) || endpoint.Port == 0)
            {
                error = $"--config {path}: [admin] listen = \"{listenText}\" is not ADDRESS:PORT";
                return false;
            }
            api = $"http://{Reachable(endpoint)}";
        }
        if (admin.TryGetValue("token_file", out var token) && token is string tokenText && tokenText.Length > 0)
            tokenFile = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path)) ?? "/", tokenText);
        return true;
    }

    // A gateway listening on every address is reached on loopback.
    private static IPEndPoint Reachable(IPEndPoint listen) =>
        listen.Address.Equals(IPAddress.Any) ? new IPEndPoint(IPAddress.Loopback, listen.Port)
        : listen.Address.Equals(IPAddress.IPv6Any) ? new IPEndPoint(IPAddress.IPv6Loopback, listen.Port)
        : listen;

    private static string? NonEmpty(string? text) => string.IsNullOrWhiteSpace(text) ? null : text;
}
