namespace Portcullis.PortMapping.NatPmp;

/// <summary>NAT-PMP wire constants (RFC 6886): sizes are exact, every multi-byte field is big-endian.</summary>
public static class NatPmpMessages
{
    public const byte Version = 0;

    /// <summary>The server port (requests) — shared with PCP.</summary>
    public const int ServerPort = 5351;

    /// <summary>Where clients listen for unsolicited announcements (RFC 6886 §3.2.1, RFC 6887 §14.1.3).</summary>
    public const int ClientPort = 5350;

    /// <summary>A response's opcode is the request's plus 128.</summary>
    public const byte ResponseFlag = 0x80;

    public const int PublicAddressRequestSize = 2;
    public const int MapRequestSize = 12;
    public const int PublicAddressResponseSize = 12;
    public const int MapResponseSize = 16;

    /// <summary>Version, opcode, result code, epoch: the shortest response, and the whole "unsupported version" answer.</summary>
    public const int ErrorResponseSize = 8;

    /// <summary>The longest unsupported-opcode echo we send (the PCP message limit; NAT-PMP itself sets none).</summary>
    public const int MaxEchoSize = 1100;
}

public enum NatPmpOpcode : byte
{
    PublicAddress = 0,
    MapUdp = 1,
    MapTcp = 2,
}

/// <summary>RFC 6886 §3.5 result codes (16 bits on the wire).</summary>
public enum NatPmpResultCode : ushort
{
    Success = 0,
    UnsupportedVersion = 1,
    /// <summary>Not authorized/refused (e.g. the box supports mapping, but the user has turned the feature off).</summary>
    NotAuthorized = 2,
    /// <summary>E.g. the NAT box itself has not obtained an external address.</summary>
    NetworkFailure = 3,
    /// <summary>The NAT box cannot create any more mappings at this time.</summary>
    OutOfResources = 4,
    UnsupportedOpcode = 5,
}
