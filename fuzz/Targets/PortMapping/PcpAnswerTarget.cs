using Portcullis.PortMapping;
using Portcullis.PortMapping.ClientSide;
using Portcullis.PortMapping.Pcp;

namespace Portcullis.Fuzz.Targets.PortMapping;

/// <summary>
/// A datagram at the client's PCP socket, read as the answer to its MAP request (a fixed nonce, tcp:8080), as an
/// ANNOUNCE and as a version refusal. Asserts: an answer has our nonce, protocol and port; a 60-byte grant is exactly
/// what the gateway's writer produces for the fields read (reserved bits aside); a grant names a port and an address.
/// </summary>
internal sealed class PcpAnswerTarget : FuzzTarget
{
    public static readonly byte[] Nonce = [0x6e, 0x6f, 0x6e, 0x63, 0x65, 0x2d, 0x66, 0x75, 0x7a, 0x7a, 0x30, 0x31];
    private const ushort InternalPort = 8080;

    public override string Name => "pcp-answer";


    public override void Run(ReadOnlySpan<byte> input)
    {
        var tracker = new EpochTracker();
        var now = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);
        tracker.Observe(100, now);

        if (PcpClientCodec.TryReadMapResponse(input, Nonce, MappingProtocol.Tcp, InternalPort, out var answer))
        {
            Accept();
            Check.That(input.Length >= PcpMessages.MapResponseSize, "a MAP answer holds the MAP data");
            Check.That(input[PcpMessages.HeaderSize..(PcpMessages.HeaderSize + PcpMessages.NonceSize)].SequenceEqual(Nonce), "a MAP answer has our nonce");
            Check.That(answer.Wire == MappingWire.Pcp && answer.InternalPort == InternalPort, "an answer is PCP and for our port");
            Check.That((answer.Outcome == MappingOutcome.Granted) == (answer.ResultCode == 0), "result 0 exactly for a grant");
            tracker.Observe(answer.Epoch, now.AddSeconds(5));
            if (answer.Outcome == MappingOutcome.Granted)
            {
                Check.That(answer.ExternalAddress is not null, "a grant names an address");
                Check.That(answer.LifetimeSeconds == 0 || answer.ExternalPort != 0, "a grant names a port");
                if (input.Length == PcpMessages.MapResponseSize)
                {
                    var written = new byte[PcpMessages.MapResponseSize];
                    var data = new PcpMapData(Nonce, (byte)MappingProtocol.Tcp, InternalPort, 0, null);
                    PcpResponse.WriteMap(written, data, answer.LifetimeSeconds, answer.Epoch, answer.ExternalPort, answer.ExternalAddress);
                    var received = input.ToArray();
                    ClearReserved(received);
                    Check.That(received.AsSpan().SequenceEqual(written), "a grant is what the gateway writes for the fields read");
                }
            }
        }

        if (PcpClientCodec.TryReadAnnounce(input, out var epoch))
        {
            Check.That(input.Length >= PcpMessages.HeaderSize && input[3] == 0, "an ANNOUNCE answer is a whole successful header");
            tracker.Observe(epoch, now.AddSeconds(10));
        }
        _ = PcpClientCodec.IsVersionRefusal(input);
    }

    private static void ClearReserved(Span<byte> response)
    {
        response[2] = 0;
        response[12..PcpMessages.HeaderSize].Clear();
        response.Slice(PcpMessages.HeaderSize + 13, 3).Clear();
    }
}
