using System.Text.Json;
using System.Text.Json.Serialization;

namespace Portcullis.Gateway.Admin.Http;

/// <summary>How the admin API writes and reads JSON: snake_case names, addresses and protocols as strings.</summary>
public static class AdminJson
{
    /// <summary>
    /// The server's options. Unknown properties are refused, so a misspelt field ("dedicated_adress") is a 400
    /// with its name rather than a request that silently did less than asked.
    /// </summary>
    public static JsonSerializerOptions Server { get; } = Create(strict: true);

    /// <summary>The CLI's options: it ignores fields a newer gateway adds.</summary>
    public static JsonSerializerOptions Client { get; } = Create(strict: false);

    /// <summary>Applies the settings to options the host owns (minimal API's JSON options).</summary>
    public static void Configure(JsonSerializerOptions options, bool strict)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.DictionaryKeyPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
        options.NumberHandling = JsonNumberHandling.Strict;
        options.UnmappedMemberHandling = strict ? JsonUnmappedMemberHandling.Disallow : JsonUnmappedMemberHandling.Skip;
        options.WriteIndented = true;
    }

    private static JsonSerializerOptions Create(bool strict)
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        Configure(options, strict);
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
