using Microsoft.Extensions.Logging;
using Portcullis.Core.Io;
using Portcullis.Core.Time;
using Portcullis.Gateway.Store;
using Portcullis.WireGuard.Device;
using Portcullis.WireGuard.Uapi;

namespace Portcullis.Gateway.Hosting;

/// <summary>
/// What the gateway keeps of its peers beyond its own process, from a snapshot of the device every
/// <see cref="Period"/> and when a session starts (never per packet):
/// <list type="bullet">
/// <item>replay floors, in the store (<see cref="IReplayFloorStore"/>), for good: given back to the device before it
/// comes up, so an initiation captured before a restart stays refused after it;</item>
/// <item>endpoints, in <see cref="EndpointFile"/> under /run, for a crash: after one, the gateway handshakes with every
/// remembered peer at once, so a stock client that only sends keepalives (and would start a handshake only when its
/// session ages out, up to two minutes later) is back within seconds, static forwards included. The file is rewritten
/// when an endpoint changed and removed on a clean stop; it never reaches a log.</item>
/// </list>
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal sealed class PeerMemory : IAsyncDisposable
{
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(5);

    private readonly WireGuardDevice _device;
    private readonly IReplayFloorStore? _floors;
    private readonly string? _endpointPath;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Dictionary<string, byte[]> _storedFloors = new(StringComparer.Ordinal);
    private Dictionary<string, UdpEndpoint>? _writtenEndpoints;
    private readonly System.Threading.Channels.Channel<bool> _nudges =
        System.Threading.Channels.Channel.CreateBounded<bool>(new System.Threading.Channels.BoundedChannelOptions(1)
        {
            FullMode = System.Threading.Channels.BoundedChannelFullMode.DropWrite,
        });
    private Task? _loop;
    private bool _restored;

    /// <param name="floors">Where floors are kept; null keeps none.</param>
    /// <param name="endpointPath">The endpoint file; null remembers no endpoints.</param>
    public PeerMemory(WireGuardDevice device, IReplayFloorStore? floors, string? endpointPath, TimeProvider time, ILogger logger)
    {
        _device = device;
        _floors = floors;
        _endpointPath = endpointPath;
        _time = time;
        _logger = logger;
    }

    /// <summary>Gives the stored floors to the device. Call before the device comes up.</summary>
    public async Task RestoreFloorsAsync(CancellationToken cancellationToken)
    {
        if (_floors is null)
            return;
        var stored = await _floors.ListReplayFloorsAsync(cancellationToken).ConfigureAwait(false);
        var restored = 0;
        foreach (var (key, floor) in stored)
        {
            var publicKey = new byte[32];
            if (floor.Length != 12 || !Convert.TryFromBase64String(key, publicKey, out var length) || length != 32)
                continue;
            _device.RaiseReplayFloor(publicKey, floor);
            _storedFloors[key] = floor;
            restored++;
        }
        PeerMemoryLog.FloorsRestored(_logger, restored);
    }

    /// <summary>
    /// Points each peer the endpoint file remembers (and the device has: enabled peers) at its endpoint and starts a
    /// handshake with it. Call once the device is up and session events are handled. Returns how many were called.
    /// </summary>
    public int RestoreEndpoints()
    {
        if (_endpointPath is null)
            return 0;
        _restored = true;
        Dictionary<string, UdpEndpoint> remembered;
        int skipped;
        try
        {
            remembered = EndpointFile.Read(_endpointPath, out skipped);
        }
        catch (IOException e)
        {
            PeerMemoryLog.RestoreFailed(_logger, e);
            return 0;
        }
        var called = 0;
        foreach (var (key, endpoint) in remembered)
        {
            var publicKey = Convert.FromBase64String(key);
            // UpdateOnly: a peer removed or disabled since is not brought back.
            _device.Apply(new UapiSetRequest { Peers = [new UapiPeerChange { PublicKey = publicKey, UpdateOnly = true, Endpoint = endpoint }] });
            if (_device.InitiateHandshake(publicKey))
                called++;
        }
        if (remembered.Count > 0 || skipped > 0)
            PeerMemoryLog.EndpointsRestored(_logger, called, skipped);
        return called;
    }

    /// <summary>
    /// Keeps what changed every <see cref="Period"/>, and at once when a session starts (a peer that just connected is
    /// remembered before a crash can come), until disposed.
    /// </summary>
    public void Start()
    {
        _device.SessionEstablished += OnSessionEstablished;
        _loop = Task.Run(RunAsync);
    }

    // Raised under the peer's session lock: only a nudge here.
    private void OnSessionEstablished(PeerSessionEvent e) => _nudges.Writer.TryWrite(true);

    private async Task RunAsync()
    {
        try
        {
            while (!_stopping.IsCancellationRequested)
            {
                using (var round = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token))
                {
                    var nudged = _nudges.Reader.WaitToReadAsync(round.Token).AsTask();
                    await Task.WhenAny(nudged, Task.Delay(Period, _time, round.Token)).ConfigureAwait(false);
                    await round.CancelAsync().ConfigureAwait(false);
                }
                _stopping.Token.ThrowIfCancellationRequested();
                while (_nudges.Reader.TryRead(out _))
                {
                }
                await KeepAsync(_stopping.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
    }

    /// <summary>One round: rewrite the endpoint file if an endpoint changed, store floors that rose. Failures are logged.</summary>
    public async Task KeepAsync(CancellationToken cancellationToken)
    {
        try
        {
            var records = _device.SnapshotPeers();
            KeepEndpoints(records);
            await KeepFloorsAsync(records, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or StoreException)
        {
            PeerMemoryLog.KeepFailed(_logger, e);
        }
    }

    private void KeepEndpoints(IReadOnlyList<PeerRecord> records)
    {
        if (_endpointPath is null)
            return;
        var current = new Dictionary<string, UdpEndpoint>(StringComparer.Ordinal);
        foreach (var record in records)
        {
            if (record.Endpoint is { } endpoint)
                current[Convert.ToBase64String(record.PublicKey)] = endpoint;
        }
        if (_writtenEndpoints is not null && Same(_writtenEndpoints, current))
            return;
        EndpointFile.Write(_endpointPath, current);
        _writtenEndpoints = current;
    }

    private async Task KeepFloorsAsync(IReadOnlyList<PeerRecord> records, CancellationToken cancellationToken)
    {
        if (_floors is null)
            return;
        var risen = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var record in records)
        {
            if (!record.ReplayFloor.AsSpan().ContainsAnyExcept((byte)0))
                continue;
            var key = Convert.ToBase64String(record.PublicKey);
            var known = risen.GetValueOrDefault(key) ?? _storedFloors.GetValueOrDefault(key);
            if (known is null || Tai64N.IsAfter(record.ReplayFloor, known))
                risen[key] = record.ReplayFloor;
        }
        if (risen.Count == 0)
            return;
        await _floors.RaiseReplayFloorsAsync(risen, cancellationToken).ConfigureAwait(false);
        foreach (var (key, floor) in risen)
            _storedFloors[key] = floor;
    }

    private static bool Same(Dictionary<string, UdpEndpoint> a, Dictionary<string, UdpEndpoint> b)
    {
        if (a.Count != b.Count)
            return false;
        foreach (var (key, endpoint) in a)
        {
            if (!b.TryGetValue(key, out var other) || other != endpoint)
                return false;
        }
        return true;
    }

    /// <summary>
    /// A clean stop: a last round for the floors, and the endpoint file goes (a stopped gateway leaves no record of
    /// where its peers were). A crash skips this, which is the point of the file.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        _device.SessionEstablished -= OnSessionEstablished;
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
            await _loop.ConfigureAwait(false);
        try
        {
            await KeepFloorsAsync(_device.SnapshotPeers(), CancellationToken.None).ConfigureAwait(false);
        }
        catch (StoreException e)
        {
            PeerMemoryLog.KeepFailed(_logger, e);
        }
        // Only once this run took the file over: a start that failed earlier leaves the memory to the next one.
        if (_endpointPath is not null && _restored)
            File.Delete(_endpointPath);
        _stopping.Dispose();
    }
}
