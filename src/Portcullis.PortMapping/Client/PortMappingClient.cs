using System.Net;
using System.Net.Sockets;
using Portcullis.PortMapping.Pcp;

// Not "…PortMapping.Client": a namespace of that name hides the tests' PcpVectors.Client constant (using static).
namespace Portcullis.PortMapping.ClientSide;

/// <summary>
/// Asks the gateway for one mapping at a time, over UDP to GATEWAY:5351 (through the tunnel, by the routes):
///   1. PCP MAP first; a version-0 "unsupported version" answer switches this client to NAT-PMP for good
///   2. each request is sent up to <see cref="PortMappingClientOptions.MaxAttempts"/> times, the wait doubling
///   3. only a datagram from the gateway's address and port that answers this very request counts; anything else is
///      ignored and the wait goes on, so a stale answer to an earlier request is never taken for the current one
/// Not thread-safe: one exchange at a time (the port keeper is serial). Control plane: small allocations are fine.
/// </summary>
public sealed class PortMappingClient : IDisposable
{
    private readonly PortMappingClientOptions _options;
    private readonly TimeProvider _time;
    private readonly IPEndPoint _server;
    private readonly byte[] _send = new byte[PcpMessages.MaxMessageSize];
    private readonly byte[] _receive = new byte[PcpMessages.MaxMessageSize];
    private Socket? _socket;
    private bool _natPmp;

    public PortMappingClient(PortMappingClientOptions options, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(options.Gateway);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.MaxAttempts);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.InitialTimeout, TimeSpan.Zero);
        _options = options;
        _time = time ?? TimeProvider.System;
        _server = new IPEndPoint(options.Gateway, options.Port);
        _natPmp = options.NatPmpOnly;
    }

    /// <summary>The protocol the next request will use.</summary>
    public MappingWire Wire => _natPmp ? MappingWire.NatPmp : MappingWire.Pcp;

    /// <summary>Creates, refreshes (same request again) or, with lifetime 0, deletes a mapping.</summary>
    public async Task<MappingAnswer> MapAsync(ClientMapRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!_natPmp && request.InternalPort != 0)
        {
            var (answer, versionRefused) = await ExchangeAsync(MappingWire.Pcp, request, cancellationToken).ConfigureAwait(false);
            if (!versionRefused)
                return answer;
            _natPmp = true;
        }
        // NAT-PMP cannot carry remote-peer filters: a mapping open to everyone is not what was asked for.
        if (request.Filters.Count > 0 && request.LifetimeSeconds != 0)
        {
            return new MappingAnswer(MappingOutcome.Refused, MappingWire.Pcp, (int)PcpResultCode.UnsupportedOption, 0,
                request.InternalPort, 0, null, 0);
        }
        return (await ExchangeAsync(MappingWire.NatPmp, request, cancellationToken).ConfigureAwait(false)).Answer;
    }

    /// <summary>
    /// Asks only for the server's epoch (PCP ANNOUNCE, or NAT-PMP's public-address request): a cheap probe that tells
    /// a restarted gateway from a live one. Null when nothing answered.
    /// </summary>
    public async Task<uint?> EpochAsync(CancellationToken cancellationToken)
    {
        if (!_natPmp)
        {
            var (answer, versionRefused) = await ExchangeAsync(MappingWire.Pcp, null, cancellationToken).ConfigureAwait(false);
            if (!versionRefused)
                return answer.Outcome == MappingOutcome.Granted ? answer.Epoch : null;
            _natPmp = true;
        }
        var natPmp = (await ExchangeAsync(MappingWire.NatPmp, null, cancellationToken).ConfigureAwait(false)).Answer;
        return natPmp.Outcome == MappingOutcome.Granted ? natPmp.Epoch : null;
    }

    public void Dispose()
    {
        _socket?.Dispose();
        _socket = null;
    }

    /// <summary>One request, retransmitted until answered: a map when <paramref name="request"/> is set, else an epoch probe.</summary>
    private async Task<(MappingAnswer Answer, bool VersionRefused)> ExchangeAsync(MappingWire wire, ClientMapRequest? request, CancellationToken cancellationToken)
    {
        var timeout = _options.InitialTimeout;
        for (var attempt = 0; attempt < _options.MaxAttempts; attempt++, timeout *= 2)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var started = _time.GetTimestamp();
            try
            {
                var socket = Socket();
                var source = ((IPEndPoint)socket.LocalEndPoint!).Address;
                var length = (wire, request) switch
                {
                    (MappingWire.Pcp, null) => PcpClientCodec.WriteAnnounceRequest(_send, source),
                    (MappingWire.Pcp, _) => PcpClientCodec.WriteMapRequest(_send, request.Nonce.Span, request.Protocol, request.InternalPort,
                        request.SuggestedExternalPort, request.LifetimeSeconds, source, request.Filters),
                    (_, null) => NatPmpClientCodec.WritePublicAddressRequest(_send),
                    _ => NatPmpClientCodec.WriteMapRequest(_send, request.Protocol, request.InternalPort, request.SuggestedExternalPort, request.LifetimeSeconds),
                };
                await socket.SendToAsync(_send.AsMemory(0, length), SocketFlags.None, _server, cancellationToken).ConfigureAwait(false);
                var result = await ReceiveAsync(socket, wire, request, timeout, cancellationToken).ConfigureAwait(false);
                if (result is { } found)
                    return found;
            }
            catch (SocketException)
            {
                // No route yet, or an ICMP error for an earlier datagram: this attempt is lost; wait it out, go on.
                Dispose();
                var left = timeout - _time.GetElapsedTime(started);
                if (left > TimeSpan.Zero)
                    await Task.Delay(left, _time, cancellationToken).ConfigureAwait(false);
            }
        }
        return (MappingAnswer.None(wire), false);
    }

    private async Task<(MappingAnswer, bool)?> ReceiveAsync(Socket socket, MappingWire wire, ClientMapRequest? request, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var wait = new CancellationTokenSource(timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(wait.Token, cancellationToken);
        EndPoint any = new IPEndPoint(_server.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
        while (true)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await socket.ReceiveFromAsync(_receive, SocketFlags.None, any, linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return null;
            }
            if (!FromGateway(received.RemoteEndPoint))
                continue;
            var datagram = _receive.AsSpan(0, received.ReceivedBytes);
            if (wire == MappingWire.Pcp && PcpClientCodec.IsVersionRefusal(datagram))
                return (MappingAnswer.None(wire), true);
            if (request is null)
            {
                var epoch = 0u;
                var probed = wire == MappingWire.Pcp
                    ? PcpClientCodec.TryReadAnnounce(datagram, out epoch)
                    : NatPmpClientCodec.TryReadPublicAddress(datagram, out epoch, out _);
                if (probed)
                    return (new MappingAnswer(MappingOutcome.Granted, wire, 0, epoch, 0, 0, null, 0), false);
                continue;
            }
            var matched = wire == MappingWire.Pcp
                ? PcpClientCodec.TryReadMapResponse(datagram, request.Nonce.Span, request.Protocol, request.InternalPort, out var answer)
                : NatPmpClientCodec.TryReadMapResponse(datagram, request.Protocol, request.InternalPort, out answer);
            if (matched)
                return (answer, false);
        }
    }

    private bool FromGateway(EndPoint remote) =>
        remote is IPEndPoint source && source.Port == _server.Port
        && (source.Address.IsIPv4MappedToIPv6 ? source.Address.MapToIPv4() : source.Address).Equals(_server.Address);

    /// <summary>
    /// A socket connected to the gateway: the kernel then picks the tunnel address as the source (PCP's client
    /// address field must equal it) and delivers datagrams from the gateway's address and port only.
    /// </summary>
    private Socket Socket()
    {
        if (_socket is not null)
            return _socket;
        var socket = new Socket(_server.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            socket.Connect(_server);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        _socket = socket;
        return socket;
    }
}
