using System.Buffers.Binary;
using System.Net;

namespace Portcullis.PortMapping.Pcp;

/// <summary>
/// Writes PCP responses (RFC 6887 §7.2) into a caller's buffer and returns the length written. Header: version 2,
/// R bit + opcode, reserved, result code, lifetime, epoch time, 96 reserved bits (zero). A MAP response is exactly
/// 60 bytes unless the request carried FILTER options: those are echoed (RFC 6887 §13.3, a client learns which
/// filters are in force), every other option is not, because libtorrent drops a MAP response of any other size (and
/// sends no FILTER).
/// </summary>
public static class PcpResponse
{
    /// <summary>
    /// A successful MAP response: the request's nonce, protocol and internal port; the assigned port, address and
    /// lifetime; then <paramref name="filters"/> as FILTER options (the accepted ones, echoed).
    /// </summary>
    public static int WriteMap(
        Span<byte> destination, PcpMapData request, uint lifetime, uint epoch, ushort assignedPort, IPAddress? assignedAddress,
        IReadOnlyList<PcpFilter>? filters = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        var length = PcpMessages.MapResponseSize + ((filters?.Count ?? 0) * PcpFilterOption.Size);
        if (length > PcpMessages.MaxMessageSize)
            throw new ArgumentException("the filters do not fit in one PCP message", nameof(filters));
        var response = destination[..length];
        WriteHeader(response, PcpOpcode.Map, PcpResultCode.Success, lifetime, epoch);
        var data = response[PcpMessages.HeaderSize..];
        data.Clear();
        request.Nonce.Span[..PcpMessages.NonceSize].CopyTo(data);
        data[12] = request.Protocol;
        BinaryPrimitives.WriteUInt16BigEndian(data[16..], request.InternalPort);
        BinaryPrimitives.WriteUInt16BigEndian(data[18..], assignedPort);
        PcpAddress.Write(data[20..], assignedAddress);
        var offset = PcpMessages.MapResponseSize;
        foreach (var filter in filters ?? [])
            offset += PcpFilterOption.Write(response[offset..], filter);
        return response.Length;
    }

    /// <summary>
    /// A successful PEER response (RFC 6887 §12.2, 80 bytes): the request's nonce, protocol, internal port, remote peer
    /// port and address; the assigned external port, address and lifetime.
    /// </summary>
    public static int WritePeer(
        Span<byte> destination, PcpPeerData request, uint lifetime, uint epoch, ushort assignedPort, IPAddress? assignedAddress)
    {
        ArgumentNullException.ThrowIfNull(request);
        var response = destination[..PcpMessages.PeerResponseSize];
        WriteMap(response, request.Mapping, lifetime, epoch, assignedPort, assignedAddress);
        response[1] = (byte)((byte)PcpOpcode.Peer | PcpMessages.ResponseFlag);
        var data = response[PcpMessages.HeaderSize..];
        BinaryPrimitives.WriteUInt16BigEndian(data[36..], request.RemotePeerPort);
        data.Slice(38, 2).Clear();
        PcpAddress.Write(data[40..], request.RemotePeerAddress);
        return response.Length;
    }

    /// <summary>The answer to an ANNOUNCE request, and the unsolicited announcement after a restart: header only, lifetime 0.</summary>
    public static int WriteAnnounce(Span<byte> destination, uint epoch)
    {
        var response = destination[..PcpMessages.HeaderSize];
        WriteHeader(response, PcpOpcode.Announce, PcpResultCode.Success, 0, epoch);
        return response.Length;
    }

    /// <summary>
    /// An error response built from the raw request (RFC 6887 §7.2, §8.3): fields copied from the request, the
    /// others zero; lifetime as <see cref="PcpMessages.ErrorLifetime"/> says.
    ///   UNSUPP_VERSION: the 24-byte header only, version 2 — the highest we speak (§9).
    ///   MAP: exactly 60 bytes; the request's MAP data copied, so the nonce, protocol, internal port and the
    ///        suggested external port and address come back (§11.1 "on an error response … copied"), zero-padded
    ///        when the request was short; options are not echoed.
    ///   anything else: the header and the request's bytes after it, up to 1100 bytes, zero-padded to 4.
    /// </summary>
    public static int WriteError(Span<byte> destination, ReadOnlySpan<byte> request, PcpResultCode result, uint epoch)
    {
        if (request.Length < 2)
            throw new ArgumentException("a request has at least version and opcode", nameof(request));
        if (result == PcpResultCode.Success)
            throw new ArgumentOutOfRangeException(nameof(result), result, "an error response needs an error code");

        var opcode = (PcpOpcode)(request[1] & ~PcpMessages.ResponseFlag);
        var body = request.Length > PcpMessages.HeaderSize ? request[PcpMessages.HeaderSize..] : [];
        int length;
        if (result == PcpResultCode.UnsupportedVersion)
            length = PcpMessages.HeaderSize;
        else if (opcode == PcpOpcode.Map)
            length = PcpMessages.MapResponseSize;
        else
            length = PcpMessages.HeaderSize + ((Math.Min(body.Length, PcpMessages.MaxMessageSize - PcpMessages.HeaderSize) + 3) & ~3);

        var response = destination[..length];
        response.Clear();
        WriteHeader(response, opcode, result, PcpMessages.ErrorLifetime(result), epoch);
        var copied = body[..Math.Min(body.Length, length - PcpMessages.HeaderSize)];
        copied.CopyTo(response[PcpMessages.HeaderSize..]);
        if (opcode == PcpOpcode.Map && length == PcpMessages.MapResponseSize)
            response.Slice(PcpMessages.HeaderSize + 13, 3).Clear(); // MAP's reserved bits: sent as zero
        return length;
    }

    private static void WriteHeader(Span<byte> response, PcpOpcode opcode, PcpResultCode result, uint lifetime, uint epoch)
    {
        response[0] = PcpMessages.Version;
        response[1] = (byte)((byte)opcode | PcpMessages.ResponseFlag);
        response[2] = 0;
        response[3] = (byte)result;
        BinaryPrimitives.WriteUInt32BigEndian(response[4..], lifetime);
        BinaryPrimitives.WriteUInt32BigEndian(response[8..], epoch);
        response[12..PcpMessages.HeaderSize].Clear();
    }
}
