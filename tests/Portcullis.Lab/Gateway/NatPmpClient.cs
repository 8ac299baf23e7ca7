using System.Globalization;
using System.Text.RegularExpressions;
using Portcullis.Lab.Harness;

namespace Portcullis.Lab.Gateway;

/// <summary>What one <c>natpmpc</c> run reported: the mapping, or libnatpmp's error code (-51 not authorized, -53 out of resources).</summary>
internal sealed record NatPmpOutcome(CommandResult Result, int? PublicPort, int? InternalPort, int? Lifetime, int? ErrorCode)
{
    public bool Mapped => PublicPort is not null;

    public override string ToString() => Result.ToString();
}

/// <summary>
/// Stock <c>natpmpc -g 10.99.0.1</c> (DESIGN §6: the client names the tunnel gateway, as a VPN user would).
/// libnatpmp retries for up to two minutes when nothing answers, so each run is bounded.
/// </summary>
internal static partial class NatPmpClient
{
    public const int NotAuthorized = -51;
    public const int OutOfResources = -53;

    public static async Task<NatPmpOutcome> MapAsync(LabHost client, string protocol, int publicPort, int internalPort, int lifetime)
    {
        var result = await client.RunAsync(
            ["natpmpc", "-g", GatewayLab.GatewayTunnelAddress, "-a", Invariant(publicPort), Invariant(internalPort), protocol, Invariant(lifetime)],
            RunOptions.Default with { Timeout = TimeSpan.FromSeconds(8) });
        var mapped = MappedLine().Match(result.Stdout);
        if (mapped.Success)
        {
            return new NatPmpOutcome(result, int.Parse(mapped.Groups[1].Value, CultureInfo.InvariantCulture),
                int.Parse(mapped.Groups[2].Value, CultureInfo.InvariantCulture),
                int.Parse(mapped.Groups[3].Value, CultureInfo.InvariantCulture), null);
        }
        int? error = null;
        foreach (Match m in ReadLine().Matches(result.Stdout + result.Stderr))
        {
            var code = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            if (code < 0)
                error = code;
        }
        return new NatPmpOutcome(result, null, null, null, error);
    }

    /// <summary>Maps and insists on success; returns the public port.</summary>
    public static async Task<int> MapCheckedAsync(LabHost client, string protocol, int internalPort, int lifetime = 600)
    {
        var outcome = await MapAsync(client, protocol, 0, internalPort, lifetime);
        if (!outcome.Mapped)
            throw new Xunit.Sdk.XunitException($"natpmpc on {client} did not map {protocol} {internalPort}: {outcome}");
        return outcome.PublicPort!.Value;
    }

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);

    [GeneratedRegex(@"Mapped public port (\d+) protocol \w+ to local port (\d+) liftime (\d+)")]
    private static partial Regex MappedLine();

    [GeneratedRegex(@"readnatpmpresponseorretry returned (-?\d+)")]
    private static partial Regex ReadLine();
}
