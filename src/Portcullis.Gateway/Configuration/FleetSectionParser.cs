using Portcullis.Gateway.Store.Postgres;

namespace Portcullis.Gateway.Configuration;

/// <summary>
/// <c>[gateway]</c> (this gateway's name in its fleet) and <c>[store]</c> (a SQLite <c>path</c>, or a PostgreSQL
/// <c>url</c> shared by a fleet, with an optional <c>password_file</c>). A PostgreSQL store needs a gateway name: it is
/// how the fleet tells its gateways apart (their dedicated addresses, policy overrides, presence).
/// </summary>
public static class FleetSectionParser
{
    public const int MaxNameLength = 63;

    internal static GatewaySection ParseGateway(TomlSection section)
    {
        var name = section.String("name");
        if (name is not null && !IsName(name))
            section.Error("name", $"expected 1-{MaxNameLength} letters, digits, '-', '_' or '.'");
        var region = section.String("region");
        if (region is not null && (region.Length > MaxNameLength || region.Any(char.IsControl)))
            section.Error("region", $"expected at most {MaxNameLength} printable characters");
        var presence = section.Boolean("presence");
        return new GatewaySection { Name = name, Region = region ?? "", Presence = presence ?? true };
    }

    internal static StoreSection ParseStore(TomlSection section, Func<string?, string?> resolve)
    {
        var path = section.String("path");
        var url = section.String("url");
        var passwordFile = section.String("password_file");
        if (path is not null && url is not null)
            section.Error("url", "give either path (SQLite, one gateway) or url (PostgreSQL, a fleet), not both");
        if (url is not null && !PostgresUrl.TryParse(url, out _, out var error))
            section.Error("url", error!);
        if (passwordFile is not null && url is null)
            section.Error("password_file", "only a PostgreSQL store (url) takes a password file");
        return new StoreSection
        {
            Path = resolve(path) ?? new StoreSection().Path,
            Url = url,
            PasswordFile = resolve(passwordFile),
        };
    }

    /// <summary>What spans the two sections: a fleet store needs a gateway name.</summary>
    internal static void Check(StoreSection store, GatewaySection gateway, int storeLine, ConfigErrors errors)
    {
        if (store.Url is not null && gateway.Name is null)
            errors.Add(storeLine, "[store]", "url", "a PostgreSQL store is shared by a fleet: name this gateway with [gateway] name = \"…\", unique in the fleet");
    }

    /// <summary>A gateway name: 1-63 letters, digits, '-', '_' or '.'.</summary>
    public static bool IsName(string text) =>
        text.Length is > 0 and <= MaxNameLength && text.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');
}
