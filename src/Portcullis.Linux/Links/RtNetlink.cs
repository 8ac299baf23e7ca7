namespace Portcullis.Linux.Links;

/// <summary>rtnetlink numbers from linux/netlink.h, linux/rtnetlink.h, linux/if_link.h and linux/fib_rules.h.</summary>
internal static class RtNetlink
{
    public const int AfNetlink = 16;
    public const int NetlinkRoute = 0;
    public const int SolNetlink = 270;
    public const int NetlinkCapAck = 10;
    public const int NetlinkExtAck = 11;

    public const int HeaderSize = 16;

    public const ushort NlmsgError = 2;
    public const ushort NlmsgDone = 3;

    public const ushort FlagRequest = 0x1;
    public const ushort FlagAck = 0x4;
    public const ushort FlagExclusive = 0x200;
    public const ushort FlagCreate = 0x400;
    public const ushort FlagCapped = 0x100;
    public const ushort FlagAckTlvs = 0x200;
    public const ushort ErrorAttributeMessage = 1;

    public const ushort NewLink = 16;
    public const ushort DeleteLink = 17;
    public const ushort NewAddress = 20;
    public const ushort DeleteAddress = 21;
    public const ushort NewRoute = 24;
    public const ushort DeleteRoute = 25;
    public const ushort NewRule = 32;
    public const ushort DeleteRule = 33;

    public const uint IffUp = 0x1;
    public const ushort IflaMtu = 4;

    public const ushort IfaAddress = 1;
    public const ushort IfaLocal = 2;

    public const ushort RtaDestination = 1;
    public const ushort RtaOutputInterface = 4;
    public const ushort RtaGateway = 5;
    public const ushort RtaTable = 15;
    public const byte RtprotBoot = 3;
    public const byte ScopeUniverse = 0;
    public const byte ScopeLink = 253;
    public const byte ScopeNowhere = 255;
    public const byte RtnUnicast = 1;

    public const ushort FraPriority = 6;
    public const ushort FraFwMark = 10;
    public const ushort FraSuppressPrefixLength = 14;
    public const ushort FraTable = 15;
    public const ushort FraFwMask = 16;
    public const byte FrActToTable = 1;
    public const uint FibRuleInvert = 0x2;
}
