using Microsoft.Extensions.Logging;
using Portcullis.Core.Io;
using Portcullis.Core.Net;
using Portcullis.Core.RateLimiting;
using Portcullis.WireGuard.Cookies;
using Portcullis.WireGuard.Crypto;
using Portcullis.WireGuard.Noise;

namespace Portcullis.WireGuard.Device;

/// <summary>
/// A WireGuard interface in user space: a TUN device, a UDP bind, peers, and the pipelines between them
/// (Send.cs, Receive.cs, Handshakes.cs). Configured through <see cref="Uapi.IUapiDevice"/> (Config.cs), so stock
/// `wg` drives it. Threads: TUN reader, UDP receiver, crypto workers, ordered sender, ordered TUN writer,
/// handshake worker; timers on the injected TimeProvider.
/// </summary>
public sealed partial class WireGuardDevice : IDisposable
{
    private readonly IBindFactory _bindFactory;
    private readonly long _startTimestamp;
    private readonly List<Thread> _threads = [];
    private readonly WorkQueue<PacketBatch> _cryptoQueue;
    private readonly WorkQueue<PacketBatch> _sendQueue;
    private readonly WorkQueue<PacketBatch> _writeQueue;
    private readonly WorkQueue<PacketBatch> _outboundPool;
    private readonly WorkQueue<PacketBatch> _inboundPool;
    private volatile IBind? _bind;
    private volatile bool _up;
    private int _disposed;

    public WireGuardDevice(ITun tun, IBindFactory bindFactory, ILogger logger, DeviceOptions? options = null,
        TimeProvider? time = null, IWireGuardCrypto? crypto = null)
    {
        ArgumentNullException.ThrowIfNull(tun);
        Tun = tun;
        _bindFactory = bindFactory;
        Log = logger;
        Options = options ?? new DeviceOptions();
        if (Options.Workers < 1)
            throw new ArgumentOutOfRangeException(nameof(options), "Workers must be at least 1.");
        if (tun.Mtu > DeviceLimits.MaxMtu)
            throw new ArgumentOutOfRangeException(nameof(tun), $"MTU {tun.Mtu} is above the largest supported, {DeviceLimits.MaxMtu}.");
        Time = time ?? TimeProvider.System;
        Crypto = crypto ?? new OpenSslCrypto();
        _startTimestamp = Time.GetTimestamp();
        Noise = new NoiseEngine(Crypto);
        CookieChecker = new CookieChecker(Crypto);
        Indices = new IndexTable(Crypto);
        HandshakeLimiter = new SourceRateLimiter();

        _cryptoQueue = new WorkQueue<PacketBatch>(DeviceLimits.BatchesPerDirection * 2);
        _sendQueue = new WorkQueue<PacketBatch>(DeviceLimits.BatchesPerDirection);
        _writeQueue = new WorkQueue<PacketBatch>(DeviceLimits.BatchesPerDirection);
        _outboundPool = new WorkQueue<PacketBatch>(DeviceLimits.BatchesPerDirection);
        _inboundPool = new WorkQueue<PacketBatch>(DeviceLimits.BatchesPerDirection);
        for (var i = 0; i < DeviceLimits.BatchesPerDirection; i++)
        {
            _outboundPool.Add(new PacketBatch(outbound: true));
            _inboundPool.Add(new PacketBatch(outbound: false));
        }
        _graveyardTimer = Time.CreateTimer(static s => ((WireGuardDevice)s!).BuryRetiredKeypairs(false), this,
            GraveyardPeriod, GraveyardPeriod);
    }

    public string Name => Tun.Name;
    public DeviceOptions Options { get; }
    public DeviceCounters Counters { get; } = new();

    /// <summary>
    /// A peer's first authenticated handshake after none. Raised on a pipeline thread under the peer's session lock, so
    /// a peer's starts and ends arrive in the order its session changed: handlers must be quick (queue the event) and
    /// must not call back into the device.
    /// </summary>
    public event Action<PeerSessionEvent>? SessionEstablished;

    /// <summary>
    /// A peer went quiet for <see cref="DeviceOptions.SessionTimeout"/>, its keys expired, or it was removed. Raised as
    /// <see cref="SessionEstablished"/> is, under the same lock.
    /// </summary>
    public event Action<PeerSessionEvent>? SessionEnded;

    /// <summary>
    /// The TUN device ended without <see cref="Dispose"/>: its interface was deleted. Nothing more can pass; the owner
    /// should dispose the device. Raised once, on the TUN reader thread.
    /// </summary>
    public event Action? TunClosed;

    internal ITun Tun { get; }
    internal ILogger Log { get; }
    internal TimeProvider Time { get; }
    internal IWireGuardCrypto Crypto { get; }
    internal NoiseEngine Noise { get; }
    internal CookieChecker CookieChecker { get; }
    internal IndexTable Indices { get; }
    internal AllowedIps<Peer> AllowedIps { get; } = new();
    internal SourceRateLimiter HandshakeLimiter { get; }
    internal bool IsUp => _up;

    /// <summary>Monotonic time since the device was created.</summary>
    internal TimeSpan Now => Time.GetElapsedTime(_startTimestamp);

    public ushort ListenPort => _bind?.Port ?? _configuredPort;

    /// <summary>Opens the UDP bind and starts every pipeline thread.</summary>
    public void Up()
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        lock (_configGate)
        {
            if (_up)
                return;
            _up = true;
            OpenBind(_configuredPort);
            Start(ReadFromTun, "tun-read");
            Start(SendBatches, "send");
            Start(WriteBatches, "tun-write");
            Start(ProcessHandshakes, "handshake");
            for (var i = 0; i < Options.Workers; i++)
            {
                var worker = i;
                Start(() => RunCryptoWorker(worker), $"crypto-{worker}");
            }
        }
        Log.Up(Name, ListenPort);
    }

    private void Start(Action body, string name)
    {
        var thread = new Thread(() =>
        {
            try
            {
                body();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // A pipeline thread must never take the process down silently; the device stops being useful, so say so.
                Log.PipelineFailed(Name, name, e);
            }
        })
        { IsBackground = true, Name = $"{Name}/{name}" };
        lock (_threads)
            _threads.Add(thread);
        thread.Start();
    }

    /// <summary>Opens a bind on <paramref name="port"/> and starts its receiver; the previous bind is closed.</summary>
    private void OpenBind(ushort port)
    {
        var fresh = _bindFactory.Open(port, _fwmark);
        var old = _bind;
        _bind = fresh;
        old?.Dispose();
        Start(() => ReceiveFromBind(fresh), $"udp-recv-{fresh.Port}");
    }

    // The flag flip and the event are one step under the peer's session lock: a handshake racing the idle timer must
    // not queue its start after the timer's end when the flag ended up off (forwards live for a peer that is gone), nor
    // its end after a start when the flag ended up on (a live peer refused).
    internal void RaiseSessionEstablished(Peer peer)
    {
        lock (peer.SessionGate)
        {
            if (!peer.MarkSessionLive())
                return;
            Log.SessionEstablished(Name, DeviceLog.Short(peer.PublicKeyBytes));
            SessionEstablished?.Invoke(new PeerSessionEvent(peer.PublicKeyBytes, peer.Endpoint, null));
        }
    }

    internal void EndSession(Peer peer, SessionEndReason reason)
    {
        lock (peer.SessionGate)
        {
            if (!peer.MarkSessionEnded())
                return;
            Log.SessionEnded(Name, DeviceLog.Short(peer.PublicKeyBytes), reason);
            SessionEnded?.Invoke(new PeerSessionEvent(peer.PublicKeyBytes, peer.Endpoint, reason));
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        var wasUp = _up;
        _up = false;
        _graveyardTimer.Dispose();
        lock (_configGate)
        {
            foreach (var peer in _peers.Values)
            {
                peer.Timers.Dispose();
                EndSession(peer, SessionEndReason.DeviceClosed);
            }
        }
        // Closing the queues and the I/O wakes every thread; each drains and exits.
        _cryptoQueue.Close();
        _sendQueue.Close();
        _writeQueue.Close();
        _outboundPool.Close();
        _inboundPool.Close();
        _handshakeQueue.Close();
        _bind?.Dispose();
        Tun.Dispose();
        Thread[] all;
        lock (_threads)
            all = [.. _threads];
        foreach (var t in all)
        {
            if (t != Thread.CurrentThread)
                t.Join(TimeSpan.FromSeconds(5));
        }
        lock (_configGate)
        {
            var displaced = new List<Keypair>();
            foreach (var peer in _peers.Values)
            {
                peer.Keypairs.Clear(displaced);
                peer.Handshake.Clear();
            }
            RetireKeypairs(displaced);
        }
        BuryRetiredKeypairs(all: true);
        while (_outboundPool.TryTake(out var batch) || _inboundPool.TryTake(out batch))
            batch.Dispose();
        if (wasUp)
            Log.Down(Name);
    }
}
