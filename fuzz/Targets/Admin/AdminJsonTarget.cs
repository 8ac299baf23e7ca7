using System.Text;
using System.Text.Json;
using Portcullis.Gateway.Admin;
using Portcullis.Gateway.Admin.Http;

namespace Portcullis.Fuzz.Targets.Admin;

/// <summary>
/// What the admin API reads from a request: the first byte picks the body (0 POST /peers, 1 POST /forwards, 2 PUT
/// /policy) or 3 the route values of DELETE …/{address}/{protocol}/{port}; the rest is the JSON body (or the three
/// values, '/'-separated). Deserialized with the server's JSON options, then through AdminRequestParser. Asserts: a
/// refusal is a JsonException or an AdminRequestException (both answered 400) with a short reason; what is accepted
/// survives a JSON round trip, and its addresses re-parse to themselves.
/// </summary>
internal sealed class AdminJsonTarget : FuzzTarget
{
    public override string Name => "admin-json";


    public override void Run(ReadOnlySpan<byte> input)
    {
        if (input.IsEmpty)
            return;
        var body = input[1..];
        try
        {
            var accepted = (input[0] % 4) switch
            {
                0 => Peer(body),
                1 => Forward(body),
                2 => Policy(body),
                _ => Key(body),
            };
            if (accepted)
                Accept();
        }
        catch (JsonException)
        {
            // 400 with System.Text.Json's reason (a path and a position, never the document).
        }
        catch (AdminRequestException e)
        {
            Check.That(e.Message.Length <= 300, "a reason is short: it quotes at most 64 characters of what was sent");
        }
    }

    private static bool Peer(ReadOnlySpan<byte> json)
    {
        if (JsonSerializer.Deserialize<AddPeerBody>(json, AdminJson.Server) is not { } body)
            return false; // a JSON null: minimal API answers 400 for a missing body
        var request = AdminRequestParser.Peer(body);
        Check.That(request.Name == body.Name && request.Name.Length is >= 1 and <= 64, "a peer's name is kept as sent, 1-64 characters");
        Check.That(request.PublicKey is null || Convert.FromBase64String(request.PublicKey).Length == 32, "a public key is 32 bytes");
        foreach (var address in new[] { request.TunnelAddress, request.DedicatedAddress })
        {
            if (address is not null)
                Check.That(AdminRequestParser.Address(address.ToString(), "address").Equals(address), "an accepted address re-parses to itself");
        }
        RoundTrip(body);
        return true;
    }

    private static bool Forward(ReadOnlySpan<byte> json)
    {
        if (JsonSerializer.Deserialize<AddForwardBody>(json, AdminJson.Server) is not { } body)
            return false;
        var request = AdminRequestParser.Forward(body);
        Check.That(request.ExternalPort != 0 && request.InternalPort is null or not 0, "forwards name real ports");
        if (request.PublicAddress is { } address)
            Check.That(AdminRequestParser.Address(address.ToString(), "address").Equals(address), "an accepted address re-parses to itself");
        RoundTrip(body);
        return true;
    }

    private static bool Policy(ReadOnlySpan<byte> json)
    {
        if (JsonSerializer.Deserialize<PolicyOverridesModel>(json, AdminJson.Server) is not { } body)
            return false;
        var policy = AdminRequestParser.Policy(body);
        Check.That(policy.PortRange is null || (policy.PortRange.Value.First >= 1 && policy.PortRange.Value.First <= policy.PortRange.Value.Last),
            "a port range is ordered and above 0");
        Check.That(policy.MaxPerPeer is null or >= 0, "a quota is not negative");
        RoundTrip(body);
        return true;
    }

    private static bool Key(ReadOnlySpan<byte> text)
    {
        var parts = Encoding.UTF8.GetString(text).Split('/');
        if (parts.Length != 3)
            return false;
        var (address, protocol, port) = AdminRequestParser.Key(parts[0], parts[1], parts[2]);
        Check.That(port != 0, "a key names a real port");
        Check.That(AdminRequestParser.Key(address.ToString(), protocol == Portcullis.PortMapping.MappingProtocol.Tcp ? "tcp" : "udp",
            port.ToString(System.Globalization.CultureInfo.InvariantCulture)).Equals((address, protocol, port)), "a key re-parses from its canonical text");
        return true;
    }

    private static void RoundTrip<T>(T body)
    {
        var json = JsonSerializer.Serialize(body, AdminJson.Server);
        var again = JsonSerializer.Deserialize<T>(json, AdminJson.Server);
        Check.That(EqualityComparer<T>.Default.Equals(body, again), "an accepted body survives a JSON round trip");
    }
}
