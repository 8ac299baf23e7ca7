using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Portcullis.PortMapping.Pcp;

/// <summary>
/// The FILTER option (RFC 6887 §13.3): option header (code 3, reserved, length 20), then reserved, prefix length,
/// remote peer port, remote peer address (16 bytes). An IPv4 prefix is carried in the IPv4-mapped form, so its length
/// counts the 96 mapping bits: an IPv4 /24 travels as 120. Prefix length 0 removes a mapping's filters.
/// </summary>
public static class PcpFilterOption
{
    public const int DataSize = 20;

    /// <summary>The whole option: header and data.</summary>
    public const int Size = PcpMessages.OptionHeaderSize + DataSize;

    private const int MappedBits = 96;

    /// <summary>Writes one FILTER option (<see cref="Size"/> bytes) and returns its length.</summary>
    public static int Write(Span<byte> destination, PcpFilter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var option = destination[..Size];
        option.Clear();
        option[0] = (byte)PcpOptionCode.Filter;
        BinaryPrimitives.WriteUInt16BigEndian(option[2..], DataSize);
        option[5] = filter.PrefixLength;
        BinaryPrimitives.WriteUInt16BigEndian(option[6..], filter.RemotePort);
        if (filter.PrefixLength != 0) // RFC 6887 erratum 3891: a "remove all" filter carries zeros
            PcpAddress.Write(option[8..], filter.RemoteAddress);
        return Size;
    }

    /// <summary>The option a client sends for <paramref name="filter"/>.</summary>
    public static PcpFilter From(RemoteFilter filter)
    {
        var address = filter.Prefix.BaseAddress;
        var length = filter.Prefix.PrefixLength + (address.AddressFamily == AddressFamily.InterNetwork ? MappedBits : 0);
        return new PcpFilter((byte)length, filter.Port, address);
    }

    /// <summary>The "remove every filter" option (prefix length 0).</summary>
    public static PcpFilter RemoveAll { get; } = new(0, 0, IPAddress.IPv6Any);

    /// <summary>
    /// What a request's FILTER options ask, in order: null when there are none (filters unchanged); a prefix length 0
    /// drops those before it (RFC 6887 §13.3: it removes every existing filter). Host bits past a prefix are cleared.
    /// </summary>
    public static IReadOnlyList<RemoteFilter>? ToRemote(IReadOnlyList<PcpFilter> filters)
    {
        ArgumentNullException.ThrowIfNull(filters);
        if (filters.Count == 0)
            return null;
        var result = new List<RemoteFilter>(filters.Count);
        foreach (var filter in filters)
        {
            if (filter.PrefixLength == 0)
            {
                result.Clear();
                continue;
            }
            var v4 = filter.RemoteAddress.AddressFamily == AddressFamily.InterNetwork;
            var length = v4 ? filter.PrefixLength - MappedBits : filter.PrefixLength;
            result.Add(new RemoteFilter(RemoteFilter.Masked(filter.RemoteAddress, length), filter.RemotePort));
        }
        return result;
    }
}
