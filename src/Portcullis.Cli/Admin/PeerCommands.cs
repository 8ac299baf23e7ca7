using System.CommandLine;
using Portcullis.Gateway.Admin.Http;

namespace Portcullis.Cli.Admin;

/// <summary>
/// `portcullis peer add NAME [--public-key K] [--address A] [--dedicated-address A] [--dedicated-address6 A] [--qr]`, `peer list`,
/// `peer show NAME`, `peer remove NAME`, `peer enable NAME`, `peer disable NAME` (all with --json).
/// </summary>
internal static class PeerCommands
{
    public static Command Create()
    {
        var api = new ApiOptions();
        var command = new Command("peer", "Manage the gateway's peers over its admin API.");
        api.AddTo(command);
        command.Subcommands.Add(Add(api));
        command.Subcommands.Add(List(api));
        command.Subcommands.Add(Show(api));
        command.Subcommands.Add(Change(api, "remove", "Remove a peer: its session, forwards and mappings end at once."));
        command.Subcommands.Add(Change(api, "enable", "Let a disabled peer connect again."));
        command.Subcommands.Add(Change(api, "disable", "Cut a peer off but keep it stored."));
        return command;
    }

    private static Command Add(ApiOptions api)
    {
        var name = new Argument<string>("NAME") { Description = "Letters, digits, '.', '_' and '-'." };
        var publicKey = new Option<string?>("--public-key") { Description = "The peer's public key (base64); leave out to have the gateway make a key pair." };
        var address = new Option<string?>("--address") { Description = "Its tunnel address (default: the lowest free one)." };
        var dedicated = new Option<string?>("--dedicated-address") { Description = "A public address of its own (egress and ingress)." };
        var dedicated6 = new Option<string?>("--dedicated-address6") { Description = "A public IPv6 address of its own (NAT66 gateways only)." };
        var qr = new Option<bool>("--qr") { Description = "Also print the client config as a QR code (for the WireGuard phone apps)." };
        var command = new Command("add", "Add a peer and print its wg-quick client config.") { name, publicKey, address, dedicated, dedicated6, qr };
        AdminAction.Set(command, "peer add", api, async (result, client, cancellationToken) =>
        {
            var body = new AddPeerBody
            {
                Name = result.GetValue(name)!,
                PublicKey = result.GetValue(publicKey),
                TunnelAddress = result.GetValue(address) is { } a ? Arguments.Address(a, "--address") : null,
                DedicatedAddress = result.GetValue(dedicated) is { } d ? Arguments.Address(d, "--dedicated-address") : null,
                DedicatedAddress6 = result.GetValue(dedicated6) is { } d6 ? Arguments.Address(d6, "--dedicated-address6") : null,
            };
            var added = await client.SendAsync<AddedPeerModel>(HttpMethod.Post, "api/v1/peers", body, cancellationToken).ConfigureAwait(false);
            if (result.GetValue(api.Json))
            {
                Console.WriteLine(added.Json);
                return 0;
            }
            var peer = added.Value.Peer;
            await Console.Error.WriteLineAsync($"Added peer {peer.Name} ({peer.TunnelAddress}), id {peer.Id}. Its client config:").ConfigureAwait(false);
            Console.Write(EndWithNewline(added.Value.ClientConfig));
            if (result.GetValue(qr))
                Console.Write(QrCode.Render(added.Value.ClientConfig));
            return 0;
        });
        return command;
    }

    private static Command List(ApiOptions api)
    {
        var command = new Command("list", "List the peers: address, state, latest handshake; in a fleet, the gateway each connected peer is on.");
        AdminAction.Set(command, "peer list", api, async (result, client, cancellationToken) =>
        {
            var peers = await client.GetAsync<PeerModel[]>("api/v1/peers", cancellationToken).ConfigureAwait(false);
            Console.Write(result.GetValue(api.Json) ? peers.Json + "\n" : Table(peers.Value, DateTimeOffset.UtcNow));
            return 0;
        });
        return command;
    }

    private static Command Show(ApiOptions api)
    {
        var name = new Argument<string>("PEER") { Description = "The peer's name or id." };
        var command = new Command("show", "Show one peer.") { name };
        AdminAction.Set(command, "peer show", api, async (result, client, cancellationToken) =>
        {
            var peer = await client.GetAsync<PeerModel>($"api/v1/peers/{Arguments.Segment(result.GetValue(name)!)}", cancellationToken).ConfigureAwait(false);
            Console.Write(result.GetValue(api.Json) ? peer.Json + "\n" : Table([peer.Value], DateTimeOffset.UtcNow));
            return 0;
        });
        return command;
    }

    private static Command Change(ApiOptions api, string verb, string description)
    {
        var name = new Argument<string>("PEER") { Description = "The peer's name or id." };
        var command = new Command(verb, description) { name };
        AdminAction.Set(command, $"peer {verb}", api, async (result, client, cancellationToken) =>
        {
            var peer = result.GetValue(name)!;
            var path = $"api/v1/peers/{Arguments.Segment(peer)}";
            if (verb == "remove")
            {
                await client.SendAsync(HttpMethod.Delete, path, cancellationToken).ConfigureAwait(false);
                Console.WriteLine($"Removed peer {peer}.");
                return 0;
            }
            var changed = await client.SendAsync<PeerModel>(HttpMethod.Post, $"{path}/{verb}", null, cancellationToken).ConfigureAwait(false);
            Console.Write(result.GetValue(api.Json) ? changed.Json + "\n" : $"Peer {changed.Value.Name} {verb}d.\n");
            return 0;
        });
        return command;
    }

    // Both families when the peer has both: "198.51.100.11, 2001:db8:1::11".
    private static string Dedicated(PeerModel p) =>
        p.DedicatedAddress is null && p.DedicatedAddress6 is null ? "-" : string.Join(", ", new[] { p.DedicatedAddress, p.DedicatedAddress6 }.OfType<string>());

    internal static string Table(IReadOnlyList<PeerModel> peers, DateTimeOffset now)
    {
        // A fleet says where each connected peer is; one box has nothing to say there, and no column for it.
        if (peers.Any(p => p.Gateway is not null))
        {
            var fleet = new TextTable("NAME", "ID", "TUNNEL", "DEDICATED", "ENABLED", "CONNECTED", "GATEWAY", "HANDSHAKE", "PUBLIC KEY");
            foreach (var p in peers)
            {
                fleet.Add(p.Name, p.Id, p.TunnelAddress, Dedicated(p), Formats.YesNo(p.Enabled), Formats.YesNo(p.Connected),
                    p.Gateway ?? "-", Formats.Ago(p.LastHandshakeUtc, now), p.PublicKey);
            }
            return fleet.ToString();
        }
        var table = new TextTable("NAME", "ID", "TUNNEL", "DEDICATED", "ENABLED", "CONNECTED", "HANDSHAKE", "PUBLIC KEY");
        foreach (var p in peers)
        {
            table.Add(p.Name, p.Id, p.TunnelAddress, Dedicated(p), Formats.YesNo(p.Enabled), Formats.YesNo(p.Connected),
                Formats.Ago(p.LastHandshakeUtc, now), p.PublicKey);
        }
        return table.ToString();
    }

    private static string EndWithNewline(string text) => text.EndsWith('\n') ? text : text + "\n";
}
