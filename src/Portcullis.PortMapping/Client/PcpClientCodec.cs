using System.Buffers.Binary;
using System.Net;
using Portcullis.PortMapping.Pcp;

namespace Portcullis.PortMapping.ClientSide;

/// <summary>
/// The client's half of PCP (RFC 6887): MAP requests out; MAP and ANNOUNCE responses in, read strictly — version 2,
/// the R bit with the expected opcode, a length the RFC allows, and for MAP the nonce, protocol and internal port of
/// the request, so a stale or forged answer is never taken for ours.
/// </summary>
public static class PcpClientCodec
{
    /// <summary>
    /// Writes a MAP request: 60 bytes, then one FILTER option per <paramref name="filters"/> entry (RFC 6887 §13.3);
    /// <paramref name="client"/> must be the packet's source address.
    /// </summary>
    public static int WriteMapRequest(Span<byte> destination, ReadOnlySpan<byte> nonce, MappingProtocol protocol,
        ushort internalPort, ushort suggestedExternalPort, uint lifetime, IPAddress client, IReadOnlyList<RemoteFilter>? filters = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        if (nonce.Length != PcpMessages.NonceSize)
            throw new ArgumentException("a PCP nonce is 12 bytes", nameof(nonce));
        var length = PcpMessages.MapResponseSize + ((filters?.Count ?? 0) * PcpFilterOption.Size);
        if (length > PcpMessages.MaxMessageSize)
            throw new ArgumentException("too many filters for one PCP request", nameof(filters));
        var request = destination[..length];
        request.Clear();
        request[0] = PcpMessages.Version;
        request[1] = (byte)PcpOpcode.Map;
        BinaryPrimitives.WriteUInt32BigEndian(request[4..], lifetime);
        PcpAddress.Write(request[8..], client);
        var data = request[PcpMessages.HeaderSize..];
        nonce.CopyTo(data);
        data[12] = (byte)protocol;
        BinaryPrimitives.WriteUInt16BigEndian(data[16..], internalPort);
        BinaryPrimitives.WriteUInt16BigEndian(data[18..], suggestedExternalPort);
        PcpAddress.Write(data[20..], null); // no address suggestion: the gateway picks (all zeros, IPv4-mapped)
        var offset = PcpMessages.MapResponseSize;
        foreach (var filter in filters ?? [])
            offset += PcpFilterOption.Write(request[offset..], PcpFilterOption.From(filter));
        return request.Length;
    }

    /// <summary>Writes a 24-byte ANNOUNCE request: the server answers with its epoch (RFC 6887 §14.1).</summary>
    public static int WriteAnnounceRequest(Span<byte> destination, IPAddress client)
    {
        ArgumentNullException.ThrowIfNull(client);
        var request = destination[..PcpMessages.HeaderSize];
        request.Clear();
        request[0] = PcpMessages.Version;
        request[1] = (byte)PcpOpcode.Announce;
        PcpAddress.Write(request[8..], client);
        return request.Length;
    }

    /// <summary>
    /// Reads a MAP response to the request with <paramref name="nonce"/>. False when it is not one (wrong version,
    /// opcode, size, nonce, protocol or internal port): the caller keeps waiting. True with the answer otherwise,
    /// success or error.
    /// </summary>
    public static bool TryReadMapResponse(ReadOnlySpan<byte> datagram, ReadOnlySpan<byte> nonce, MappingProtocol protocol,
        ushort internalPort, out MappingAnswer answer)
    {
        answer = default;
        if (!IsResponse(datagram, PcpOpcode.Map) || datagram.Length < PcpMessages.MapResponseSize)
            return false;
        var data = datagram[PcpMessages.HeaderSize..];
        if (!data[..PcpMessages.NonceSize].SequenceEqual(nonce) || data[12] != (byte)protocol
            || BinaryPrimitives.ReadUInt16BigEndian(data[16..]) != internalPort)
            return false;
        var result = datagram[3];
        var externalPort = BinaryPrimitives.ReadUInt16BigEndian(data[18..]);
        var lifetime = BinaryPrimitives.ReadUInt32BigEndian(datagram[4..]);
        var granted = result == (byte)PcpResultCode.Success;
        // A grant of port 0 for a mapping (not a delete) is no mapping at all: treat it as a refusal.
        if (granted && lifetime != 0 && externalPort == 0)
            granted = false;
        answer = new MappingAnswer(
            granted ? MappingOutcome.Granted : MappingOutcome.Refused,
            MappingWire.Pcp,
            granted ? 0 : (result == 0 ? (int)PcpResultCode.MalformedRequest : result),
            Epoch(datagram),
            internalPort,
            externalPort,
            granted ? PcpAddress.Read(data[20..36]) : null,
            lifetime);
        return true;
    }

    /// <summary>An ANNOUNCE response (solicited or not) with a success result; its epoch in <paramref name="epoch"/>.</summary>
    public static bool TryReadAnnounce(ReadOnlySpan<byte> datagram, out uint epoch)
    {
        epoch = 0;
        if (!IsResponse(datagram, PcpOpcode.Announce) || datagram[3] != (byte)PcpResultCode.Success)
            return false;
        epoch = Epoch(datagram);
        return true;
    }

    /// <summary>
    /// True when a server answered our PCP request by saying it speaks only NAT-PMP (version 0 "unsupported version",
    /// RFC 6886 §3.5, RFC 6887 §9) — the signal to fall back.
    /// </summary>
    public static bool IsVersionRefusal(ReadOnlySpan<byte> datagram)
    {
        if (datagram.Length < 4)
            return false;
        if (datagram[0] == 0)
            return datagram.Length >= 4 && BinaryPrimitives.ReadUInt16BigEndian(datagram[2..]) == 1;
        return datagram[0] < PcpMessages.Version && datagram[3] == (byte)PcpResultCode.UnsupportedVersion;
    }

    private static bool IsResponse(ReadOnlySpan<byte> datagram, PcpOpcode opcode) =>
        datagram.Length >= PcpMessages.HeaderSize
        && datagram.Length <= PcpMessages.MaxMessageSize
        && datagram.Length % 4 == 0
        && datagram[0] == PcpMessages.Version
        && datagram[1] == ((byte)opcode | PcpMessages.ResponseFlag);

    private static uint Epoch(ReadOnlySpan<byte> datagram) => BinaryPrimitives.ReadUInt32BigEndian(datagram[8..]);
}
