using System.Net;
using System.Runtime.Versioning;
using Portcullis.Gateway.Addressing;
using Portcullis.Gateway.Configuration;
using Portcullis.Gateway.Tests.Configuration;

namespace Portcullis.Gateway.Tests.Addressing;

[SupportedOSPlatform("linux")]
public sealed class TunnelAddressBookTests : IDisposable
{
    private readonly string _directory = ConfigText.TempDirectory();

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private GatewayConfig Config(params (string Name, string Key, string? Address)[] peers)
    {
        var text = ConfigText.Minimal(ConfigText.NewKey(), $"[store]\npath = \"{_directory}/state/portcullis.db\"\n");
        foreach (var (name, key, address) in peers)
            text += $"[[peer]]\nname = \"{name}\"\npublic_key = \"{key}\"\n" + (address is null ? "" : $"address = \"{address}\"\n");
        return GatewayConfigLoader.Parse(text, "gw.toml");
    }

    private string StatePath => Path.Combine(_directory, "state", AddressStateFile.FileName);

    [Fact]
    public void Open_Restart_KeepsAllocatedAddressesWhenPeersAreInsertedBefore()
    {
        var (alice, bob, carol) = (ConfigText.NewKey(), ConfigText.NewKey(), ConfigText.NewKey());
        var first = TunnelAddressBook.Open(Config(("alice", alice, null), ("bob", bob, null)));

        var second = TunnelAddressBook.Open(Config(("carol", carol, null), ("bob", bob, null), ("alice", alice, null)));

        Assert.Equal(IPAddress.Parse("10.99.0.2"), first.FindByKey(Convert.FromBase64String(alice))!.Address);
        Assert.Equal(IPAddress.Parse("10.99.0.3"), first.FindByKey(Convert.FromBase64String(bob))!.Address);
        Assert.Equal(IPAddress.Parse("10.99.0.2"), second.FindByKey(Convert.FromBase64String(alice))!.Address);
        Assert.Equal(IPAddress.Parse("10.99.0.3"), second.FindByKey(Convert.FromBase64String(bob))!.Address);
        Assert.Equal(IPAddress.Parse("10.99.0.4"), second.FindByKey(Convert.FromBase64String(carol))!.Address);
        Assert.Equal("carol", second.FindByAddress(IPAddress.Parse("10.99.0.4"))!.Name);
    }

    [Fact]
    public void Open_StateFile_IsPrivateAndHoldsOnlyAllocatedPeers()
    {
        var (alice, bob) = (ConfigText.NewKey(), ConfigText.NewKey());

        TunnelAddressBook.Open(Config(("alice", alice, "10.99.0.50"), ("bob", bob, null)));

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(StatePath));
        var remembered = AddressStateFile.Load(StatePath);
        Assert.Equal(IPAddress.Parse("10.99.0.2"), Assert.Single(remembered, e => e.Key == bob).Value);
        Assert.DoesNotContain(alice, remembered.Keys);
    }

    [Fact]
    public void Open_PeerRemovedFromConfig_IsForgotten()
    {
        var (alice, bob) = (ConfigText.NewKey(), ConfigText.NewKey());
        TunnelAddressBook.Open(Config(("alice", alice, null), ("bob", bob, null)));

        TunnelAddressBook.Open(Config(("bob", bob, null)));

        Assert.Equal([bob], AddressStateFile.Load(StatePath).Keys);
    }

    [Fact]
    public void Open_CorruptStateFile_RefusesNamingTheFile()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(StatePath)!);
        File.WriteAllText(StatePath, "{ not json");

        var error = Assert.Throws<GatewayConfigException>(() => TunnelAddressBook.Open(Config(("alice", ConfigText.NewKey(), null))));

        Assert.StartsWith($"{StatePath}: not a valid address state file", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Save_OverAWorldReadableFile_LeavesItPrivate()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(StatePath)!);
        File.WriteAllText(StatePath, """{ "version": 1, "peers": [] }""");
        File.SetUnixFileMode(StatePath, ConfigText.WorldReadable);
        File.WriteAllText(StatePath + ".tmp", "");
        File.SetUnixFileMode(StatePath + ".tmp", ConfigText.WorldReadable);

        AddressStateFile.Save(StatePath, [new PeerAddress("a", new byte[32], IPAddress.Parse("10.99.0.2"), false)]);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(StatePath));
        Assert.Equal(IPAddress.Parse("10.99.0.2"), Assert.Single(AddressStateFile.Load(StatePath)).Value);
    }
}
