using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Portcullis.PortMapping.NatPmp;
using Portcullis.PortMapping.Pcp;

namespace Portcullis.PortMapping.Server;

/// <summary>
/// The NAT-PMP/PCP server on the gateway's tunnel address, UDP 5351.
///   1. StartAsync binds one UDP socket to the tunnel address (so answers leave from the address asked)
///   2. the receive loop (a thread of its own) reads a datagram (dropping one that did not arrive on the tunnel, when told which that is) and
///      posts it to the workers (<see cref="RequestWorkers"/>: clients concurrently, a client's requests in order)
///   3. a worker hands it to the dispatcher (parse → validate → policy → response) and sends the response, if any,
///      back to the datagram's source; bad input is counted, never fatal to the loop
/// Control plane: System.Net.Sockets and an allocation or two per request are fine here.
/// </summary>
public sealed class PortMappingServer : IAsyncDisposable
{
    private const int ReceiveBufferSize = 65536; // a whole UDP datagram, so nothing is truncated before judging it

    private readonly PortMappingServerOptions _options;
    private readonly ILogger _logger;
    private readonly PortMappingDispatcher _dispatcher;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _gate = new();
    private Socket? _socket;
    private Task? _loop;
    private RequestWorkers? _workers;
    private bool _disposed;

    public PortMappingServer(IPortMappingAuthority authority, PortMappingServerOptions options, ILogger<PortMappingServer>? logger = null)
        : this(authority, options, new PortMappingCounters(), logger)
    {
    }

    /// <summary>
    /// A server that counts into <paramref name="counters"/>: a second server of the same gateway (its IPv6 tunnel
    /// address) adds to the first's figures, so the metrics count every port request once.
    /// </summary>
    public PortMappingServer(IPortMappingAuthority authority, PortMappingServerOptions options, PortMappingCounters counters, ILogger<PortMappingServer>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(counters);
        Counters = counters;
        ArgumentNullException.ThrowIfNull(authority);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(options.ListenAddress);
        ArgumentOutOfRangeException.ThrowIfNegative(options.Port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.Port, IPEndPoint.MaxPort);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.AnnouncePort);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.AnnouncePort, IPEndPoint.MaxPort);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.ConcurrentRequests);
        _options = options;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _dispatcher = new PortMappingDispatcher(authority, options, Counters, _logger);
    }

    public PortMappingCounters Counters { get; }

    /// <summary>The bound address and port (useful with <see cref="PortMappingServerOptions.Port"/> 0); null before start.</summary>
    public IPEndPoint? LocalEndPoint => _socket?.LocalEndPoint as IPEndPoint;

    /// <summary>
    /// Runs the request path once off the record (<see cref="PortMappingWarmUp"/>: a fresh server's first answer would
    /// otherwise be slow enough for a client to retry), then binds the socket and starts the receive loop. The socket is
    /// created on the calling thread before this returns, so a caller inside a network namespace
    /// (<c>NetworkNamespace.RunIn</c>) binds it in that namespace.
    /// Throws <see cref="SocketException"/> when the address cannot be bound (not configured yet, port taken).
    /// </summary>
    public Task StartAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_socket is not null)
                throw new InvalidOperationException("The server is already started.");
            PortMappingWarmUp.Run(_options);
            WarmSocketPath();
            var socket = Bind(_options.Port);
            socket.ReceiveTimeout = 1000;
            _socket = socket;
            var workers = new RequestWorkers(_options.ConcurrentRequests, PortMappingDispatcher.MaxResponseSize,
                (work, response) => Handle(socket, work, response));
            _workers = workers;
            _logger.Listening((IPEndPoint)socket.LocalEndPoint!, _options.EnablePcp);
            var stopping = _stopping.Token;
            _loop = Task.Factory.StartNew(() => ReceiveLoop(socket, workers, stopping), CancellationToken.None,
                TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }
        return Task.CompletedTask;
    }

    private Socket Bind(int port)
    {
        var socket = new Socket(_options.ListenAddress.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            if (_options.ArrivalInterfaceIndex is not null)
                socket.SetSocketOption(PacketInformationLevel(socket), SocketOptionName.PacketInformation, true);
            socket.Bind(new IPEndPoint(_options.ListenAddress, port));
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    // The socket half of the warm-up (PortMappingWarmUp has the other): one datagram from a socket of our own to another,
    // received and sent as the loop does, so the first client's datagram does not pay for compiling the receive.
    // Best effort: where the address does not deliver to itself (loopback down), the first datagram pays after all.
    private void WarmSocketPath()
    {
        try
        {
            using var receiver = Bind(0);
            using var sender = Bind(0);
            receiver.ReceiveTimeout = 1000;
            var buffer = new byte[NatPmpMessages.PublicAddressRequestSize];
            sender.SendTo(buffer, SocketFlags.None, receiver.LocalEndPoint!);
            Receive(receiver, buffer);
        }
        catch (SocketException)
        {
        }
    }

    /// <summary>
    /// Tells each client the epoch after a restart that lost state: an unsolicited PCP ANNOUNCE response and (to an IPv4
    /// client) a NAT-PMP public-address response, unicast to port <see cref="PortMappingServerOptions.AnnouncePort"/> —
    /// the multicast the RFCs describe does not cross a WireGuard tunnel. NAT-PMP has no IPv6, so an IPv6 client (of a
    /// server on an IPv6 address) gets the PCP ANNOUNCE alone. Returns the number of clients every datagram reached.
    /// </summary>
    public int Announce(IEnumerable<IPAddress> clients)
    {
        ArgumentNullException.ThrowIfNull(clients);
        var socket = _socket ?? throw new InvalidOperationException("The server is not started.");
        Span<byte> pcp = stackalloc byte[PcpMessages.HeaderSize];
        Span<byte> natPmp = stackalloc byte[NatPmpMessages.PublicAddressResponseSize];
        var reached = 0;
        foreach (var client in clients)
        {
            var epoch = _dispatcher.Authority.EpochSeconds;
            PcpResponse.WriteAnnounce(pcp, epoch);
            var destination = new IPEndPoint(client, _options.AnnouncePort);
            var sentPcp = TrySend(socket, pcp, destination);
            if (sentPcp)
                Counters.OnAnnouncement();
            var sentNatPmp = true;
            if (client.AddressFamily == AddressFamily.InterNetwork)
            {
                var publicAddress = _dispatcher.Authority.GetPublicAddress(client);
                var code = MapStatusCodes.ToNatPmpPublicAddress(publicAddress);
                NatPmpResponse.WritePublicAddress(natPmp, code, epoch, code == NatPmpResultCode.Success ? publicAddress.ExternalAddress : null);
                sentNatPmp = TrySend(socket, natPmp, destination);
                if (sentNatPmp)
                    Counters.OnAnnouncement();
            }
            if (sentPcp && sentNatPmp)
                reached++;
        }
        _logger.Announced(reached);
        return reached;
    }

    public async ValueTask DisposeAsync()
    {
        Task? loop;
        lock (_gate)
        {
            if (_disposed)
                return;
            _disposed = true;
            loop = _loop;
        }
        await _stopping.CancelAsync().ConfigureAwait(false);
        _socket?.Dispose();
        if (loop is not null)
            await loop.ConfigureAwait(false);
        _workers?.Dispose();
        _stopping.Dispose();
        if (_socket is not null)
            _logger.Stopped();
    }

    // A thread of its own, blocking in the receive: a loop on the thread pool waits for a pool thread after every
    // datagram, and in a busy process (the gateway's admin API, a test run) that wait can pass a client's retry.
    private void ReceiveLoop(Socket socket, RequestWorkers workers, CancellationToken stopping)
    {
        var buffer = new byte[ReceiveBufferSize];
        while (!stopping.IsCancellationRequested)
        {
            int receivedBytes;
            EndPoint remote;
            try
            {
                (receivedBytes, remote, var foreign) = Receive(socket, buffer);
                if (foreign)
                {
                    Counters.OnForeignInterface();
                    continue;
                }
            }
            catch (Exception e) when (stopping.IsCancellationRequested || e is ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock)
            {
                continue; // ReceiveTimeout: a look at the stop flag, in case closing the socket did not wake us
            }
            catch (SocketException e)
            {
                // E.g. an ICMP error reported for an earlier send; the socket itself is still good.
                _logger.ReceiveFailed(e.SocketErrorCode.ToString());
                continue;
            }

            var source = (IPEndPoint)remote;
            var client = source.Address.IsIPv4MappedToIPv6 ? source.Address.MapToIPv4() : source.Address;
            if (!workers.TryPost(client, source, buffer.AsSpan(0, receivedBytes)))
            {
                // A client with a full backlog is flooding; the others are served on.
                Counters.OnReceived();
                Counters.OnDropped();
            }
        }
    }

    /// <summary>One datagram, blocking; <c>Foreign</c> when it did not arrive on the interface we were told to serve.</summary>
    private (int Bytes, EndPoint Remote, bool Foreign) Receive(Socket socket, byte[] buffer)
    {
        EndPoint remote = new IPEndPoint(socket.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
        if (_options.ArrivalInterfaceIndex is { } arrival)
        {
            var flags = SocketFlags.None;
            var bytes = socket.ReceiveMessageFrom(buffer, 0, buffer.Length, ref flags, ref remote, out var information);
            return (bytes, remote, information.Interface != arrival);
        }
        return (socket.ReceiveFrom(buffer, SocketFlags.None, ref remote), remote, false);
    }

    private void Handle(Socket socket, in RequestWorkers.Work work, byte[] response)
    {
        try
        {
            var length = _dispatcher.Handle(work.Datagram, work.Source.Address, response);
            if (length > 0 && TrySend(socket, response.AsSpan(0, length), work.Source))
                Counters.OnAnswered();
        }
        catch (Exception e)
        {
            // A bug in handling one datagram must not stop the server for everyone else.
            _logger.LoopFailed(e.GetType().Name);
        }
    }

    private static SocketOptionLevel PacketInformationLevel(Socket socket) =>
        socket.AddressFamily == AddressFamily.InterNetworkV6 ? SocketOptionLevel.IPv6 : SocketOptionLevel.IP;

    private bool TrySend(Socket socket, ReadOnlySpan<byte> datagram, IPEndPoint destination)
    {
        try
        {
            socket.SendTo(datagram, SocketFlags.None, destination);
            return true;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            Counters.OnSendFailure();
            _logger.SendFailed(e is SocketException s ? s.SocketErrorCode.ToString() : "socket closed");
            return false;
        }
    }
}
