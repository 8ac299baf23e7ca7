using System.Net;
using System.Text.Json;
using Portcullis.Gateway.Forwarding;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Kernel;

/// <summary>
/// Reads the JSON listing of the <c>admitted</c> set (<see cref="NftFilterScript"/>) back into each entry's
/// <see cref="ForwardingEntry.Filters"/>, so reconciliation after a restart removes a mapping together with its filter
/// elements. An element is <c>{"elem": {"val": {"concat": [addr, proto, port, remote, remotePort]}, …}}</c>, the
/// remote a plain address (a /32) or <c>{"prefix": {"addr", "len"}}</c>, the remote port a number or
/// <c>{"range": [0, 65535]}</c> (any port).
/// </summary>
internal static class NftFilterListing
{
    public static List<ForwardingEntry> Attach(List<ForwardingEntry> entries, string admittedJson)
    {
        var byKey = new Dictionary<(IPAddress, MappingProtocol, ushort), List<RemoteFilter>>();
        using var document = JsonDocument.Parse(admittedJson);
        if (!document.RootElement.TryGetProperty("nftables", out var items) || items.ValueKind != JsonValueKind.Array)
            throw Malformed("no \"nftables\" array");
        foreach (var item in items.EnumerateArray())
        {
            if (!item.TryGetProperty("set", out var set) || !set.TryGetProperty("elem", out var elements))
                continue;
            foreach (var element in elements.EnumerateArray())
            {
                var value = element.ValueKind == JsonValueKind.Object && element.TryGetProperty("elem", out var wrapped)
                    ? wrapped.GetProperty("val")
                    : element;
                if (!value.TryGetProperty("concat", out var concat) || concat.GetArrayLength() != 5)
                    throw Malformed("an admitted element is not a concatenation of 5 values");
                var key = (NftListing.ReadAddress(concat[0]), NftListing.ReadProtocol(concat[1]), NftListing.ReadPort(concat[2]));
                if (!byKey.TryGetValue(key, out var filters))
                    byKey[key] = filters = [];
                filters.Add(new RemoteFilter(Prefix(concat[3]), RemotePort(concat[4])));
            }
        }
        if (byKey.Count == 0)
            return entries;
        for (var i = 0; i < entries.Count; i++)
        {
            if (byKey.TryGetValue(entries[i].Key, out var filters))
                entries[i] = entries[i] with { Filters = filters };
        }
        return entries;
    }

    private static IPNetwork Prefix(JsonElement element)
    {
        if (element.ValueKind == JsonValueKind.String)
        {
            var address = NftListing.ReadAddress(element);
            return new IPNetwork(address, Bits(address));
        }
        if (element.ValueKind == JsonValueKind.Object && element.TryGetProperty("prefix", out var prefix)
            && prefix.TryGetProperty("len", out var len) && len.TryGetInt32(out var length))
        {
            var address = NftListing.ReadAddress(prefix.GetProperty("addr"));
            if (length >= 0 && length <= Bits(address))
                return RemoteFilter.Masked(address, length);
        }
        throw Malformed($"'{element}' is not an address or prefix");
    }

    private static int Bits(IPAddress address) => address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? 128 : 32;

    private static ushort RemotePort(JsonElement element) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty("range", out _) ? (ushort)0 : NftListing.ReadPort(element);

    private static ForwardingTableException Malformed(string what) => new($"unexpected nft listing: {what}");
}
