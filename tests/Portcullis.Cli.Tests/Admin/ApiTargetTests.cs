using Portcullis.Cli.Admin;

namespace Portcullis.Cli.Tests.Admin;

public sealed class ApiTargetTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("portcullis-cli-").FullName;
    private readonly Dictionary<string, string> _environment = [];

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Resolve_NothingGiven_DefaultsToLoopbackAndEtc()
    {
        var target = Resolve(api: null, tokenFile: null, config: null);

        Assert.Equal(new Uri("http://127.0.0.1:8351"), target.BaseAddress);
        Assert.Equal("/etc/portcullis/admin.token", target.TokenFile);
    }

    [Fact]
    public void Resolve_ConfigAdminSection_ListenAndTokenFileBesideTheConfig()
    {
        var config = WriteConfig("[admin]\nlisten = \"127.0.0.1:9000\"\ntoken_file = \"secret/admin.token\"\n");

        var target = Resolve(api: null, tokenFile: null, config);

        Assert.Equal(new Uri("http://127.0.0.1:9000"), target.BaseAddress);
        Assert.Equal(Path.Combine(_folder, "secret/admin.token"), target.TokenFile);
    }

    [Theory]
    [InlineData("0.0.0.0:8351", "http://127.0.0.1:8351/")]
    [InlineData("[::]:8351", "http://[::1]:8351/")]
    [InlineData("[2001:db8::1]:8351", "http://[2001:db8::1]:8351/")]
    public void Resolve_ConfigListen_ReachedWhereItListens(string listen, string expected)
    {
        var target = Resolve(api: null, tokenFile: null, WriteConfig($"[admin]\nlisten = \"{listen}\"\n"));

        Assert.Equal(expected, target.BaseAddress.AbsoluteUri);
    }

    [Fact]
    public void Resolve_ConfigWithoutAdmin_Defaults()
    {
        var target = Resolve(api: null, tokenFile: null, WriteConfig("[tunnel]\ninterface = \"pc0\"\n"));

        Assert.Equal(new Uri(ApiTarget.DefaultApi), target.BaseAddress);
        Assert.Equal(ApiTarget.DefaultTokenFile, target.TokenFile);
    }

    [Fact]
    public void Resolve_EnvironmentAndConfig_EnvironmentWins()
    {
        var config = WriteConfig("[admin]\nlisten = \"127.0.0.1:9000\"\ntoken_file = \"/config/token\"\n");
        _environment[ApiTarget.ApiVariable] = "http://10.0.0.1:8000";
        _environment[ApiTarget.TokenFileVariable] = "/env/token";

        var target = Resolve(api: null, tokenFile: null, config);

        Assert.Equal(new Uri("http://10.0.0.1:8000"), target.BaseAddress);
        Assert.Equal("/env/token", target.TokenFile);
    }

    [Fact]
    public void Resolve_OptionsAndEnvironment_OptionsWinEachOnItsOwn()
    {
        _environment[ApiTarget.ApiVariable] = "http://10.0.0.1:8000";
        _environment[ApiTarget.TokenFileVariable] = "/env/token";

        var apiOnly = Resolve(api: "https://gw.example:8443", tokenFile: null, config: null);
        var tokenOnly = Resolve(api: null, tokenFile: "/opt/token", config: null);

        Assert.Equal(new Uri("https://gw.example:8443"), apiOnly.BaseAddress);
        Assert.Equal("/env/token", apiOnly.TokenFile);
        Assert.Equal(new Uri("http://10.0.0.1:8000"), tokenOnly.BaseAddress);
        Assert.Equal("/opt/token", tokenOnly.TokenFile);
    }

    [Theory]
    [InlineData("127.0.0.1:8351")]
    [InlineData("ftp://127.0.0.1:8351")]
    [InlineData("not a url")]
    public void Resolve_NotAnHttpUrl_UsageErrorNamingIt(string api)
    {
        var target = ApiTarget.Resolve(api, null, null, Lookup, out var error);

        Assert.Null(target);
        Assert.Contains(api, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_ConfigMissing_ErrorNamingTheFile()
    {
        var path = Path.Combine(_folder, "nope.toml");

        var target = ApiTarget.Resolve(null, null, path, Lookup, out var error);

        Assert.Null(target);
        Assert.Contains(path, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_ConfigNotToml_ErrorThatQuotesNothingOfTheFile()
    {
        var path = WriteConfig("[tunnel]\nprivate_key = \"c2VjcmV0LWtleS1kby1ub3QtcHJpbnQ=\" oops\n");

        var target = ApiTarget.Resolve(null, null, path, Lookup, out var error);

        Assert.Null(target);
        Assert.Contains("not valid TOML", error, StringComparison.Ordinal);
        Assert.DoesNotContain("c2VjcmV0", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_ConfigListenWithoutPort_Error()
    {
        var target = ApiTarget.Resolve(null, null, WriteConfig("[admin]\nlisten = \"127.0.0.1\"\n"), Lookup, out var error);

        Assert.Null(target);
        Assert.Contains("listen", error, StringComparison.Ordinal);
    }

    private ApiTarget Resolve(string? api, string? tokenFile, string? config)
    {
        var target = ApiTarget.Resolve(api, tokenFile, config, Lookup, out var error);
        Assert.True(target is not null, error);
        return target;
    }

    private string? Lookup(string name) => _environment.GetValueOrDefault(name);

    private string WriteConfig(string text)
    {
        var path = Path.Combine(_folder, "gw.toml");
        File.WriteAllText(path, text);
        return path;
    }
}
