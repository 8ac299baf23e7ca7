using System.Net;

namespace Portcullis.PortMapping;

/// <summary>
/// A remote peer a mapping admits (PCP FILTER, RFC 6887 §13.3), protocol- and family-neutral: connections from
/// <see cref="Prefix"/> and from <see cref="Port"/> (0 = any port). A mapping with filters admits only the remote peers
/// one of its filters names; a mapping without any admits everyone.
/// </summary>
/// <param name="Prefix">The remote prefix, masked (no bits set past its length).</param>
/// <param name="Port">The remote source port; 0 admits every port.</param>
public readonly record struct RemoteFilter(IPNetwork Prefix, ushort Port)
{
    /// <summary>Whether this filter admits every remote peer <paramref name="other"/> admits.</summary>
    public bool Covers(RemoteFilter other) =>
        other.Prefix.BaseAddress.AddressFamily == Prefix.BaseAddress.AddressFamily
        && other.Prefix.PrefixLength >= Prefix.PrefixLength
        && Prefix.Contains(other.Prefix.BaseAddress)
        && (Port == 0 || Port == other.Port);

    /// <summary>
    /// The same admission with no filter inside another: duplicates and filters another one covers are left out,
    /// the first of equals kept, order otherwise kept. Backends whose sets refuse overlapping elements (nftables
    /// interval sets) need this; the answer to the client is unaffected.
    /// </summary>
    public static List<RemoteFilter> Minimal(IReadOnlyList<RemoteFilter> filters)
    {
        ArgumentNullException.ThrowIfNull(filters);
        var kept = new List<RemoteFilter>(filters.Count);
        for (var i = 0; i < filters.Count; i++)
        {
            var covered = false;
            for (var j = 0; j < filters.Count && !covered; j++)
            {
                if (i == j || !filters[j].Covers(filters[i]))
                    continue;
                // Two equal filters cover each other: keep the first.
                covered = !filters[i].Covers(filters[j]) || j < i;
            }
            if (!covered)
                kept.Add(filters[i]);
        }
        return kept;
    }

    /// <summary>The prefix of <paramref name="address"/>'s first <paramref name="length"/> bits, host bits cleared.</summary>
    public static IPNetwork Masked(IPAddress address, int length)
    {
        ArgumentNullException.ThrowIfNull(address);
        var bytes = address.GetAddressBytes();
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, bytes.Length * 8);
        for (var bit = length; bit < bytes.Length * 8; bit++)
            bytes[bit / 8] &= (byte)~(0x80 >> (bit % 8));
        return new IPNetwork(new IPAddress(bytes), length);
    }

    public override string ToString() => Port == 0 ? Prefix.ToString() : $"{Prefix} port {Port}";
}
