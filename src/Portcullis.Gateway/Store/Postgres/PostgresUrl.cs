using System.Globalization;
using Npgsql;

namespace Portcullis.Gateway.Store.Postgres;

/// <summary>
/// <c>[store] url</c>: a libpq connection URI (<c>postgresql://USER@HOST:PORT/DB?sslmode=require</c>), the form
/// operators know from DATABASE_URL, turned into Npgsql's settings. Only what a gateway needs is accepted (user,
/// host, port, database, <c>sslmode</c>, <c>gssencmode</c>, <c>connect_timeout</c>, <c>application_name</c>, <c>passfile</c>); anything
/// else is an error rather than silently ignored. The password comes from <c>password_file</c>, else from
/// PGPASSFILE / ~/.pgpass as libpq does (Npgsql reads both); a password inside the URL is refused, so the config
/// file never holds one. <see cref="Display"/> is what messages show.
/// </summary>
public sealed record PostgresUrl
{
    private const int DefaultPort = 5432;

    // Connect quickly or say the database is away: a gateway answers 503 rather than hang an operator's call.
    private const int DefaultConnectTimeoutSeconds = 5;

    private PostgresUrl(NpgsqlConnectionStringBuilder settings, string display)
    {
        Settings = settings;
        Display = display;
    }

    /// <summary>The connection settings (without a password until <see cref="WithPasswordFile"/>).</summary>
    public NpgsqlConnectionStringBuilder Settings { get; }

    /// <summary><c>postgresql://USER@HOST:PORT/DB</c>: safe to log.</summary>
    public string Display { get; }

    /// <summary>True for text that starts like a PostgreSQL URL.</summary>
    public static bool LooksLikeUrl(string text) =>
        text.StartsWith("postgresql://", StringComparison.Ordinal) || text.StartsWith("postgres://", StringComparison.Ordinal);

    /// <summary>Parses <paramref name="text"/>; false with the reason (never the text itself past the host) in <paramref name="error"/>.</summary>
    public static bool TryParse(string text, out PostgresUrl? url, out string? error)
    {
        url = null;
        error = null;
        if (text is null || !LooksLikeUrl(text))
        {
            error = "expected a libpq URI, postgresql://USER@HOST:PORT/DATABASE";
            return false;
        }
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
        {
            error = "not a valid URI; expected postgresql://USER@HOST:PORT/DATABASE";
            return false;
        }
        var user = "";
        if (uri.UserInfo.Length > 0)
        {
            if (uri.UserInfo.Contains(':', StringComparison.Ordinal))
            {
                error = "holds a password; put it in password_file (or ~/.pgpass) instead, so the config file holds no secret";
                return false;
            }
            user = Uri.UnescapeDataString(uri.UserInfo);
        }
        var database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        if (database.Length == 0 || database.Contains('/', StringComparison.Ordinal))
        {
            error = "names no database; expected postgresql://USER@HOST:PORT/DATABASE";
            return false;
        }

        var host = uri.HostNameType == UriHostNameType.IPv6 ? uri.Host.Trim('[', ']') : uri.Host;
        var settings = new NpgsqlConnectionStringBuilder
        {
            Host = host,
            Port = uri.IsDefaultPort || uri.Port < 0 ? DefaultPort : uri.Port,
            Database = database,
            Timeout = DefaultConnectTimeoutSeconds,
            CommandTimeout = 30,
            ApplicationName = "portcullis",
            // libpq's "prefer" would first look for a Kerberos ticket, which on a host without a KDC in reach waits out
            // DNS timeouts on every connect. A fleet that uses GSSAPI says so (gssencmode=prefer or require).
            GssEncryptionMode = GssEncryptionMode.Disable,
        };
        if (user.Length > 0)
            settings.Username = user;
        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var key = Uri.UnescapeDataString(equals < 0 ? pair : pair[..equals]);
            var value = equals < 0 ? "" : Uri.UnescapeDataString(pair[(equals + 1)..]);
            if (!Apply(settings, key, value, out error))
                return false;
        }

        var port = settings.Port == DefaultPort ? "" : string.Create(CultureInfo.InvariantCulture, $":{settings.Port}");
        var hostText = uri.HostNameType == UriHostNameType.IPv6 ? $"[{host}]" : host;
        url = new PostgresUrl(settings, $"postgresql://{(user.Length > 0 ? user + "@" : "")}{hostText}{port}/{database}");
        return true;
    }

    /// <summary>Parses or throws <see cref="ArgumentException"/> with the reason.</summary>
    public static PostgresUrl Parse(string text) =>
        TryParse(text, out var url, out var error) ? url! : throw new ArgumentException($"[store] url: {error}", nameof(text));

    /// <summary>
    /// These settings with the password read from <paramref name="path"/> (its first line). The file must be private
    /// (no group or other access), as ~/.pgpass must; errors name the path, never the content.
    /// </summary>
    public PostgresUrl WithPasswordFile(string? path)
    {
        if (path is null)
            return this;
        var info = new FileInfo(path);
        if (!info.Exists)
            throw new StoreException($"Store {Display}: password_file {path} does not exist.");
        if (!OperatingSystem.IsWindows() && (info.UnixFileMode & (UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite)) != 0)
            throw new StoreException($"Store {Display}: password_file {path} is accessible by group or others; chmod 600 it.");
        string password;
        try
        {
            using var reader = new StreamReader(path);
            password = reader.ReadLine() ?? "";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StoreException($"Store {Display}: cannot read password_file {path}: {e.Message}", e);
        }
        var settings = new NpgsqlConnectionStringBuilder(Settings.ConnectionString) { Password = password };
        return new PostgresUrl(settings, Display);
    }

    private static bool Apply(NpgsqlConnectionStringBuilder settings, string key, string value, out string? error)
    {
        error = null;
        switch (key)
        {
            case "sslmode":
                if (!Enum.TryParse<SslMode>(value.Replace("-", "", StringComparison.Ordinal), ignoreCase: true, out var mode))
                {
                    error = "sslmode: expected disable, allow, prefer, require, verify-ca or verify-full";
                    return false;
                }
                settings.SslMode = mode;
                return true;
            case "connect_timeout":
                if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) || seconds is < 1 or > 600)
                {
                    error = "connect_timeout: expected seconds, 1-600";
                    return false;
                }
                settings.Timeout = seconds;
                return true;
            case "gssencmode":
                if (!Enum.TryParse<GssEncryptionMode>(value, ignoreCase: true, out var gss))
                {
                    error = "gssencmode: expected disable, prefer or require";
                    return false;
                }
                settings.GssEncryptionMode = gss;
                return true;
            case "application_name":
                settings.ApplicationName = value;
                return true;
            case "passfile":
                settings.Passfile = value;
                return true;
            case "password":
                error = "holds a password; put it in password_file (or ~/.pgpass) instead, so the config file holds no secret";
                return false;
            default:
                // Named only when it looks like a parameter name: a secret pasted into the query is never repeated.
                var named = key.Length <= 32 && key.All(c => char.IsAsciiLetterLower(c) || c == '_') ? $"parameter '{key}'" : "a parameter";
                error = $"{named} is not one a gateway takes (sslmode, gssencmode, connect_timeout, application_name, passfile)";
                return false;
        }
    }
}
