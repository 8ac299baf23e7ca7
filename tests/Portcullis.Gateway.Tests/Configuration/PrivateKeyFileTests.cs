using System.Runtime.Versioning;
using Portcullis.Gateway.Configuration;
using static Portcullis.Gateway.Tests.Configuration.ConfigText;

namespace Portcullis.Gateway.Tests.Configuration;

/// <summary>A file holding the private key must be private: refused otherwise (GatewayConfigLoader's documented choice).</summary>
[SupportedOSPlatform("linux")]
public sealed class PrivateKeyFileTests : IDisposable
{
    private readonly string _directory = TempDirectory();

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static string WithKeyFile(string path) =>
        Minimal(NewKey()).Replace("private_key = ", $"private_key_file = \"{path}\"\n#", StringComparison.Ordinal);

    [Fact]
    public void Load_PrivateKeyFileRelativeAndPrivate_ReadsTheKey()
    {
        var key = NewKey();
        WriteFile(_directory, "gw.key", key + "\n", Private);
        var config = WriteFile(_directory, "gw.toml", WithKeyFile("gw.key"), WorldReadable);

        Assert.Equal(Convert.FromBase64String(key), GatewayConfigLoader.Load(config).Tunnel.PrivateKey);
    }

    [Fact]
    public void Load_PrivateKeyFileReadableByOthers_IsRefused()
    {
        var key = NewKey();
        var keyPath = WriteFile(_directory, "gw.key", key, WorldReadable);
        var config = WriteFile(_directory, "gw.toml", WithKeyFile(keyPath), Private);

        var error = Assert.Throws<GatewayConfigException>(() => GatewayConfigLoader.Load(config));

        Assert.Equal([$"{config}:3: [tunnel] private_key_file: {keyPath} is accessible by group or others (mode 0644); chmod 600 it"], error.Errors);
        Assert.DoesNotContain(key, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_PrivateKeyFileIsASymbolicLink_IsRefused()
    {
        var keyPath = WriteFile(_directory, "real.key", NewKey(), Private);
        var link = Path.Combine(_directory, "gw.key");
        File.CreateSymbolicLink(link, keyPath);
        var config = WriteFile(_directory, "gw.toml", WithKeyFile(link), Private);

        var error = Assert.Throws<GatewayConfigException>(() => GatewayConfigLoader.Load(config));

        Assert.Equal([$"{config}:3: [tunnel] private_key_file: {link} is a symbolic link; name the file itself"], error.Errors);
    }

    [Fact]
    public void Load_PrivateKeyFileOwnedByAnotherUser_IsRefused()
    {
        var keyPath = WriteFile(_directory, "gw.key", NewKey(), Private);
        Assert.Equal(0, Shell.Run("chown", "65534", keyPath).ExitCode);
        var config = WriteFile(_directory, "gw.toml", WithKeyFile(keyPath), Private);

        var error = Assert.Throws<GatewayConfigException>(() => GatewayConfigLoader.Load(config));

        Assert.StartsWith($"{config}:3: [tunnel] private_key_file: {keyPath} is owned by uid 65534, not by the user of this process",
            Assert.Single(error.Errors), StringComparison.Ordinal);
    }

    [Fact]
    public void Load_PrivateKeyFileWithGarbage_ErrorNeverShowsTheContent()
    {
        const string content = "c2VjcmV0LXNlY3JldC1zZWNyZXQ=";
        WriteFile(_directory, "gw.key", content, Private);
        var config = WriteFile(_directory, "gw.toml", WithKeyFile("gw.key"), Private);

        var error = Assert.Throws<GatewayConfigException>(() => GatewayConfigLoader.Load(config));

        Assert.Contains("does not hold a base64 WireGuard key", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(content, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_MissingKeyFile_NamesThePath()
    {
        var config = WriteFile(_directory, "gw.toml", WithKeyFile("absent.key"), Private);

        var error = Assert.Throws<GatewayConfigException>(() => GatewayConfigLoader.Load(config));

        Assert.Equal([$"{config}:3: [tunnel] private_key_file: {Path.Combine(_directory, "absent.key")} does not exist"], error.Errors);
    }

    [Fact]
    public void Load_InlineKeyInWorldReadableFile_IsRefused()
    {
        var key = NewKey();
        var config = WriteFile(_directory, "gw.toml", Minimal(key), WorldReadable);

        var error = Assert.Throws<GatewayConfigException>(() => GatewayConfigLoader.Load(config));

        Assert.StartsWith($"{config}:3: [tunnel] private_key: this file holds the private key but is accessible by group or others (mode 0644)",
            Assert.Single(error.Errors), StringComparison.Ordinal);
        Assert.DoesNotContain(key, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_BothKeyAndKeyFile_IsRejected()
    {
        var text = Minimal(NewKey()).Replace("address =", "private_key_file = \"x\"\naddress =", StringComparison.Ordinal);
        var config = WriteFile(_directory, "gw.toml", text, Private);

        var error = Assert.Throws<GatewayConfigException>(() => GatewayConfigLoader.Load(config));

        Assert.Equal([$"{config}:4: [tunnel] private_key_file: give either private_key or private_key_file, not both"], error.Errors);
    }

    [Fact]
    public void Load_MissingFile_SaysItCannotRead()
    {
        var path = Path.Combine(_directory, "absent.toml");

        var error = Assert.Throws<GatewayConfigException>(() => GatewayConfigLoader.Load(path));

        Assert.StartsWith($"{path}: cannot read:", error.Message, StringComparison.Ordinal);
    }
}
