using System.CommandLine;

namespace Portcullis.Cli.Admin;

/// <summary>The options every command over the admin API takes: where the API is, its token, and --json.</summary>
internal sealed class ApiOptions
{
    public Option<string?> Api { get; } = new("--api")
    {
        Description = $"The gateway's admin API (default: ${ApiTarget.ApiVariable}, else [admin] listen of --config, else {ApiTarget.DefaultApi}).",
        Recursive = true,
    };

    public Option<string?> TokenFile { get; } = new("--token-file")
    {
        Description = $"File holding the admin token (default: ${ApiTarget.TokenFileVariable}, else [admin] token_file of --config, else {ApiTarget.DefaultTokenFile}).",
        Recursive = true,
    };

    public Option<string?> Config { get; } = new("--config", "-c")
    {
        Description = "The gateway's TOML file, to read [admin] listen and token_file from.",
        Recursive = true,
    };

    public Option<bool> Json { get; } = new("--json")
    {
        Description = "Print the API's JSON instead of a table, for scripts.",
        Recursive = true,
    };

    public void AddTo(Command command)
    {
        command.Options.Add(Api);
        command.Options.Add(TokenFile);
        command.Options.Add(Config);
        command.Options.Add(Json);
    }

    /// <summary>True when the user named the API (an option or PORTCULLIS_API), as opposed to relying on the defaults.</summary>
    public bool Named(ParseResult result) =>
        result.GetValue(Api) is not null || result.GetValue(TokenFile) is not null || result.GetValue(Config) is not null
        || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable(ApiTarget.ApiVariable));

    public ApiTarget? Resolve(ParseResult result, out string? error) => ApiTarget.Resolve(
        result.GetValue(Api), result.GetValue(TokenFile), result.GetValue(Config), Environment.GetEnvironmentVariable, out error);
}
