using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Portcullis.Gateway.Admin;
using Portcullis.Gateway.Configuration;
using Portcullis.Gateway.Fleet;
using Portcullis.Gateway.Forwarding;
using Portcullis.Gateway.Hosting;
using Portcullis.Gateway.Peers;
using Portcullis.Gateway.Store.Postgres;
using Portcullis.Gateway.Tests.Forwarding;
using Portcullis.Gateway.Tests.Hosting;

namespace Portcullis.Gateway.Tests.Fleet;

/// <summary>
/// One gateway of a fleet as the host builds it, without a kernel: the real fleet membership (shared PostgreSQL store,
/// change feed, presence) and operations, the real forwarding service over the in-memory table, a device double.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal sealed class FleetNode : IAsyncDisposable
{
    private FleetNode(string name, IPAddress address, FleetMember member, ForwardingPolicy policy)
    {
        Name = name;
        Address = address;
        Member = member;
        Service = new ForwardingService(Table, [address], policy, Time.Time, Time.Logger, new Random(1));
        Service.Start();
        Operations = new GatewayOperations(member.Store, new GatewayIdentity
        {
            Interface = "pc0",
            PublicKey = OperationsFixture.GatewayKey,
            ListenPort = 51820,
            TunnelAddress = IPAddress.Parse("10.99.0.1"),
            TunnelPrefix = IPNetwork.Parse("10.99.0.0/16"),
            Dns = [IPAddress.Parse("9.9.9.9")],
            PublicAddresses = [address],
            StartedUtc = DateTimeOffset.UnixEpoch,
        }, policy, Device, Service, Peers, Flows, NullLogger.Instance, new GatewayScope(name, [address]));
        member.CaughtUp += () => Interlocked.Increment(ref _caughtUp);
    }

    private int _caughtUp;

    public string Name { get; }
    public IPAddress Address { get; }
    public FleetMember Member { get; }
    public InMemoryForwardingTable Table { get; } = new();
    public (Microsoft.Extensions.Time.Testing.FakeTimeProvider Time, CapturingLogger<ForwardingService> Logger) Time { get; } =
        (new Microsoft.Extensions.Time.Testing.FakeTimeProvider(), new CapturingLogger<ForwardingService>());
    public ForwardingService Service { get; }
    public PeerDirectory Peers { get; } = new();
    public FakePeerDevice Device { get; } = new();
    public RecordingFlows Flows { get; } = new();
    public GatewayOperations Operations { get; }
    public int CaughtUpCount => Volatile.Read(ref _caughtUp);

    /// <summary>Joins the fleet at <paramref name="url"/>; <paramref name="attach"/> false leaves the feed unattached (changes wait).</summary>
    public static async Task<FleetNode> StartAsync(
        string url, string name, string address, ForwardingPolicy? policy = null, bool attach = true, bool presence = true)
    {
        var member = await FleetMember.OpenAsync(PostgresUrl.Parse(url), new GatewaySection { Name = name, Region = "test", Presence = presence },
            IPAddress.Parse(address),
            NullLoggerFactory.Instance, CancellationToken.None);
        var node = new FleetNode(name, IPAddress.Parse(address), member, policy ?? new ForwardingPolicy());
        if (attach)
            node.Attach();
        return node;
    }

    public void Attach() => Member.Attach(Operations, Service);

    /// <summary>What the host's session events do when the device says a peer connected here.</summary>
    public void Connect(string publicKey)
    {
        Device.Connect(publicKey);
        var stored = Peers.FindByKey(publicKey) ?? throw new InvalidOperationException("unknown peer");
        Service.PeerSessionStarted(stored.Id, stored.TunnelAddress);
        Member.OnSession(stored.Id, true);
    }

    public async ValueTask DisposeAsync()
    {
        await Member.DisposeAsync();
        Operations.Dispose();
        Service.Dispose();
    }
}
