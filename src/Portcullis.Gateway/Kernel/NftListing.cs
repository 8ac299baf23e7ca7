using System.Globalization;
using System.Net;
using System.Text.Json;
using Portcullis.Gateway.Forwarding;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Kernel;

/// <summary>
/// Reads the JSON listings (libnftables-json(5)) of the <c>mappings</c> map and the <c>leases</c> set back into
/// entries. A map element is <c>[key, value]</c>; a key or set element is either a bare <c>{"concat": […]}</c> or,
/// when it carries a timeout or comment, <c>{"elem": {"val": {"concat": […]}, "timeout": s, "expires": s, "comment": "…"}}</c>.
/// </summary>
internal static class NftListing
{
    internal readonly record struct Lease(string Owner, TimeSpan? Remaining);

    /// <summary>
    /// Joins the two listings. An entry's <see cref="ForwardingEntry.Timeout"/> is the lease's remaining time (null for
    /// a lease without timeout). A map element whose lease is gone (expired, or never written) comes back with an
    /// empty owner and a zero timeout: it forwards nothing, and reconciliation should remove it.
    /// </summary>
    public static List<ForwardingEntry> Parse(string mapJson, string leaseJson)
    {
        var leases = new Dictionary<(IPAddress, MappingProtocol, ushort), Lease>();
        foreach (var element in Elements(leaseJson, "set"))
        {
            var (key, attributes) = Unwrap(element);
            leases[ReadKey(key)] = ReadLease(attributes);
        }

        var entries = new List<ForwardingEntry>();
        foreach (var element in Elements(mapJson, "map"))
        {
            if (element.ValueKind != JsonValueKind.Array || element.GetArrayLength() != 2)
                throw Malformed("a map element is not a [key, value] pair");
            var (keyElement, _) = Unwrap(element[0]);
            var key = ReadKey(keyElement);
            var target = Concat(element[1], 2);
            var lease = leases.TryGetValue(key, out var found) ? found : new Lease(string.Empty, TimeSpan.Zero);
            entries.Add(new ForwardingEntry(
                key.Item1, key.Item2, key.Item3, ReadAddress(target[0]), ReadPort(target[1]), lease.Owner, lease.Remaining));
        }
        return entries;
    }

    internal static List<JsonElement> Elements(string json, string kind)
    {
        using var document = JsonDocument.Parse(json);
        var result = new List<JsonElement>();
        if (!document.RootElement.TryGetProperty("nftables", out var items) || items.ValueKind != JsonValueKind.Array)
            throw Malformed("no \"nftables\" array");
        foreach (var item in items.EnumerateArray())
        {
            if (!item.TryGetProperty(kind, out var body))
                continue;
            if (body.TryGetProperty("elem", out var elements))
            {
                foreach (var element in elements.EnumerateArray())
                    result.Add(element.Clone());
            }
        }
        return result;
    }

    internal static (JsonElement Value, JsonElement? Attributes) Unwrap(JsonElement element)
    {
        if (element.ValueKind == JsonValueKind.Object && element.TryGetProperty("elem", out var wrapped))
        {
            if (!wrapped.TryGetProperty("val", out var value))
                throw Malformed("an \"elem\" without \"val\"");
            return (value, wrapped);
        }
        return (element, null);
    }

    internal static Lease ReadLease(JsonElement? attributes)
    {
        if (attributes is not { } a)
            return new Lease(string.Empty, null);
        var owner = a.TryGetProperty("comment", out var comment) ? comment.GetString() ?? string.Empty : string.Empty;
        TimeSpan? remaining = null;
        if (a.TryGetProperty("expires", out var expires))
            remaining = TimeSpan.FromSeconds(expires.GetInt64());
        else if (a.TryGetProperty("timeout", out var timeout))
            remaining = TimeSpan.FromSeconds(timeout.GetInt64());
        return new Lease(owner, remaining);
    }

    private static (IPAddress, MappingProtocol, ushort) ReadKey(JsonElement key)
    {
        var parts = Concat(key, 3);
        return (ReadAddress(parts[0]), ReadProtocol(parts[1]), ReadPort(parts[2]));
    }

    internal static JsonElement[] Concat(JsonElement element, int count)
    {
        if (element.ValueKind != JsonValueKind.Object
            || !element.TryGetProperty("concat", out var concat)
            || concat.ValueKind != JsonValueKind.Array
            || concat.GetArrayLength() != count)
        {
            throw Malformed($"expected a concatenation of {count} values");
        }
        var parts = new JsonElement[count];
        var i = 0;
        foreach (var part in concat.EnumerateArray())
            parts[i++] = part;
        return parts;
    }

    internal static IPAddress ReadAddress(JsonElement element) =>
        element.ValueKind == JsonValueKind.String && IPAddress.TryParse(element.GetString(), out var address)
            ? address
            : throw Malformed($"'{element}' is not an address");

    internal static MappingProtocol ReadProtocol(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String when element.GetString() == "tcp" => MappingProtocol.Tcp,
        JsonValueKind.String when element.GetString() == "udp" => MappingProtocol.Udp,
        JsonValueKind.Number when element.GetInt32() == (int)MappingProtocol.Tcp => MappingProtocol.Tcp,
        JsonValueKind.Number when element.GetInt32() == (int)MappingProtocol.Udp => MappingProtocol.Udp,
        _ => throw Malformed($"'{element}' is not tcp or udp"),
    };

    internal static ushort ReadPort(JsonElement element)
    {
        if (element.ValueKind == JsonValueKind.Number && element.TryGetUInt16(out var port))
            return port;
        if (element.ValueKind == JsonValueKind.String
            && ushort.TryParse(element.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out port))
        {
            return port;
        }
        throw Malformed($"'{element}' is not a port");
    }

    private static ForwardingTableException Malformed(string what) => new($"unexpected nft listing: {what}");
}
