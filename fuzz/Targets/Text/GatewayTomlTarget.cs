using System.Text;
using System.Text.RegularExpressions;
using Portcullis.Gateway.Configuration;

namespace Portcullis.Fuzz.Targets.Text;

/// <summary>
/// The gateway's TOML through Tomlyn's syntax tree and our section parsers. Asserts: a refusal is a
/// GatewayConfigException whose every line reads FILE:LINE: … for a line of the file, and no line repeats a key or
/// the inline private key; an accepted file keeps the documented bounds (interface name, prefix /8–/30, timeouts,
/// lifetimes, unique peers).
/// </summary>
internal sealed partial class GatewayTomlTarget : FuzzTarget
{
    // A folder that does not exist, so private_key_file and relative paths never reach a real file.
    private const string Path = "/nonexistent/portcullis-fuzz/gateway.toml";

    public override string Name => "gateway-toml";


    public override void Run(ReadOnlySpan<byte> input)
    {
        var text = Encoding.UTF8.GetString(input);
        GatewayConfig config;
        try
        {
            config = GatewayConfigLoader.Parse(text, Path);
        }
        catch (GatewayConfigException e)
        {
            var lines = text.Split('\n').Length;
            Check.That(e.Errors.Count > 0, "a refusal says why");
            foreach (var error in e.Errors)
            {
                var match = ErrorLine().Match(error);
                Check.That(match.Success, "every error reads FILE:LINE: reason");
                var line = int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
                Check.That(line >= 0 && line <= lines + 1, "every error names a line of the file");
                SecretScan.CheckNoLeak(error, text, "no error repeats a key");
            }
            return;
        }

        Accept();
        var tunnel = config.Tunnel;
        Check.That(tunnel.Interface.Length is >= 1 and <= 15, "the interface name is 1-15 characters");
        Check.That(tunnel.Prefix.PrefixLength is >= 8 and <= 30 && tunnel.Prefix.Contains(tunnel.Address), "the tunnel address lies in a /8-/30 prefix");
        Check.That(tunnel.PrivateKey.Length == 32, "the private key is 32 bytes");
        Check.That(tunnel.SessionTimeout >= TimeSpan.FromSeconds(5) && tunnel.SessionTimeout <= TimeSpan.FromSeconds(3600), "the session timeout is 5-3600 s");
        Check.That(config.Nat.PublicAddresses.Count > 0, "there is a public address");
        var forwarding = config.Forwarding;
        Check.That(forwarding.PortRange.First <= forwarding.PortRange.Last && forwarding.PortRange.First > 0, "the port range is ordered and above 0");
        Check.That(forwarding.MinLifetime <= forwarding.MaxLifetime && forwarding.MinLifetime > TimeSpan.Zero, "lifetimes are positive and ordered");
        Check.That(forwarding.MaxPerPeer >= 0 && forwarding.RequestsPerSecond > 0 && forwarding.Burst > 0, "quota and rate limits are usable");
        Check.That(config.Peers.Select(p => p.Name).Distinct(StringComparer.Ordinal).Count() == config.Peers.Count, "peer names are unique");
        Check.That(config.Peers.Select(p => p.PublicKeyBase64).Distinct(StringComparer.Ordinal).Count() == config.Peers.Count, "peer keys are unique");
        Check.That(config.Peers.All(p => p.Forwards.All(f => f.ExternalPort != 0 && f.InternalPort != 0)), "static forwards name real ports");
    }

    [GeneratedRegex(@"^/nonexistent/portcullis-fuzz/gateway\.toml:(\d+): ", RegexOptions.CultureInvariant)]
    private static partial Regex ErrorLine();
}
