using System.Globalization;
using System.Text.RegularExpressions;
using Portcullis.Lab.Admin;
using Portcullis.Lab.Gateway;
using Portcullis.Lab.Harness;
using Portcullis.Lab.Tunnel;

namespace Portcullis.Lab.Console;

/// <summary>
/// The web console in Debian's Chromium (Playwright, console-lab.mjs) against a real gateway: log in (a wrong token
/// refused), changes without the page's CSRF token refused (from the page and from another origin's form), add a peer
/// and read its config from the page (and from its QR code, scanned by zbarimg), connect a stock client with that
/// config and see it connected, add a forward the remote host reaches, check the client's own mapping from outside and
/// revoke it, remove the forward, disable, enable and remove the peer, see a policy error and save a policy change,
/// log out.
/// The browser runs in the gateway's namespace and may load nothing but the admin listener. Screenshots are left in
/// out/console-screenshots.
/// </summary>
[Collection(LabCollection.Name)]
public sealed partial class ConsoleTests
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Console_InChromium_LoginCsrfAddPeerConnectForwardRevokeRemovePolicyLogout()
    {
        var script = Path.Combine(LabBinaries.RepositoryRoot, "tests", "Portcullis.Lab", "Console", "console-lab.mjs");
        Assert.True(Directory.Exists(Path.Combine(Path.GetDirectoryName(script)!, "node_modules", "playwright-core")),
            "playwright-core is not installed: run scripts/setup (npm ci in tests/Portcullis.Lab/Console)");
        var shots = Path.Combine(LabBinaries.RepositoryRoot, "out", "console-screenshots");
        if (Directory.Exists(shots))
            Directory.Delete(shots, recursive: true);
        await using var lab = await AdminLab.StartAsync();
        var signals = Path.Combine(lab.Directory, "signals");
        Directory.CreateDirectory(signals);
        var browser = lab.Gateway.Start(["node", script, "http://127.0.0.1:8351", lab.TokenFile, shots, signals], environment: null);

        await StepAsync(browser, "wrong-token-refused");
        await StepAsync(browser, "logged-in");
        Assert.Equal("403,403,401", await StepAsync(browser, "csrf-refused"));
        Assert.DoesNotContain((await lab.CliJsonAsync("peer", "list")).EnumerateArray(), p => p.GetProperty("name").GetString() == "forged");
        var configPath = await StepAsync(browser, "config");

        // The config as the page showed it, into a stock client (wireguard-go + wg, routed as wg-quick does).
        var config = await File.ReadAllTextAsync(configPath);
        // Its QR code, scanned from the screenshot by zbarimg as a phone's camera would: the same config.
        var scan = await ProcessRunner.RunAsync(["zbarimg", "--raw", "-q", Path.Combine(signals, "phone-qr.png")], RunOptions.Default);
        Assert.True(scan.Succeeded, $"zbarimg read no QR code: {scan.Stderr}");
        Assert.Equal(config.ReplaceLineEndings("\n").Trim(), scan.Stdout.ReplaceLineEndings("\n").Trim());
        await StockClient.StartAsync(lab.Client, Field(config, "PrivateKey"), Field(config, "PublicKey"), Field(config, "Endpoint"),
            Field(config, "Address"), AdminLab.GatewayTunnelAddress, TimeSpan.FromSeconds(20), lab.Diagnostics);
        await File.WriteAllTextAsync(Path.Combine(signals, "connected"), "yes");
        await StepAsync(browser, "seen-connected");

        await using var listener = await Probes.ListenAsync(lab.Client, "tcp", 8080);
        await StepAsync(browser, "forward-added");
        Assert.Equal("client from 192.0.2.100", await Probes.AskAsync(lab.Remote, "tcp", AdminLab.PublicAddress, 30000));

        // The client maps its listener's port itself; the console's check reaches it from outside the tunnel.
        var port = await NatPmpClient.MapCheckedAsync(lab.Client, "tcp", 8080);
        await File.WriteAllTextAsync(Path.Combine(signals, "mapped"), port.ToString(CultureInfo.InvariantCulture));
        Assert.Equal("reachable", await StepAsync(browser, "checked"));
        var overview = (await StepAsync(browser, "overview")).Split('|');
        Assert.Equal(["1 / 1", "1", "1", "enabled"], overview[..4]);
        Assert.DoesNotContain("0 B ↓", overview[4], StringComparison.Ordinal);
        Assert.Equal(port.ToString(CultureInfo.InvariantCulture), await StepAsync(browser, "revoked"));
        Assert.DoesNotContain($"{port} : ", await lab.Gateway.RunCheckedAsync("nft", "list", "map", "ip", "portcullis", "mappings"), StringComparison.Ordinal);

        await StepAsync(browser, "forward-removed");
        Assert.Equal(0, (await lab.CliJsonAsync("forward", "list")).GetArrayLength());
        Assert.DoesNotContain("30000 : ", await lab.Gateway.RunCheckedAsync("nft", "list", "map", "ip", "portcullis", "mappings"), StringComparison.Ordinal);
        Assert.Null(await Probes.AskAsync(lab.Remote, "tcp", AdminLab.PublicAddress, 30000));

        await StepAsync(browser, "peer-removed");
        Assert.Equal(0, (await lab.CliJsonAsync("peer", "list")).GetArrayLength());
        Assert.Contains("port_range: first (30) must not be above", await StepAsync(browser, "policy-refused"), StringComparison.Ordinal);
        Assert.Contains("Policy saved", await StepAsync(browser, "policy-saved"), StringComparison.Ordinal);
        Assert.Equal(2, (await lab.CliJsonAsync("policy")).GetProperty("effective").GetProperty("max_per_peer").GetInt32());
        Assert.Contains("inbound_new_per_second: 'fast' is not a whole number", await StepAsync(browser, "policy-limit-refused"), StringComparison.Ordinal);
        // Saved with the other overrides kept, in force over the API and in the kernel's inbound-limit chain.
        Assert.Equal("7 per forward|50 per forward|2", await StepAsync(browser, "policy-limits-saved"));
        var effective = (await lab.CliJsonAsync("policy")).GetProperty("effective");
        Assert.Equal((7, 50, 2), (effective.GetProperty("inbound_new_per_second").GetInt32(),
            effective.GetProperty("inbound_max_connections").GetInt32(), effective.GetProperty("max_per_peer").GetInt32()));
        var ruleset = await lab.Gateway.RunCheckedAsync("nft", "list", "table", "ip", "portcullis");
        Assert.Contains("limit rate over 7/second", ruleset, StringComparison.Ordinal);
        Assert.Contains("ct count over 50", ruleset, StringComparison.Ordinal);
        // Remote-peer filters per mapping: 44 refused with the API's reason (0-43), 3 saved beside the other overrides.
        Assert.Contains("max_filters_per_mapping: 44 is out of range", await StepAsync(browser, "policy-filters-refused"), StringComparison.Ordinal);
        Assert.Equal("3|7|2", await StepAsync(browser, "policy-filters-saved"));
        var withFilters = await lab.CliJsonAsync("policy");
        Assert.Equal(3, withFilters.GetProperty("effective").GetProperty("max_filters_per_mapping").GetInt32());
        Assert.Equal(3, withFilters.GetProperty("overrides").GetProperty("max_filters_per_mapping").GetInt32());
        Assert.Equal(7, withFilters.GetProperty("effective").GetProperty("inbound_new_per_second").GetInt32());
        await StepAsync(browser, "logged-out");
        await StepAsync(browser, "done");
        Assert.True(await browser.WaitForExitAsync(TimeSpan.FromSeconds(30)) && browser.ExitCode == 0, browser.ToString());
        Assert.True(File.Exists(Path.Combine(shots, "03-peer-added.png")));
    }

    /// <summary>Waits for "STEP NAME [VALUE]" from the browser script; its value, or throws with what it printed.</summary>
    private static async Task<string> StepAsync(LabProcess browser, string name)
    {
        var pattern = new Regex($"^STEP {Regex.Escape(name)}(?: (.*))?$", RegexOptions.Multiline);
        var deadline = DateTime.UtcNow + StepTimeout;
        while (true)
        {
            var output = browser.Output;
            if (pattern.Match(output) is { Success: true } match)
                return match.Groups[1].Value.Trim();
            if (browser.HasExited || output.Contains("FAIL ", StringComparison.Ordinal) || DateTime.UtcNow > deadline)
                throw new Xunit.Sdk.XunitException($"the browser did not get to '{name}':\n{output}");
            await Task.Delay(100);
        }
    }

    private static string Field(string config, string key) =>
        KeyLine().Matches(config).First(m => m.Groups[1].Value == key).Groups[2].Value.Trim();

    [GeneratedRegex(@"^\s*(\w+)\s*=\s*(.+)$", RegexOptions.Multiline)]
    private static partial Regex KeyLine();
}
