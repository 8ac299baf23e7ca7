using System.Buffers.Binary;
using Portcullis.PortMapping.NatPmp;
using Portcullis.PortMapping.Pcp;

namespace Portcullis.PortMapping.Server;

/// <summary>Which protocol an answer was in.</summary>
public enum PortMappingProtocol
{
    NatPmp,
    Pcp,
}

/// <summary>How many answers went out with this protocol, opcode and result code.</summary>
/// <param name="Opcode">The request's opcode; <see cref="PortMappingAnswers.OtherOpcode"/> for any opcode above 2.</param>
/// <param name="ResultCode">NAT-PMP or PCP result code; <see cref="PortMappingAnswers.OtherResult"/> for codes above 14.</param>
public readonly record struct PortMappingAnswerCount(PortMappingProtocol Protocol, byte Opcode, ushort ResultCode, long Count);

/// <summary>
/// Answers by protocol, opcode and result code, read from each answer's own bytes just before it is sent, so every
/// path that answers (success, refusal, parse error, unsupported version) is counted the same way and none is missed.
/// A fixed table of atomics: counting allocates nothing.
/// </summary>
public sealed class PortMappingAnswers
{
    public const byte OtherOpcode = 3;
    public const ushort OtherResult = 15;

    private const int Opcodes = OtherOpcode + 1;
    private const int Results = OtherResult + 1;
    private readonly long[] _counts = new long[2 * Opcodes * Results];

    /// <summary>Counts one answer (a NAT-PMP or PCP response datagram as written).</summary>
    internal void Count(ReadOnlySpan<byte> answer)
    {
        if (answer.Length < 4)
            return;
        PortMappingProtocol protocol;
        int result;
        if (answer[0] == NatPmpMessages.Version)
        {
            protocol = PortMappingProtocol.NatPmp;
            result = BinaryPrimitives.ReadUInt16BigEndian(answer[2..]);
        }
        else
        {
            protocol = PortMappingProtocol.Pcp;
            result = answer[3];
        }
        var opcode = Math.Min(answer[1] & 0x7F, OtherOpcode);
        Interlocked.Increment(ref _counts[Index(protocol, opcode, Math.Min(result, OtherResult))]);
    }

    /// <summary>Every (protocol, opcode, result) that was answered at least once, with its count.</summary>
    public IReadOnlyList<PortMappingAnswerCount> Snapshot()
    {
        var counts = new List<PortMappingAnswerCount>();
        foreach (var protocol in (ReadOnlySpan<PortMappingProtocol>)[PortMappingProtocol.NatPmp, PortMappingProtocol.Pcp])
        {
            for (var opcode = 0; opcode < Opcodes; opcode++)
            {
                for (var result = 0; result < Results; result++)
                {
                    var count = Interlocked.Read(ref _counts[Index(protocol, opcode, result)]);
                    if (count > 0)
                        counts.Add(new PortMappingAnswerCount(protocol, (byte)opcode, (ushort)result, count));
                }
            }
        }
        return counts;
    }

    /// <summary>The opcode's name for a label: NAT-PMP 0–2, PCP ANNOUNCE/MAP/PEER, else "other".</summary>
    public static string OpcodeName(PortMappingProtocol protocol, byte opcode) => (protocol, opcode) switch
    {
        (PortMappingProtocol.NatPmp, 0) => "public_address",
        (PortMappingProtocol.NatPmp, 1) => "map_udp",
        (PortMappingProtocol.NatPmp, 2) => "map_tcp",
        (PortMappingProtocol.Pcp, (byte)PcpOpcode.Announce) => "announce",
        (PortMappingProtocol.Pcp, (byte)PcpOpcode.Map) => "map",
        (PortMappingProtocol.Pcp, (byte)PcpOpcode.Peer) => "peer",
        _ => "other",
    };

    /// <summary>The result code's RFC name in snake case (PCP's USER_EX_QUOTA is "user_exceeded_quota"), else "other".</summary>
    public static string ResultName(PortMappingProtocol protocol, ushort result)
    {
        string? name = protocol == PortMappingProtocol.NatPmp
            ? (Enum.IsDefined((NatPmpResultCode)result) ? ((NatPmpResultCode)result).ToString() : null)
            : (result <= byte.MaxValue && Enum.IsDefined((PcpResultCode)result) ? ((PcpResultCode)result).ToString() : null);
        return name is null ? "other" : SnakeCase(name);
    }

    private static int Index(PortMappingProtocol protocol, int opcode, int result) =>
        (((int)protocol * Opcodes) + opcode) * Results + result;

    private static string SnakeCase(string pascal)
    {
        var builder = new System.Text.StringBuilder(pascal.Length + 8);
        for (var i = 0; i < pascal.Length; i++)
        {
            if (char.IsUpper(pascal[i]) && i > 0)
                builder.Append('_');
            builder.Append(char.ToLowerInvariant(pascal[i]));
        }
        return builder.ToString();
    }
}
