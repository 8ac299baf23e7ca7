using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Portcullis.PortMapping;
using Portcullis.PortMapping.ClientSide;
using Portcullis.PortMapping.Server;

namespace Portcullis.Fuzz.Targets.PortMapping;

/// <summary>
/// The harness both request targets share: a datagram from a client at the gateway, parsed by the protocol's own parser
/// (<see cref="Parse"/>), then handed to the whole server minus its socket (dispatcher, front end, policy call,
/// response) when its first byte routes it to this protocol. Asserts for both: exactly the dropped requests go
/// unanswered; an answer to a map request carries the epoch, and the policy's grant or refusal.
/// </summary>
/// <typeparam name="TParsed">What the protocol's parser made of the input, handed on to <see cref="CheckAnswer"/>.</typeparam>
internal abstract class ServerRequestTarget<TParsed> : FuzzTarget
{
    protected static readonly IPAddress Client = IPAddress.Parse("10.99.0.2");
    private readonly PortMappingDispatcher _dispatcher;
    private readonly byte[] _response = new byte[PortMappingDispatcher.MaxResponseSize];

    protected ServerRequestTarget()
    {
        var options = new PortMappingServerOptions { ListenAddress = IPAddress.Parse("10.99.0.1") };
        _dispatcher = new PortMappingDispatcher(Authority, options, new PortMappingCounters(), NullLogger.Instance);
    }

    protected ScriptedAuthority Authority { get; } = new();

    public sealed override void Run(ReadOnlySpan<byte> input)
    {
        Authority.Forget();
        var parsed = Parse(input, out var dropped);
        if (!IsThisProtocol(input))
            return; // the other protocol's dispatch: its own target
        var length = _dispatcher.Handle(input, Client, _response);
        Check.That((length == 0) == dropped, "exactly the dropped requests go unanswered");
        if (length > 0)
            CheckAnswer(input, parsed, _response.AsSpan(0, length));
    }

    /// <summary>Parses as the server does, calling <see cref="FuzzTarget.Accept"/> and checking what a valid request holds.</summary>
    protected abstract TParsed Parse(ReadOnlySpan<byte> input, out bool dropped);

    /// <summary>Whether the dispatcher sends this input to the protocol under test (it routes by the version byte).</summary>
    protected abstract bool IsThisProtocol(ReadOnlySpan<byte> input);

    /// <summary>Checks the server's answer to an input it did not drop.</summary>
    protected abstract void CheckAnswer(ReadOnlySpan<byte> input, TParsed parsed, ReadOnlySpan<byte> response);

    /// <summary>
    /// A map answer as our client read it: with the policy's epoch; granted as the policy granted when a grant was to be
    /// seen (<paramref name="grantVisible"/>: not a delete, nothing that narrows it), refused when the policy refused.
    /// </summary>
    protected void CheckMapOutcome(MappingAnswer answer, bool grantVisible, Func<MapResult, bool> grantMatches, string grantProperty)
    {
        Check.That(answer.Epoch == Authority.EpochSeconds, "the answer carries the epoch");
        if (Authority.LastResult is { Status: MapStatus.Success } granted && grantVisible)
            Check.That(answer.Outcome == MappingOutcome.Granted && grantMatches(granted), grantProperty);
        else if (Authority.LastResult is { Status: not MapStatus.Success })
            Check.That(answer.Outcome == MappingOutcome.Refused, "a refusal reads as one");
    }
}
