using System.Net;
using System.Runtime.InteropServices;

namespace Portcullis.Linux.Links;

public static partial class Link
{
    private const int IfAddrMsgSize = 8;

    /// <summary>
    /// Adds <paramref name="address"/>/<paramref name="prefixLength"/> to <paramref name="name"/>, as
    /// <c>ip addr add 10.99.0.1/16 dev NAME</c> (which also installs the connected route).
    /// </summary>
    public static void AddAddress(string name, IPAddress address, int prefixLength) =>
        ChangeAddress(RtNetlink.NewAddress, RtNetlink.FlagCreate | RtNetlink.FlagExclusive, name, address, prefixLength, "add");

    /// <summary>
    /// Adds the prefix's base address with its length. IPNetwork refuses host bits, so this suits host
    /// addresses (/32, /128); for 10.99.0.1/16 use <see cref="AddAddress(string, IPAddress, int)"/>.
    /// </summary>
    public static void AddAddress(string name, IPNetwork prefix) => AddAddress(name, prefix.BaseAddress, prefix.PrefixLength);

    public static void DeleteAddress(string name, IPAddress address, int prefixLength) =>
        ChangeAddress(RtNetlink.DeleteAddress, 0, name, address, prefixLength, "delete");

    private static void ChangeAddress(ushort type, ushort flags, string name, IPAddress address, int prefixLength, string verb)
    {
        ArgumentNullException.ThrowIfNull(address);
        var family = FamilyOf(address);
        ArgumentOutOfRangeException.ThrowIfNegative(prefixLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(prefixLength, family == 2 ? 32 : 128);
        var operation = $"{verb} address {address}/{prefixLength} dev {name}";
        var index = IndexOf(name, operation);

        var request = new NetlinkRequest(type, flags);
        var header = request.Append(IfAddrMsgSize);
        header[0] = family;
        header[1] = (byte)prefixLength;
        MemoryMarshal.Write(header[4..], in index);
        request.AddAddress(RtNetlink.IfaLocal, address);
        request.AddAddress(RtNetlink.IfaAddress, address);
        NetlinkSocket.Execute(request, operation);
    }
}
