using Portcullis.PortMapping;
using Portcullis.PortMapping.ClientSide;
using Portcullis.PortMapping.NatPmp;

namespace Portcullis.Fuzz.Targets.PortMapping;

/// <summary>
/// A datagram at the client's NAT-PMP socket, read as the answer to its map request for tcp:8080 and as a public
/// address announcement, with the epoch fed to the lost-state tracker. Asserts: what reads as an answer is exactly the
/// bytes the gateway's writer produces for the fields read (a round trip), and a grant never names port 0.
/// </summary>
internal sealed class NatPmpAnswerTarget : FuzzTarget
{
    private const ushort InternalPort = 8080;

    public override string Name => "natpmp-answer";


    public override void Run(ReadOnlySpan<byte> input)
    {
        var tracker = new EpochTracker();
        var now = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);
        tracker.Observe(100, now);
        var written = new byte[NatPmpMessages.MapResponseSize];

        foreach (var protocol in (ReadOnlySpan<MappingProtocol>)[MappingProtocol.Tcp, MappingProtocol.Udp])
        {
            if (!NatPmpClientCodec.TryReadMapResponse(input, protocol, InternalPort, out var answer))
                continue;
            Accept();
            Check.That(answer.Wire == MappingWire.NatPmp && answer.InternalPort == InternalPort, "an answer is NAT-PMP and for our port");
            Check.That(answer.Outcome != MappingOutcome.Granted || answer.LifetimeSeconds == 0 || answer.ExternalPort != 0, "a grant names a port");
            Check.That((answer.Outcome == MappingOutcome.Granted) == (answer.ResultCode == 0), "result 0 exactly for a grant");
            tracker.Observe(answer.Epoch, now.AddSeconds(5));
            var opcode = protocol == MappingProtocol.Udp ? NatPmpOpcode.MapUdp : NatPmpOpcode.MapTcp;
            var result = answer.Outcome == MappingOutcome.Granted ? NatPmpResultCode.Success : (NatPmpResultCode)input[3];
            if (input[2] != 0 || (answer.Outcome == MappingOutcome.Refused && input[3] == 0))
                continue; // the high byte of a result code, or a grant of port 0 read as a refusal: no writer field holds it
            NatPmpResponse.WriteMap(written, opcode, result, answer.Epoch, answer.InternalPort, answer.ExternalPort, answer.LifetimeSeconds);
            Check.That(input.SequenceEqual(written), "the answer is what the gateway writes for the fields read");
        }

        if (NatPmpClientCodec.TryReadPublicAddress(input, out var epoch, out var address))
        {
            tracker.Observe(epoch, now.AddSeconds(10));
            if (address is not null)
            {
                var announcement = new byte[NatPmpMessages.PublicAddressResponseSize];
                NatPmpResponse.WritePublicAddress(announcement, NatPmpResultCode.Success, epoch, address);
                Check.That(input.SequenceEqual(announcement), "a public address announcement is what the gateway writes for it");
                Check.That(address.GetAddressBytes().Length == 4, "the public address is IPv4");
            }
        }
        Check.That(!PcpClientCodec.IsVersionRefusal(input) || input.Length >= 4, "a version refusal is at least 4 bytes");
    }
}
