using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Portcullis.Gateway.Configuration;
using Portcullis.Gateway.Hosting;

namespace Portcullis.Gateway.Tests.Hosting;

/// <summary>
/// The test assembly's own entry point (the test host never calls it): `virtual-time-gateway CONFIG` assembles the
/// whole gateway on a <see cref="FakeTimeProvider"/> in the namespace the process runs in (the test starts it with
/// `ip netns exec`, so every thread and socket of it is there), says "up STARTED PEER_CREATED" (the clock readings of
/// the host and the store, ISO 8601), then moves virtual time on each "advance SECONDS" line of stdin (answering
/// "advanced") until "stop" or the end of input.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal static class VirtualTimeGateway
{
    public const string Command = "virtual-time-gateway";

    /// <summary>Where virtual time starts: far from the real clock, so a reading of the wrong clock shows.</summary>
    public static readonly DateTimeOffset Start = new(2001, 2, 3, 4, 5, 6, TimeSpan.Zero);

    private static async Task<int> Main(string[] args)
    {
        if (args is not [Command, var configPath])
            return 2;
        var time = new FakeTimeProvider(Start);
        await using var host = await GatewayHost.StartAsync(GatewayConfigLoader.Load(configPath), NullLoggerFactory.Instance, time);
        var created = (await host.Operations.ListPeersAsync()).Select(p => p.CreatedUtc).Single();
        Console.WriteLine($"up {host.Operations.GetStatus().StartedUtc:O} {created:O}");
        while (Console.ReadLine() is { } line && line != "stop")
        {
            if (line.StartsWith("advance ", StringComparison.Ordinal))
            {
                time.Advance(TimeSpan.FromSeconds(double.Parse(line["advance ".Length..], System.Globalization.CultureInfo.InvariantCulture)));
                Console.WriteLine("advanced");
            }
        }
        return 0;
    }
}
