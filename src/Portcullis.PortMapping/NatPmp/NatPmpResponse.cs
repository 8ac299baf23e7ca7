using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Portcullis.PortMapping.NatPmp;

/// <summary>
/// Writes NAT-PMP responses (RFC 6886 §3.2–§3.5) into a caller's buffer and returns the length written. Every
/// response carries "seconds since start of epoch" at bytes 4–7; sizes are exact (12 and 16 bytes).
/// </summary>
public static class NatPmpResponse
{
    /// <summary>Opcode 128: result and the public IPv4 address (0.0.0.0 when <paramref name="address"/> is null or not IPv4).</summary>
    public static int WritePublicAddress(Span<byte> destination, NatPmpResultCode result, uint epoch, IPAddress? address)
    {
        var response = destination[..NatPmpMessages.PublicAddressResponseSize];
        WriteHeader(response, (byte)NatPmpOpcode.PublicAddress, result, epoch);
        response[8..12].Clear();
        if (address is { AddressFamily: AddressFamily.InterNetwork })
            address.TryWriteBytes(response[8..12], out _);
        return response.Length;
    }

    /// <summary>Opcode 129 (UDP) or 130 (TCP): result, internal port, mapped external port, lifetime in seconds.</summary>
    public static int WriteMap(
        Span<byte> destination, NatPmpOpcode opcode, NatPmpResultCode result, uint epoch,
        ushort internalPort, ushort externalPort, uint lifetime)
    {
        if (opcode is not (NatPmpOpcode.MapUdp or NatPmpOpcode.MapTcp))
            throw new ArgumentOutOfRangeException(nameof(opcode), opcode, "a map response answers opcode 1 or 2");
        var response = destination[..NatPmpMessages.MapResponseSize];
        WriteHeader(response, (byte)opcode, result, epoch);
        BinaryPrimitives.WriteUInt16BigEndian(response[8..], internalPort);
        BinaryPrimitives.WriteUInt16BigEndian(response[10..], externalPort);
        BinaryPrimitives.WriteUInt32BigEndian(response[12..], lifetime);
        return response.Length;
    }

    /// <summary>
    /// The "unsupported version" answer: version 0, opcode 128, result 1, epoch — 8 bytes. RFC 6886 §3.5 printed
    /// opcode 0; verified erratum 3618 corrects it to 128, since this is a response.
    /// </summary>
    public static int WriteUnsupportedVersion(Span<byte> destination, uint epoch)
    {
        var response = destination[..NatPmpMessages.ErrorResponseSize];
        WriteHeader(response, 0, NatPmpResultCode.UnsupportedVersion, epoch);
        return response.Length;
    }

    /// <summary>
    /// RFC 6886 §3.5: an unsupported opcode below 128 gets the entire request back with the opcode's top bit set and
    /// result 5. Every response also carries the epoch at bytes 4–7, so a request shorter than 8 bytes is extended
    /// to 8 and the epoch overwrites bytes 4–7; the echo stops at <see cref="NatPmpMessages.MaxEchoSize"/> bytes.
    /// </summary>
    public static int WriteUnsupportedOpcode(Span<byte> destination, ReadOnlySpan<byte> request, uint epoch)
    {
        if (request.Length < 2)
            throw new ArgumentException("a request has at least version and opcode", nameof(request));
        var length = Math.Clamp(request.Length, NatPmpMessages.ErrorResponseSize, NatPmpMessages.MaxEchoSize);
        var response = destination[..length];
        response.Clear();
        request[..Math.Min(request.Length, length)].CopyTo(response);
        WriteHeader(response, request[1], NatPmpResultCode.UnsupportedOpcode, epoch);
        return length;
    }

    private static void WriteHeader(Span<byte> response, byte requestOpcode, NatPmpResultCode result, uint epoch)
    {
        response[0] = NatPmpMessages.Version;
        response[1] = (byte)(requestOpcode | NatPmpMessages.ResponseFlag);
        BinaryPrimitives.WriteUInt16BigEndian(response[2..], (ushort)result);
        BinaryPrimitives.WriteUInt32BigEndian(response[4..], epoch);
    }
}
