using Portcullis.Client.Status;

namespace Portcullis.Client.Tests.Status;

public sealed class ClientStateTests
{
    private static readonly ClientState Sample = new()
    {
        Interface = "wg0",
        Pid = 4242,
        ConfigPath = "/etc/wireguard/wg0.conf",
        Started = DateTimeOffset.Parse("2026-11-24T21:00:00Z", System.Globalization.CultureInfo.InvariantCulture),
        Phase = "up",
        Endpoints = "198.51.100.10:51820",
        KillSwitch = true,
        Persistent = true,
        Table = 51820,
        FwMark = 51820,
        FullTunnel4 = true,
        DnsBackup = "/run/portcullis/wg0.resolv.conf",
        Forward = "tcp:8080",
    };

    [Fact]
    public void SerializeParse_RoundTrips()
    {
        Assert.Equal(Sample, ClientState.Parse(Sample.Serialize()));
    }

    [Fact]
    public void Parse_TableOff_Null()
    {
        Assert.Null(ClientState.Parse((Sample with { Table = null }).Serialize())!.Table);
    }

    [Theory]
    [InlineData("")]
    [InlineData("interface=wg0\npid=x\nstarted=2026-11-24T21:00:00Z\n")]
    [InlineData("pid=1\nstarted=2026-11-24T21:00:00Z\n")]
    public void Parse_Incomplete_Null(string text)
    {
        Assert.Null(ClientState.Parse(text));
    }

    [Fact]
    public void Store_WritesPrivateFileAndReadsBack()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"pc-state-{Guid.NewGuid():N}");
        try
        {
            var store = new ClientStateStore(dir);
            store.Write(Sample);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(ClientState.PathFor(dir, "wg0")));
            Assert.Equal(Sample, store.Read("wg0"));
            Assert.Equal([Sample], store.ReadAll());
            store.Delete("wg0");
            Assert.Null(store.Read("wg0"));
        }
        finally
        {
            if (Directory.Exists(dir))
                Directory.Delete(dir, recursive: true);
        }
    }
}
