using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Portcullis.Linux.Interop;

namespace Portcullis.Linux.Links;

/// <summary>
/// Link, address, route and rule configuration through rtnetlink, in the calling thread's network
/// namespace (wrap calls in <see cref="Namespaces.NetworkNamespace.RunIn{T}"/> for another one).
/// Every call waits for the kernel's acknowledgement; a refusal throws <see cref="LinuxCallException"/>
/// naming the operation, the errno text and the kernel's extended-ack message when there is one.
/// </summary>
public static partial class Link
{
    private const int IfInfoMsgSize = 16;

    /// <summary>The interface index of <paramref name="name"/>.</summary>
    public static int GetIndex(string name) => IndexOf(name, $"find interface {name}");

    /// <summary>
    /// Whether an interface named <paramref name="name"/> exists in the calling thread's network namespace (unlike
    /// /sys/class/net, which shows the namespace sysfs was mounted in).
    /// </summary>
    public static bool Exists(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return Libc.IfNameToIndex(name) != 0;
    }

    /// <summary>Deletes the interface <paramref name="name"/> (RTM_DELLINK, as `ip link del`).</summary>
    public static void Delete(string name)
    {
        var operation = $"delete link {name}";
        var index = IndexOf(name, operation);
        var request = new NetlinkRequest(RtNetlink.DeleteLink, 0);
        var info = request.Append(IfInfoMsgSize);
        MemoryMarshal.Write(info[4..], in index);
        NetlinkSocket.Execute(request, operation);
    }

    public static void SetUp(string name) => ChangeLink(name, RtNetlink.IffUp, RtNetlink.IffUp, mtu: null, $"set link {name} up");

    public static void SetDown(string name) => ChangeLink(name, 0, RtNetlink.IffUp, mtu: null, $"set link {name} down");

    public static void SetMtu(string name, int mtu)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(mtu, 68);
        ChangeLink(name, 0, 0, mtu, $"set link {name} mtu {mtu}");
    }

    private static void ChangeLink(string name, uint flags, uint change, int? mtu, string operation)
    {
        var index = IndexOf(name, operation);
        var request = new NetlinkRequest(RtNetlink.NewLink, 0);
        var info = request.Append(IfInfoMsgSize);
        MemoryMarshal.Write(info[4..], in index);
        MemoryMarshal.Write(info[8..], in flags);
        MemoryMarshal.Write(info[12..], in change);
        if (mtu is int value)
            request.AddUInt32(RtNetlink.IflaMtu, (uint)value);
        NetlinkSocket.Execute(request, operation);
    }

    /// <summary>The index of <paramref name="name"/>, or a failure of <paramref name="operation"/> naming the missing device.</summary>
    private static int IndexOf(string name, string operation)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var index = Libc.IfNameToIndex(name);
        if (index == 0)
            throw new LinuxCallException(operation, Errno.ENODEV, $"no interface named '{name}'");
        return (int)index;
    }

    private static byte FamilyOf(IPAddress address) => address.AddressFamily switch
    {
        AddressFamily.InterNetwork => 2,
        AddressFamily.InterNetworkV6 => 10,
        _ => throw new ArgumentException($"{address} is neither IPv4 nor IPv6.", nameof(address)),
    };

    private static byte FamilyOf(AddressFamily family) => family switch
    {
        AddressFamily.InterNetwork => 2,
        AddressFamily.InterNetworkV6 => 10,
        _ => throw new ArgumentException($"{family} is neither IPv4 nor IPv6.", nameof(family)),
    };
}
