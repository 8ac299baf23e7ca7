using System.Globalization;
using System.Text.Json;

namespace Portcullis.Lab.Soak;

/// <summary>One element of the kernel's mappings map with its lease's owner (null when the lease set lacks the key).</summary>
internal sealed record KernelMapping(string Protocol, int PublicPort, string TunnelAddress, int InternalPort, string? Owner);

/// <summary>
/// Issue 13's soak invariants, read from the kernel (nftables, in the gateway's namespace) and the admin API after
/// every step:
/// <list type="number">
/// <item>every mapping points at its owner's tunnel address, and its owner is a peer the gateway knows;</item>
/// <item>no public port is held by two peers (whatever the protocols);</item>
/// <item>no mapping of a peer whose client stopped outlives its session by more than the grace;</item>
/// <item>a connected peer holds exactly the mappings it was given, in the kernel and in the admin API alike.</item>
/// </list>
/// Throws with the seed, the step and what broke.
/// </summary>
internal sealed class SoakInvariants(SoakLab lab, Action<string> log)
{
    /// <summary>How long after its session's timeout a stopped peer's mappings may still be in the kernel.</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromSeconds(15);

    public async Task CheckAsync(string where)
    {
        var kernel = await KernelAsync();
        var admin = await lab.AdminAsync("mapping", "list");
        var byId = lab.Peers.ToDictionary(p => p.Id, StringComparer.Ordinal);
        var problems = new List<string>();

        foreach (var mapping in kernel)
        {
            if (mapping.Owner is null || !byId.TryGetValue(mapping.Owner, out var owner))
                problems.Add($"{mapping} has no owner the gateway knows");
            else if (owner.TunnelAddress != mapping.TunnelAddress)
                problems.Add($"{mapping} points at {mapping.TunnelAddress}, but its owner {owner} is at {owner.TunnelAddress}");
        }

        foreach (var port in kernel.GroupBy(m => m.PublicPort))
        {
            var owners = port.Select(m => m.Owner).Distinct().ToList();
            if (owners.Count > 1)
                problems.Add($"public port {port.Key} is held by {owners.Count} peers: {string.Join(", ", port)}");
        }

        var now = DateTime.UtcNow;
        foreach (var peer in lab.Peers)
        {
            var held = kernel.Where(m => m.Owner == peer.Id).ToList();
            if (peer.DownSince is { } down && now - down > SoakLab.SessionTimeout + Grace && held.Count > 0)
                problems.Add($"{peer} stopped {(now - down).TotalSeconds:F0} s ago, yet the kernel holds {string.Join(", ", held)}");
            if (peer.Tunnel is null)
                continue;
            var expected = peer.Mappings.Select(m => $"{m.Key.Protocol}:{m.Value}->{m.Key.InternalPort}").Order().ToList();
            var inKernel = held.Select(m => $"{m.Protocol}:{m.PublicPort}->{m.InternalPort}").Order().ToList();
            var inAdmin = admin.EnumerateArray()
                .Where(m => m.GetProperty("peer_id").GetString() == peer.Id)
                .Select(m => $"{m.GetProperty("protocol").GetString()}:{m.GetProperty("public_port").GetInt32()}->{m.GetProperty("internal_port").GetInt32()}")
                .Order().ToList();
            if (!expected.SequenceEqual(inKernel) || !expected.SequenceEqual(inAdmin))
                problems.Add($"{peer} was given [{string.Join(' ', expected)}]; the kernel holds [{string.Join(' ', inKernel)}], the admin API lists [{string.Join(' ', inAdmin)}]");
        }

        if (problems.Count > 0)
            throw new Xunit.Sdk.XunitException($"invariant broken {where}:\n  {string.Join("\n  ", problems)}");
        log($"{where}: ok ({kernel.Count} mappings in the kernel)");
    }

    /// <summary>
    /// The mappings map joined with the lease set (owner = the lease's comment), from one listing of the table: nft
    /// builds it from one ruleset generation, so a session ending meanwhile cannot show a mapping without its lease.
    /// </summary>
    public async Task<IReadOnlyList<KernelMapping>> KernelAsync()
    {
        var table = await lab.Gateway.RunCheckedAsync("nft", "-j", "list", "table", "ip", "portcullis");
        var owners = new Dictionary<(string, int), string>();
        foreach (var element in Elements(table, "set", "leases"))
        {
            if (element.ValueKind == JsonValueKind.Object && element.TryGetProperty("elem", out var elem)
                && elem.TryGetProperty("comment", out var comment))
            {
                var key = elem.GetProperty("val").GetProperty("concat");
                owners[(Protocol(key[1]), key[2].GetInt32())] = comment.GetString()!;
            }
        }
        var result = new List<KernelMapping>();
        foreach (var element in Elements(table, "map", "mappings"))
        {
            var key = element[0].GetProperty("concat");
            var target = element[1].GetProperty("concat");
            var protocol = Protocol(key[1]);
            var port = key[2].GetInt32();
            result.Add(new KernelMapping(protocol, port, target[0].GetString()!, target[1].GetInt32(), owners.GetValueOrDefault((protocol, port))));
        }
        return result;
    }

    private static List<JsonElement> Elements(string json, string kind, string name)
    {
        using var document = JsonDocument.Parse(json);
        var list = new List<JsonElement>();
        foreach (var item in document.RootElement.GetProperty("nftables").EnumerateArray())
        {
            if (item.TryGetProperty(kind, out var body) && body.GetProperty("name").GetString() == name
                && body.TryGetProperty("elem", out var elements))
            {
                foreach (var element in elements.EnumerateArray())
                    list.Add(element.Clone());
            }
        }
        return list;
    }

    private static string Protocol(JsonElement value) => value.ValueKind == JsonValueKind.Number
        ? value.GetInt32() switch { 6 => "tcp", 17 => "udp", var other => other.ToString(CultureInfo.InvariantCulture) }
        : value.GetString()!;
}
