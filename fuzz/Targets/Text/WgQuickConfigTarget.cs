using System.Text;
using Portcullis.Client.Config;

namespace Portcullis.Fuzz.Targets.Text;

/// <summary>
/// A wg-quick file for `portcullis connect`. Asserts: a refusal is a WgQuickConfigException naming this file and a
/// line of it, and never repeats a key; an accepted file's derived settings evaluate, its ToString holds no secret,
/// and the file written back from what was parsed parses to the same configuration.
/// </summary>
internal sealed class WgQuickConfigTarget : FuzzTarget
{
    private const string Path = "/etc/portcullis/clients/fuzz.conf";

    public override string Name => "wg-quick-config";


    public override void Run(ReadOnlySpan<byte> input)
    {
        var text = Encoding.UTF8.GetString(input);
        WgQuickConfig config;
        try
        {
            config = WgQuickConfigParser.Parse(text, Path);
        }
        catch (WgQuickConfigException e)
        {
            Check.That(e.FilePath == Path && e.Message.StartsWith(Path + ":", StringComparison.Ordinal), "a refusal names the file");
            Check.That(e.Line >= 0 && e.Line <= text.Split('\n').Length, "a refusal names a line of the file");
            SecretScan.CheckNoLeak(e.Message, text, "a refusal never repeats a key");
            return;
        }

        Accept();
        _ = config.RoutingTable;
        _ = config.FwMark;
        Check.That(config.Mtu is >= 576 and <= 65535, "the MTU is one the tunnel can use");
        var printed = config.ToString();
        Check.That(!printed.Contains(Convert.ToBase64String(config.Interface.PrivateKey), StringComparison.Ordinal), "ToString never shows the private key");
        Check.That(config.Peers.All(p => p.PresharedKey is null || !printed.Contains(Convert.ToBase64String(p.PresharedKey), StringComparison.Ordinal)),
            "ToString never shows a preshared key");

        WgQuickConfig again;
        var written = Write(config);
        try
        {
            again = WgQuickConfigParser.Parse(written, Path);
        }
        catch (WgQuickConfigException e)
        {
            throw new FuzzCheckException($"the file written back from an accepted one is refused: {e.Message}", e);
        }
        Check.That(Write(again) == written, "the written-back file parses to the same configuration");
    }

    /// <summary>The configuration as wg-quick text, every value in its canonical form.</summary>
    private static string Write(WgQuickConfig config)
    {
        var text = new StringBuilder();
        var i = config.Interface;
        text.Append("[Interface]\nPrivateKey = ").Append(Convert.ToBase64String(i.PrivateKey)).Append('\n');
        foreach (var address in i.Addresses)
            text.Append("Address = ").Append(address).Append('\n');
        foreach (var server in i.DnsServers)
            text.Append("DNS = ").Append(server).Append('\n');
        foreach (var domain in i.DnsSearch)
            text.Append("DNS = ").Append(domain).Append('\n');
        if (i.Mtu is { } mtu)
            text.Append("MTU = ").Append(mtu).Append('\n');
        if (i.ListenPort is { } port)
            text.Append("ListenPort = ").Append(port).Append('\n');
        if (i.FwMark is { } mark)
            text.Append("FwMark = ").Append(mark).Append('\n');
        if (i.Table is { } table)
            text.Append("Table = ").Append(table).Append('\n');
        foreach (var peer in config.Peers)
        {
            text.Append("\n[Peer]\nPublicKey = ").Append(Convert.ToBase64String(peer.PublicKey)).Append('\n');
            if (peer.PresharedKey is { } psk)
                text.Append("PresharedKey = ").Append(Convert.ToBase64String(psk)).Append('\n');
            if (peer.Endpoint is { } endpoint)
                text.Append("Endpoint = ").Append(endpoint).Append('\n');
            foreach (var prefix in peer.AllowedIps)
                text.Append("AllowedIPs = ").Append(prefix).Append('\n');
            if (peer.PersistentKeepalive is { } keepalive)
                text.Append("PersistentKeepalive = ").Append(keepalive).Append('\n');
        }
        return text.ToString();
    }
}
