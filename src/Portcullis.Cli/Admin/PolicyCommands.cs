using System.CommandLine;
using System.Globalization;
using System.Text;
using Portcullis.Gateway.Admin.Http;

namespace Portcullis.Cli.Admin;

/// <summary>
/// `portcullis policy [get]` and `portcullis policy set [--forwarding on|off|default] [--port-range FIRST-LAST|default]
/// [--max-per-peer N|default] [--forward-all-dedicated-ports on|off|default] [--inbound-new-per-second N|default]
/// [--inbound-max-connections N|default] [--max-filters-per-mapping N|default]`: the server policy the admin API
/// overrides on top of the config file. "default" drops an override, so the file's value applies again. In a fleet,
/// without `--gateway` they are the fleet's overrides; `--gateway NAME` reads or sets that gateway's own, on top.
/// </summary>
internal static class PolicyCommands
{
    private const string Default = "default";

    public static Command Create()
    {
        var api = new ApiOptions();
        var gateway = new Option<string?>("--gateway")
        {
            Description = "In a fleet: this gateway's own overrides, on top of the fleet's (default: the fleet's).",
            Recursive = true,
        };
        var command = new Command("policy", "Show or change the forwarding policy (stored overrides of the config file).") { gateway };
        api.AddTo(command);
        AdminAction.Set(command, "policy", api, (result, client, cancellationToken) => ShowAsync(result, api, gateway, client, cancellationToken));
        var get = new Command("get", "Show the policy in force and the overrides it came from.");
        AdminAction.Set(get, "policy get", api, (result, client, cancellationToken) => ShowAsync(result, api, gateway, client, cancellationToken));
        command.Subcommands.Add(get);
        command.Subcommands.Add(Set(api, gateway));
        return command;
    }

    private static string PolicyPath(ParseResult result, Option<string?> gateway) =>
        result.GetValue(gateway) is { } name ? $"api/v1/policy?gateway={Uri.EscapeDataString(name)}" : "api/v1/policy";

    private static Command Set(ApiOptions api, Option<string?> gateway)
    {
        var forwarding = new Option<string?>("--forwarding") { Description = "Port forwarding on this server: on, off or default." };
        var range = new Option<string?>("--port-range") { Description = "Where external ports are chosen: FIRST-LAST or default." };
        var maxPerPeer = new Option<string?>("--max-per-peer") { Description = "Dynamic mappings per peer: N or default." };
        var allDedicated = new Option<string?>("--forward-all-dedicated-ports") { Description = "Every port of a dedicated address to its peer: on, off or default." };
        var newPerSecond = new Option<string?>("--inbound-new-per-second") { Description = "New inbound connections per second per forward: N (0 = no limit) or default." };
        var maxConnections = new Option<string?>("--inbound-max-connections") { Description = "Inbound connections a forward may hold: N (0 = no limit) or default." };
        var maxFilters = new Option<string?>("--max-filters-per-mapping") { Description = "Remote-peer filters (PCP FILTER) one mapping may hold: N (0 to 43) or default." };
        var command = new Command("set", "Change overrides; options left out keep theirs.")
        {
            forwarding, range, maxPerPeer, allDedicated, newPerSecond, maxConnections, maxFilters,
        };
        AdminAction.Set(command, "policy set", api, async (result, client, cancellationToken) =>
        {
            var path = PolicyPath(result, gateway);
            var current = await client.GetAsync<PolicyModel>(path, cancellationToken).ConfigureAwait(false);
            var o = current.Value.Overrides;
            var changed = o with
            {
                ForwardingEnabled = result.GetValue(forwarding) is { } f ? Switch(f, "--forwarding") : o.ForwardingEnabled,
                PortRange = result.GetValue(range) is { } r ? Range(r) : o.PortRange,
                MaxPerPeer = result.GetValue(maxPerPeer) is { } m ? Count(m, "--max-per-peer") : o.MaxPerPeer,
                InboundNewPerSecond = result.GetValue(newPerSecond) is { } n ? Count(n, "--inbound-new-per-second") : o.InboundNewPerSecond,
                InboundMaxConnections = result.GetValue(maxConnections) is { } c ? Count(c, "--inbound-max-connections") : o.InboundMaxConnections,
                MaxFiltersPerMapping = result.GetValue(maxFilters) is { } x ? Count(x, "--max-filters-per-mapping") : o.MaxFiltersPerMapping,
                ForwardAllDedicatedPorts = result.GetValue(allDedicated) is { } a ? Switch(a, "--forward-all-dedicated-ports") : o.ForwardAllDedicatedPorts,
            };
            var updated = await client.SendAsync<PolicyModel>(HttpMethod.Put, path, changed, cancellationToken).ConfigureAwait(false);
            Console.Write(result.GetValue(api.Json) ? updated.Json + "\n" : Text(updated.Value));
            return 0;
        });
        return command;
    }

    private static async Task<int> ShowAsync(ParseResult result, ApiOptions api, Option<string?> gateway, AdminClient client, CancellationToken cancellationToken)
    {
        var policy = await client.GetAsync<PolicyModel>(PolicyPath(result, gateway), cancellationToken).ConfigureAwait(false);
        Console.Write(result.GetValue(api.Json) ? policy.Json + "\n" : Text(policy.Value));
        return 0;
    }

    private static string Text(PolicyModel policy)
    {
        var o = policy.Overrides;
        var text = new StringBuilder();
        if (policy.Effective is not { } e)
        {
            // Another gateway's layer: its file is not known here, only what is set over it.
            text.Append(CultureInfo.InvariantCulture, $"overrides of gateway {policy.Gateway} (in force there, on top of its file and the fleet's):\n");
            Line(text, "forwarding", o.ForwardingEnabled is { } f ? (f ? "on" : "off") : "-", o.ForwardingEnabled is not null);
            Line(text, "port range", o.PortRange is { } r ? $"{r.First}-{r.Last}" : "-", o.PortRange is not null);
            Line(text, "max per peer", o.MaxPerPeer?.ToString(CultureInfo.InvariantCulture) ?? "-", o.MaxPerPeer is not null);
            Line(text, "all dedicated ports", o.ForwardAllDedicatedPorts is { } a ? (a ? "on" : "off") : "-", o.ForwardAllDedicatedPorts is not null);
            Line(text, "inbound new/s", o.InboundNewPerSecond?.ToString(CultureInfo.InvariantCulture) ?? "-", o.InboundNewPerSecond is not null);
            Line(text, "inbound max conns", o.InboundMaxConnections?.ToString(CultureInfo.InvariantCulture) ?? "-", o.InboundMaxConnections is not null);
            Line(text, "filters per mapping", o.MaxFiltersPerMapping?.ToString(CultureInfo.InvariantCulture) ?? "-", o.MaxFiltersPerMapping is not null);
            return text.ToString();
        }
        Line(text, "forwarding", e.Enabled ? "on" : "off", o.ForwardingEnabled is not null);
        Line(text, "port range", $"{e.PortRange.First}-{e.PortRange.Last}", o.PortRange is not null);
        Line(text, "max per peer", e.MaxPerPeer.ToString(CultureInfo.InvariantCulture), o.MaxPerPeer is not null);
        Line(text, "all dedicated ports", e.ForwardAllDedicatedPorts ? "on" : "off", o.ForwardAllDedicatedPorts is not null);
        Line(text, "inbound new/s", Limit(e.InboundNewPerSecond), o.InboundNewPerSecond is not null);
        Line(text, "inbound max conns", Limit(e.InboundMaxConnections), o.InboundMaxConnections is not null);
        Line(text, "filters per mapping", e.MaxFiltersPerMapping.ToString(CultureInfo.InvariantCulture), o.MaxFiltersPerMapping is not null);
        Line(text, "lifetime", $"{e.MinLifetimeSeconds}-{e.MaxLifetimeSeconds} s", overridden: false);
        Line(text, "rate", $"{e.RequestsPerSecond}/s, burst {e.Burst}", overridden: false);
        Line(text, "blocked ports", string.Join(',', e.BlockedExternalPorts), overridden: false);
        return text.ToString();
    }

    private static void Line(StringBuilder text, string key, string value, bool overridden) =>
        text.Append(CultureInfo.InvariantCulture, $"{key + ":",-21}{value}{(overridden ? "  (set over the API)" : "")}\n");

    private static bool? Switch(string text, string option) => text.ToLowerInvariant() switch
    {
        "on" or "true" or "yes" => true,
        "off" or "false" or "no" => false,
        Default => null,
        _ => throw new UsageException($"{option} '{text}': expected on, off or default"),
    };

    private static PortRangeModel? Range(string text)
    {
        if (text == Default)
            return null;
        var dash = text.IndexOf('-', StringComparison.Ordinal);
        if (dash < 0)
            throw new UsageException($"--port-range '{text}': expected FIRST-LAST, e.g. 20000-59999, or default");
        var first = Arguments.Port(text[..dash], "--port-range first port");
        var last = Arguments.Port(text[(dash + 1)..], "--port-range last port");
        return first <= last ? new PortRangeModel(first, last) : throw new UsageException($"--port-range '{text}': FIRST must not be above LAST");
    }

    private static int? Count(string text, string option) => text == Default ? null
        : int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n
        : throw new UsageException($"{option} '{text}': expected a count (0 or more) or default");

    private static string Limit(int value) => value == 0 ? "no limit" : value.ToString(CultureInfo.InvariantCulture);
}
