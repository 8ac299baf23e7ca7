using System.CommandLine;
using Portcullis.Gateway.Admin.Http;

namespace Portcullis.Cli.Admin;

/// <summary>
/// `portcullis forward add PEER tcp|udp|both EXTERNAL [INTERNAL] [--public-address A]`, `forward list`,
/// `forward remove ADDRESS PROTOCOL PORT` (all with --json).
/// </summary>
internal static class ForwardCommands
{
    public static Command Create()
    {
        var api = new ApiOptions();
        var command = new Command("forward", "Manage static forwards (a fixed public port to a peer, live while it is connected).");
        api.AddTo(command);
        command.Subcommands.Add(Add(api));
        command.Subcommands.Add(List(api));
        command.Subcommands.Add(Remove(api));
        return command;
    }

    private static Command Add(ApiOptions api)
    {
        var peer = new Argument<string>("PEER") { Description = "The peer's name or id." };
        var protocol = new Argument<string>("PROTOCOL") { Description = "tcp, udp or both." };
        var external = new Argument<string>("EXTERNAL") { Description = "The public port." };
        var @internal = new Argument<string?>("INTERNAL") { Description = "The peer's port (default: EXTERNAL).", Arity = ArgumentArity.ZeroOrOne };
        var publicAddress = new Option<string?>("--public-address") { Description = "Which public address (default: the peer's dedicated one, else the gateway's first); an IPv6 one: with NAT66 one of public_addresses6, routed the peer's own /128." };
        var command = new Command("add", "Add a static forward.") { peer, protocol, external, @internal, publicAddress };
        AdminAction.Set(command, "forward add", api, async (result, client, cancellationToken) =>
        {
            var body = new AddForwardBody
            {
                Peer = result.GetValue(peer)!,
                Protocol = Arguments.Protocol(result.GetValue(protocol)!, allowBoth: true),
                ExternalPort = Arguments.Port(result.GetValue(external)!, "EXTERNAL"),
                InternalPort = result.GetValue(@internal) is { } i ? Arguments.Port(i, "INTERNAL") : null,
                PublicAddress = result.GetValue(publicAddress) is { } a ? Arguments.Address(a, "--public-address") : null,
            };
            var added = await client.SendAsync<ForwardModel[]>(HttpMethod.Post, "api/v1/forwards", body, cancellationToken).ConfigureAwait(false);
            Console.Write(result.GetValue(api.Json) ? added.Json + "\n" : Table(added.Value));
            return 0;
        });
        return command;
    }

    private static Command List(ApiOptions api)
    {
        var command = new Command("list", "List the static forwards; LIVE says whether the kernel forwards it now.");
        AdminAction.Set(command, "forward list", api, async (result, client, cancellationToken) =>
        {
            var forwards = await client.GetAsync<ForwardModel[]>("api/v1/forwards", cancellationToken).ConfigureAwait(false);
            Console.Write(result.GetValue(api.Json) ? forwards.Json + "\n" : Table(forwards.Value));
            return 0;
        });
        return command;
    }

    private static Command Remove(ApiOptions api)
    {
        var (address, protocol, port) = KeyArguments.Create("The forward's public address.");
        var command = new Command("remove", "Remove a static forward.") { address, protocol, port };
        AdminAction.Set(command, "forward remove", api, async (result, client, cancellationToken) =>
        {
            var key = KeyArguments.Path(result, address, protocol, port);
            await client.SendAsync(HttpMethod.Delete, $"api/v1/forwards/{key}", cancellationToken).ConfigureAwait(false);
            Console.WriteLine($"Removed forward {key.Replace('/', ' ')}.");
            return 0;
        });
        return command;
    }

    private static string Table(IReadOnlyList<ForwardModel> forwards)
    {
        var table = new TextTable("PUBLIC ADDRESS", "PROTO", "EXTERNAL", "PEER", "INTERNAL", "LIVE");
        foreach (var f in forwards)
        {
            table.Add(f.PublicAddress == "0.0.0.0" ? "any" : f.PublicAddress, f.Protocol, f.ExternalPort.ToString(System.Globalization.CultureInfo.InvariantCulture), f.PeerName,
                f.InternalPort.ToString(System.Globalization.CultureInfo.InvariantCulture), Formats.YesNo(f.Live));
        }
        return table.ToString();
    }
}

/// <summary>ADDRESS PROTOCOL PORT, the key of a forward or a mapping.</summary>
internal static class KeyArguments
{
    public static (Argument<string> Address, Argument<string> Protocol, Argument<string> Port) Create(string addressDescription) => (
        new Argument<string>("ADDRESS") { Description = addressDescription },
        new Argument<string>("PROTOCOL") { Description = "tcp or udp." },
        new Argument<string>("PORT") { Description = "The public port." });

    /// <summary>"ADDRESS/PROTOCOL/PORT" for the URL, checked.</summary>
    public static string Path(ParseResult result, Argument<string> address, Argument<string> protocol, Argument<string> port)
    {
        // "any": a fleet-wide forward (stored as 0.0.0.0, live on whichever gateway its peer is connected to).
        var given = result.GetValue(address)!;
        var a = given.Equals("any", StringComparison.OrdinalIgnoreCase) ? "0.0.0.0" : Arguments.Address(given, "ADDRESS");
        var p = Arguments.Protocol(result.GetValue(protocol)!, allowBoth: false);
        var n = Arguments.Port(result.GetValue(port)!, "PORT");
        return $"{Arguments.Segment(a)}/{p}/{n}";
    }
}
