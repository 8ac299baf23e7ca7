namespace Portcullis.Linux.Tun;

/// <summary>What a <see cref="LinuxTun"/> got from the kernel: the vnet header and which offloads (TUNSETOFFLOAD).</summary>
/// <param name="VnetHeader">Packets carry a virtio_net_hdr (IFF_VNET_HDR): needed for any offload.</param>
/// <param name="Flags">The TUN_F_* flags the kernel accepted.</param>
/// <param name="Refused">The TUN_F_* flags asked for and refused (0 when all were granted or none asked).</param>
public sealed record TunOffloads(bool VnetHeader, uint Flags, uint Refused)
{
    internal const uint Checksum = 0x01;
    internal const uint Tso4 = 0x02;
    internal const uint Tso6 = 0x04;
    internal const uint TsoEcn = 0x08;
    internal const uint Uso4 = 0x20;
    internal const uint Uso6 = 0x40;

    /// <summary>Offloads off: one plain IP packet per read and per write.</summary>
    public static TunOffloads Off { get; } = new(false, 0, 0);

    /// <summary>True when reads may return TCP super-packets (and Read splits them).</summary>
    public bool Segmentation => (Flags & (Tso4 | Tso6)) != 0;

    /// <summary>"tso4 tso6 tso-ecn uso4 uso6 csum", or "none".</summary>
    public static string Describe(uint flags)
    {
        if (flags == 0)
            return "none";
        var names = new List<string>();
        if ((flags & Tso4) != 0)
            names.Add("tso4");
        if ((flags & Tso6) != 0)
            names.Add("tso6");
        if ((flags & TsoEcn) != 0)
            names.Add("tso-ecn");
        if ((flags & Uso4) != 0)
            names.Add("uso4");
        if ((flags & Uso6) != 0)
            names.Add("uso6");
        if ((flags & Checksum) != 0)
            names.Add("csum");
        return string.Join(' ', names);
    }

    public override string ToString() => !VnetHeader
        ? "off"
        : Refused == 0 ? $"vnet header, {Describe(Flags)}" : $"vnet header, {Describe(Flags)} (kernel refused {Describe(Refused)})";
}
