namespace Portcullis.PortMapping.Pcp;

/// <summary>PCP wire constants (RFC 6887 §7): big-endian, 4-byte aligned, addresses always 16 bytes.</summary>
public static class PcpMessages
{
    public const byte Version = 2;

    /// <summary>The R bit: set in responses, in the same byte as the 7-bit opcode.</summary>
    public const byte ResponseFlag = 0x80;

    public const int HeaderSize = 24;
    public const int MapDataSize = 36;
    public const int PeerDataSize = 56;
    public const int MaxMessageSize = 1100;
    public const int OptionHeaderSize = 4;
    public const int NonceSize = 12;

    /// <summary>A MAP response: header + MAP data, never options (libtorrent drops any other size).</summary>
    public const int MapResponseSize = HeaderSize + MapDataSize;

    /// <summary>A PEER response: header + PEER data (RFC 6887 §12.2).</summary>
    public const int PeerResponseSize = HeaderSize + PeerDataSize;

    /// <summary>RFC 6887 §7.2: short-lifetime errors are suggested to last 30 seconds.</summary>
    public const uint ShortErrorLifetime = 30;

    /// <summary>RFC 6887 §7.2: long-lifetime errors are suggested to last 30 minutes.</summary>
    public const uint LongErrorLifetime = 30 * 60;

    /// <summary>Option codes from 128 up may be ignored by a server that does not know them; below 128 they must be processed.</summary>
    public const byte OptionalOptionFlag = 0x80;

    /// <summary>
    /// How long a client may cache this error (RFC 6887 §7.4): NETWORK_FAILURE, NO_RESOURCES and USER_EX_QUOTA are
    /// short-lifetime errors. The RFC classifies CANNOT_PROVIDE_EXTERNAL as neither; it is short here because the
    /// suggested port may come free soon. Every other error is long; success has no error lifetime.
    /// </summary>
    public static uint ErrorLifetime(PcpResultCode result) => result switch
    {
        PcpResultCode.Success => 0,
        PcpResultCode.NetworkFailure or PcpResultCode.NoResources or PcpResultCode.UserExceededQuota
            or PcpResultCode.CannotProvideExternal => ShortErrorLifetime,
        _ => LongErrorLifetime,
    };
}

public enum PcpOpcode : byte
{
    Announce = 0,
    Map = 1,
    Peer = 2,
}

/// <summary>RFC 6887 §7.4 result codes.</summary>
public enum PcpResultCode : byte
{
    Success = 0,
    UnsupportedVersion = 1,
    NotAuthorized = 2,
    MalformedRequest = 3,
    UnsupportedOpcode = 4,
    UnsupportedOption = 5,
    MalformedOption = 6,
    NetworkFailure = 7,
    NoResources = 8,
    UnsupportedProtocol = 9,
    UserExceededQuota = 10,
    CannotProvideExternal = 11,
    AddressMismatch = 12,
    ExcessiveRemotePeers = 13,
}

/// <summary>RFC 6887 §13 option codes.</summary>
public enum PcpOptionCode : byte
{
    ThirdParty = 1,
    PreferFailure = 2,
    Filter = 3,
}
