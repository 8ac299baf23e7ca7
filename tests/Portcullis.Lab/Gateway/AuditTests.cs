using System.Globalization;
using System.Text.Json;
using Portcullis.Lab.Harness;
using Portcullis.Lab.Tunnel;
using static Portcullis.Lab.Gateway.GatewayLab;

namespace Portcullis.Lab.Gateway;

/// <summary>
/// The operator's answer to an abuse report, `portcullis mapping who PUBLIC:PORT --at TIME`: from the opt-in audit
/// trail only. With audit_log on it names the peer a stock client's mapping belonged to, and the gateway prunes the
/// record once it ended longer ago than audit_retention; with audit_log off it refuses, saying why.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class AuditTests
{
    private const string Admin = """
        [admin]
        listen     = "127.0.0.1:8351"
        token_file = "admin.token"
        """;

    [Fact]
    public async Task MappingWho_AuditOn_NamesTheHolderThenRetentionPrunesTheEndedRecord()
    {
        await using var lab = await GatewayLab.StartAsync(new GatewayLabOptions
        {
            ExtraForwarding = "audit_log = true\naudit_retention = 2",
            ExtraTables = Admin,
        });
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        var port = await NatPmpClient.MapCheckedAsync(lab.ClientA, "tcp", 8080);
        var endpoint = $"{PublicAddress}:{port.ToString(CultureInfo.InvariantCulture)}";

        // The trail is written off the forwarding thread: the answer appears within moments of the mapping.
        JsonElement holders = default;
        Assert.True(await Wait.UntilAsync(async () =>
        {
            holders = await WhoJsonAsync(lab, endpoint, DateTimeOffset.UtcNow);
            return holders.GetArrayLength() == 1;
        }, TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(200)), $"no audit answer for {endpoint}\n{lab.GatewayProcess}");
        var holder = holders[0];
        Assert.Equal("a", holder.GetProperty("peer_name").GetString());
        Assert.Equal(AddressA, holder.GetProperty("tunnel_address").GetString());
        Assert.Equal(8080, holder.GetProperty("internal_port").GetInt32());
        Assert.Equal("tcp", holder.GetProperty("protocol").GetString());
        Assert.Equal(JsonValueKind.Null, holder.GetProperty("ended_utc").ValueKind);
        // Before the mapping nobody held the port; the table form says so too.
        Assert.Equal(0, (await WhoJsonAsync(lab, endpoint, before)).GetArrayLength());
        var table = await WhoAsync(lab, endpoint, DateTimeOffset.UtcNow);
        Assert.True(table.Succeeded, table.ToString());
        Assert.Contains($"{AddressA}:8080", table.Stdout, StringComparison.Ordinal);

        // The mapping ends (natpmpc deletes it); a held record is never pruned, an ended one goes after the retention.
        var held = DateTimeOffset.UtcNow;
        await NatPmpClient.MapAsync(lab.ClientA, "tcp", 0, 8080, 0);
        Assert.True(await Wait.UntilAsync(
            () => Task.FromResult(lab.GatewayProcess.Output.Contains("Audit trail: pruned 1 records", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(200)), $"the ended record was never pruned\n{lab.GatewayProcess}");
        Assert.Equal(0, (await WhoJsonAsync(lab, endpoint, held)).GetArrayLength());
    }

    [Fact]
    public async Task MappingWho_DedicatedAddress_AnyPortNamesItsPeerAMappedPortItsMapping()
    {
        const string dedicated = "198.51.100.11";
        await using var lab = await GatewayLab.StartAsync(new GatewayLabOptions
        {
            ExtraForwarding = "audit_log = true\nforward_all_dedicated_ports = true",
            ExtraPeerA = $"dedicated_address = \"{dedicated}\"",
            ExtraTables = Admin,
        });
        var mapped = await NatPmpClient.MapCheckedAsync(lab.ClientA, "udp", 8080);

        // A port no mapping holds answers with the address's every-port records (TCP and UDP), a mapped one with its
        // mapping alone.
        JsonElement holders = default;
        var anyPort = $"{dedicated}:4711";
        Assert.True(await Wait.UntilAsync(async () =>
        {
            holders = await WhoJsonAsync(lab, anyPort, DateTimeOffset.UtcNow);
            return holders.GetArrayLength() == 2;
        }, TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(200)), $"no audit answer for {anyPort}: {holders}\n{lab.GatewayProcess}");
        foreach (var holder in holders.EnumerateArray())
        {
            Assert.Equal("a", holder.GetProperty("peer_name").GetString());
            Assert.Equal(AddressA, holder.GetProperty("tunnel_address").GetString());
            Assert.Equal(0, holder.GetProperty("public_port").GetInt32());
        }
        var table = await WhoAsync(lab, anyPort, DateTimeOffset.UtcNow);
        Assert.True(table.Succeeded, table.ToString());
        Assert.Contains($"{dedicated}:*", table.Stdout, StringComparison.Ordinal);
        var mapping = Assert.Single((await WhoJsonAsync(lab, $"{dedicated}:{mapped.ToString(CultureInfo.InvariantCulture)}", DateTimeOffset.UtcNow))
            .EnumerateArray());
        Assert.Equal((8080, "udp"), (mapping.GetProperty("internal_port").GetInt32(), mapping.GetProperty("protocol").GetString()));
        // The shared address's same port is nobody's.
        Assert.Equal(0, (await WhoJsonAsync(lab, $"{PublicAddress}:4711", DateTimeOffset.UtcNow)).GetArrayLength());
    }

    [Fact]
    public async Task MappingWho_AuditOff_RefusedWithTheReasonAndNothingRecorded()
    {
        await using var lab = await GatewayLab.StartAsync(new GatewayLabOptions { ExtraTables = Admin });
        var port = await NatPmpClient.MapCheckedAsync(lab.ClientA, "tcp", 8080);

        var who = await WhoAsync(lab, $"{PublicAddress}:{port.ToString(CultureInfo.InvariantCulture)}", DateTimeOffset.UtcNow);

        Assert.Equal(1, who.ExitCode);
        Assert.Contains("409", who.Stderr, StringComparison.Ordinal);
        Assert.Contains("Auditing is off", who.Stderr, StringComparison.Ordinal);
        Assert.Equal("", who.Stdout.Trim());

        // Bad input is the operator's mistake, not a refusal: exit 2 before anything is sent.
        var bad = await WhoRawAsync(lab, $"{PublicAddress}:{port.ToString(CultureInfo.InvariantCulture)}", "yesterday");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("--at", bad.Stderr, StringComparison.Ordinal);
    }

    private static Task<CommandResult> WhoAsync(GatewayLab lab, string endpoint, DateTimeOffset at, params string[] more) =>
        WhoRawAsync(lab, endpoint, at.ToString("O", CultureInfo.InvariantCulture), more);

    private static Task<CommandResult> WhoRawAsync(GatewayLab lab, string endpoint, string at, params string[] more) =>
        lab.Gateway.RunAsync([LabBinaries.Portcullis, "mapping", "who", endpoint, "--at", at, .. more, "--config", lab.ConfigPath],
            RunOptions.Default with { Timeout = TimeSpan.FromSeconds(30) });

    private static async Task<JsonElement> WhoJsonAsync(GatewayLab lab, string endpoint, DateTimeOffset at)
    {
        var result = await WhoAsync(lab, endpoint, at, "--json");
        if (!result.Succeeded)
            throw new LabCommandException(result);
        using var document = JsonDocument.Parse(result.Stdout);
        return document.RootElement.Clone();
    }
}
