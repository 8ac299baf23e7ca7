using System.Net;
using System.Runtime.Versioning;
using Npgsql;
using Portcullis.Gateway.Store;
using Portcullis.Gateway.Store.Postgres;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Tests.Store.Postgres;

/// <summary>What only the fleet store does: schema under a lock, rolling upgrades, fleet-wide clashes, the status board, NOTIFY.</summary>
[Collection(PostgresCollection.Name)]
[SupportedOSPlatform("linux")]
public sealed class PostgresStoreTests(PostgresCluster cluster) : IDisposable
{
    private static readonly IPAddress DefaultA = IPAddress.Parse("198.51.100.10");
    private static readonly IPAddress DefaultB = IPAddress.Parse("198.51.100.20");
    private readonly PostgresTarget _target = new(cluster);

    public void Dispose() => _target.Dispose();

    private static int Latest => PostgresMigrations.All[^1].Version;

    private string Scalar(string sql) => Convert.ToString(cluster.Scalar(sql, _target.Database), System.Globalization.CultureInfo.InvariantCulture) ?? "";

    [Fact]
    public async Task OpenAsync_ManyGatewaysAtOnceOnAnEmptyDatabase_OneMigratesAndAllOpen()
    {
        var stores = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => Task.Run(() => _target.OpenPostgresAsync($"gw{i}"))));

        Assert.All(stores, s => Assert.Equal(Latest, s.SchemaVersion));
        Assert.Equal("1", Scalar("SELECT count(*) FROM portcullis_schema"));
        Assert.Equal(Latest.ToString(System.Globalization.CultureInfo.InvariantCulture), Scalar("SELECT version FROM portcullis_schema"));
        foreach (var store in stores)
            await store.DisposeAsync();
    }

    [Fact]
    public async Task OpenAsync_SchemaNewerAndNotCompatible_RefusesNamingTheVersionsAndChangesNothing()
    {
        var breaking = new PostgresMigration(Latest + 1, "a breaking step", "ALTER TABLE peers RENAME COLUMN name TO label", CompatibleFrom: Latest + 1);
        await (await _target.OpenPostgresAsync("a", [.. PostgresMigrations.All, breaking])).DisposeAsync();

        var e = await Assert.ThrowsAsync<StoreException>(() => _target.OpenPostgresAsync("b"));

        Assert.Contains($"schema version {Latest + 1}", e.Message, StringComparison.Ordinal);
        Assert.Contains($"({Latest})", e.Message, StringComparison.Ordinal);
        Assert.Contains("127.0.0.1", e.Message, StringComparison.Ordinal);
        Assert.Equal((Latest + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), Scalar("SELECT version FROM portcullis_schema"));
    }

    [Fact]
    public async Task OpenAsync_SchemaOneAheadAndAdditive_OpensAndServes()
    {
        var additive = new PostgresMigration(Latest + 1, "an added table", "CREATE TABLE later_feature (x integer)", CompatibleFrom: Latest);
        await (await _target.OpenPostgresAsync("new", [.. PostgresMigrations.All, additive])).DisposeAsync();

        await using var old = await _target.OpenPostgresAsync("old");
        var peer = await old.AddPeerAsync(new NewPeer { Name = "alice", PublicKey = StoreFixture.NewKey() }, StoreFixture.Pool);

        Assert.Equal(Latest + 1, old.SchemaVersion);
        Assert.Equal([peer], await old.ListPeersAsync());
    }

    [Fact]
    public async Task OpenAsync_FailingMigration_LeavesTheSchemaWhereItWas()
    {
        await (await _target.OpenPostgresAsync("a")).DisposeAsync();
        var failing = new PostgresMigration(Latest + 1, "fails half way", "CREATE TABLE half_done (x integer); INSERT INTO no_such_table VALUES (1);", Latest);

        var e = await Assert.ThrowsAsync<StoreException>(() => _target.OpenPostgresAsync("a", [.. PostgresMigrations.All, failing]));

        Assert.Contains("fails half way", e.Message, StringComparison.Ordinal);
        Assert.Equal(Latest.ToString(System.Globalization.CultureInfo.InvariantCulture), Scalar("SELECT version FROM portcullis_schema"));
        Assert.Equal("0", Scalar("SELECT count(*) FROM pg_tables WHERE tablename = 'half_done'"));
    }

    [Fact]
    public async Task OpenAsync_NobodyListening_IsStoreExceptionWithoutPassword()
    {
        var url = PostgresUrl.Parse("postgresql://portcullis@127.0.0.1:1/fleet?connect_timeout=2");
        var file = Path.Combine(cluster.Directory, $"pw-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(file, "s3cret-Passw0rd\n");
        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var e = await Assert.ThrowsAsync<StoreException>(() => PostgresGatewayStore.OpenAsync(url.WithPasswordFile(file), "a"));

        Assert.Contains("cannot be reached", e.Message, StringComparison.Ordinal);
        Assert.Contains("postgresql://portcullis@127.0.0.1:1/fleet", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", e.ToString(), StringComparison.Ordinal);
        File.Delete(file);
    }

    [Fact]
    public async Task OpenAsync_GatewayOfSchemaOneBesideReplayFloors_KeepsRunningAndTheNewOneKeepsFloors()
    {
        await (await _target.OpenPostgresAsync("old", PostgresMigrations.All.Take(1).ToList())).DisposeAsync();
        await using var upgraded = await _target.OpenPostgresAsync("new");
        await using var old = await _target.OpenPostgresAsync("old", PostgresMigrations.All.Take(1).ToList());
        var key = StoreFixture.NewKey();

        await upgraded.RaiseReplayFloorsAsync([new(key, [0x40, 0, 0, 0, 0x69, 0, 0, 0, 0, 0, 0, 1])]);
        var peer = await old.AddPeerAsync(new NewPeer { Name = "alice", PublicKey = key }, StoreFixture.Pool);

        Assert.Equal(PostgresMigrations.All[^1].Version, upgraded.SchemaVersion);
        Assert.Equal(PostgresMigrations.All[^1].Version, old.SchemaVersion);
        Assert.Equal([peer], await upgraded.ListPeersAsync());
        Assert.Single(await upgraded.ListReplayFloorsAsync());
    }

    [Fact]
    public async Task RaiseReplayFloorsAsync_GatewaysRaisingOneKeyAtOnce_TheGreatestStays()
    {
        var stores = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => _target.OpenPostgresAsync($"gw{i}")));
        var key = StoreFixture.NewKey();
        static byte[] Floor(int n) => [0x40, 0, 0, 0, 0x69, 0, 0, 0, 0, 0, (byte)(n >> 8), (byte)n];

        // Each gateway raises the key through 50 increasing floors, interleaved with the others; the last word is
        // whoever commits last, so only GREATEST leaves the maximum.
        await Task.WhenAll(stores.Select((store, i) => Task.Run(async () =>
        {
            for (var n = 0; n < 50; n++)
                await store.RaiseReplayFloorsAsync([new(key, Floor((n * 4) + i))]);
        })));
        await stores[0].RaiseReplayFloorsAsync([new(key, Floor(3))]);

        Assert.Equal(Floor((49 * 4) + 3), (await stores[1].ListReplayFloorsAsync())[key]);
        foreach (var store in stores)
            await store.DisposeAsync();
    }

    [Fact]
    public async Task AddForwardAsync_FleetWideAgainstPinnedOnAGatewaysFirstAddress_ClashBothWays()
    {
        await using var a = await _target.OpenPostgresAsync("a");
        await using var b = await _target.OpenPostgresAsync("b");
        await a.RegisterGatewayAsync(new GatewayRegistration("eu", DefaultA, "test"));
        await b.RegisterGatewayAsync(new GatewayRegistration("us", DefaultB, "test"));
        var alice = await a.AddPeerAsync(new NewPeer { Name = "alice", PublicKey = StoreFixture.NewKey() }, StoreFixture.Pool);
        var bob = await a.AddPeerAsync(new NewPeer { Name = "bob", PublicKey = StoreFixture.NewKey() }, StoreFixture.Pool);
        await a.AddForwardAsync(Forward(StoredForward.AnyGateway, 30000, alice.Id));
        await a.AddForwardAsync(Forward(DefaultB, 30001, bob.Id));

        var pinnedOverFleetWide = await Assert.ThrowsAsync<StoreConflictException>(() => b.AddForwardAsync(Forward(DefaultB, 30000, bob.Id)));
        var fleetWideOverPinned = await Assert.ThrowsAsync<StoreConflictException>(() => b.AddForwardAsync(Forward(StoredForward.AnyGateway, 30001, alice.Id)));
        var otherAddress = await b.AddForwardAsync(Forward(IPAddress.Parse("198.51.100.21"), 30000, bob.Id));
        var otherProtocol = await b.AddForwardAsync(Forward(DefaultB, 30000, bob.Id, MappingProtocol.Udp));

        Assert.Equal(StoreConflict.StaticForward, pinnedOverFleetWide.Conflict);
        Assert.Equal(StoreConflict.StaticForward, fleetWideOverPinned.Conflict);
        Assert.Contains("198.51.100.20 tcp 30001", fleetWideOverPinned.Message, StringComparison.Ordinal);
        Assert.NotNull(otherAddress);
        Assert.NotNull(otherProtocol);
        Assert.Equal(4, (await a.ListForwardsAsync()).Count);
    }

    [Theory]
    [InlineData("40001")] // serialization_failure
    [InlineData("40P01")] // deadlock_detected
    public async Task Write_ATransientFailureOnce_IsRetriedWholeAndLands(string sqlState)
    {
        await using var store = await _target.OpenPostgresAsync("a");
        FailFirstInserts(sqlState, times: 1);
        var key = StoreFixture.NewKey();

        await store.RaiseReplayFloorsAsync([new(key, [0x40, 0, 0, 0, 0x69, 0, 0, 0, 0, 0, 0, 1])]);

        Assert.Single(await store.ListReplayFloorsAsync());
        Assert.Equal("2", Scalar("SELECT last_value FROM test_attempts"));
    }

    [Fact]
    public async Task Write_FailingEveryTime_GivesUpAfterFiveAttemptsWithTheReason()
    {
        await using var store = await _target.OpenPostgresAsync("a");
        FailFirstInserts("40001", times: 100);

        var e = await Assert.ThrowsAsync<StoreException>(() =>
            store.RaiseReplayFloorsAsync([new(StoreFixture.NewKey(), [0x40, 0, 0, 0, 0x69, 0, 0, 0, 0, 0, 0, 1])]));

        Assert.Contains("injected", e.Message, StringComparison.Ordinal);
        Assert.Equal("5", Scalar("SELECT last_value FROM test_attempts"));
        Assert.Empty(await store.ListReplayFloorsAsync());
    }

    // A trigger that fails the first `times` inserts into replay_floors with that SQLSTATE, counting attempts in a
    // sequence (which a rolled-back transaction does not undo).
    private void FailFirstInserts(string sqlState, int times) => cluster.Execute($$"""
        CREATE SEQUENCE test_attempts;
        CREATE FUNCTION test_fail_first() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF nextval('test_attempts') <= {{times}} THEN
                RAISE EXCEPTION 'injected' USING ERRCODE = '{{sqlState}}';
            END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER test_fail_first BEFORE INSERT ON replay_floors FOR EACH ROW EXECUTE FUNCTION test_fail_first();
        """, _target.Database);

    [Fact]
    public async Task AddForwardAsync_DatabaseDefaultRepeatableRead_SeesTheClashCommittedWhileItWaitedForTheLock()
    {
        // An operator's default isolation must not change what a checked write sees.
        cluster.Execute($"ALTER DATABASE {_target.Database} SET default_transaction_isolation = 'repeatable read'");
        Assert.Equal("repeatable read", Scalar("SHOW default_transaction_isolation"));
        await using var a = await _target.OpenPostgresAsync("a");
        await a.RegisterGatewayAsync(new GatewayRegistration("eu", DefaultA, "test"));
        var alice = await a.AddPeerAsync(new NewPeer { Name = "alice", PublicKey = StoreFixture.NewKey() }, StoreFixture.Pool);
        var bob = await a.AddPeerAsync(new NewPeer { Name = "bob", PublicKey = StoreFixture.NewKey() }, StoreFixture.Pool);

        // Another gateway's writer holds the write lock and adds a fleet-wide forward on 30000...
        await using var other = new NpgsqlConnection($"Host=127.0.0.1;Port={cluster.Port};Username=postgres;Database={_target.Database};Pooling=false");
        await other.OpenAsync();
        await using var transaction = await other.BeginTransactionAsync();
        await using (var command = new NpgsqlCommand($"SELECT pg_advisory_xact_lock({PostgresGatewayStore.WriteLock})", other, transaction))
            await command.ExecuteNonQueryAsync();
        await using (var command = new NpgsqlCommand(
            $"INSERT INTO static_forwards VALUES ('0.0.0.0', 'tcp', 30000, '{alice.Id}', 8080)", other, transaction))
            await command.ExecuteNonQueryAsync();
        // ...while this gateway's forward pinned on its first address, same port, waits for the lock; then it commits.
        var pinned = a.AddForwardAsync(Forward(DefaultA, 30000, bob.Id));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (Scalar("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'advisory'") != "1")
        {
            Assert.True(DateTime.UtcNow < deadline, "the store's write never waited for the lock");
            Assert.False(pinned.IsCompleted, "the store's write did not wait for the lock");
            await Task.Delay(20);
        }
        await transaction.CommitAsync();

        var e = await Assert.ThrowsAsync<StoreConflictException>(() => pinned);

        Assert.Equal(StoreConflict.StaticForward, e.Conflict);
        Assert.Single(await a.ListForwardsAsync());
    }

    [Fact]
    public async Task AssignDedicatedAddressAsync_StampsTheGatewayWhoseStoreAssignedIt()
    {
        await using var a = await _target.OpenPostgresAsync("a");
        await using var b = await _target.OpenPostgresAsync("b");
        var alice = await a.AddPeerAsync(new NewPeer { Name = "alice", PublicKey = StoreFixture.NewKey() }, StoreFixture.Pool);

        await a.AssignDedicatedAddressAsync(IPAddress.Parse("198.51.100.11"), alice.Id);
        await b.AssignDedicatedAddressAsync(IPAddress.Parse("198.51.100.21"), alice.Id);

        var all = await b.ListDedicatedAddressesAsync();
        Assert.Equal(["a", "b"], all.Select(d => d.Gateway));
        Assert.All(all, d => Assert.Equal(alice.Id, d.PeerId));
    }

    [Fact]
    public async Task GatewayPolicy_IsKeptApartFromTheFleetsAndFromOtherGateways()
    {
        await using var store = await _target.OpenPostgresAsync("a");
        await store.SetPolicyAsync(new ServerPolicy { MaxPerPeer = 2 });
        await store.SetGatewayPolicyAsync("b", new ServerPolicy { ForwardingEnabled = false });

        Assert.Equal(new ServerPolicy { MaxPerPeer = 2 }, await store.GetPolicyAsync());
        Assert.Equal(new ServerPolicy { ForwardingEnabled = false }, await store.GetGatewayPolicyAsync("b"));
        Assert.Equal(new ServerPolicy(), await store.GetGatewayPolicyAsync("a"));
    }

    [Fact]
    public async Task StatusBoard_GatewaysAndPresence_UpDownAndCleared()
    {
        await using var a = await _target.OpenPostgresAsync("a");
        await using var b = await _target.OpenPostgresAsync("b");
        var alice = await a.AddPeerAsync(new NewPeer { Name = "alice", PublicKey = StoreFixture.NewKey() }, StoreFixture.Pool);
        var bob = await a.AddPeerAsync(new NewPeer { Name = "bob", PublicKey = StoreFixture.NewKey() }, StoreFixture.Pool);
        await a.RegisterGatewayAsync(new GatewayRegistration("eu-west", DefaultA, "1.2.3"));
        await b.RegisterGatewayAsync(new GatewayRegistration("us-east", DefaultB, "1.2.3"));

        await a.ReportGatewayAsync(new GatewayFigures(2, 3, 1));
        await a.SetPresenceAsync(alice.Id, connected: true);
        await b.ReplacePresenceAsync([bob.Id, "no-such-peer"]);
        var presence = await a.ListPresenceAsync();
        await b.MarkGatewayStoppedAsync();
        var gateways = await a.ListGatewaysAsync();
        await a.SetPresenceAsync(alice.Id, connected: false);

        Assert.Equal(
            new[] { new PeerPresence(alice.Id, "a"), new PeerPresence(bob.Id, "b") }.OrderBy(p => p.PeerId),
            presence);
        Assert.Equal(["a", "b"], gateways.Select(g => g.Name));
        Assert.True(gateways[0].Up);
        Assert.Equal(("eu-west", "198.51.100.10", 2, 3, 1), (gateways[0].Region, gateways[0].DefaultAddress, gateways[0].ConnectedPeers,
            gateways[0].DynamicMappings, gateways[0].LiveStaticForwards));
        Assert.False(gateways[1].Up);
        Assert.Empty(await a.ListPresenceAsync());
    }

    [Fact]
    public async Task Writes_RaiseANotifyNamingThePeerOrThePolicy_AfterCommit()
    {
        await using var store = await _target.OpenPostgresAsync("a");
        var payloads = new List<string>();
        await using var listener = new NpgsqlConnection($"Host=127.0.0.1;Port={cluster.Port};Username=postgres;Database={_target.Database};Pooling=false");
        await listener.OpenAsync();
        listener.Notification += (_, e) => { lock (payloads) payloads.Add(e.Payload); };
        await using (var listen = new NpgsqlCommand("LISTEN portcullis_changes", listener))
            await listen.ExecuteNonQueryAsync();

        var alice = await store.AddPeerAsync(new NewPeer { Name = "alice", PublicKey = StoreFixture.NewKey() }, StoreFixture.Pool);
        await store.AddForwardAsync(Forward(StoredForward.AnyGateway, 30000, alice.Id));
        await store.SetPolicyAsync(new ServerPolicy { MaxPerPeer = 1 });
        await store.RemovePeerAsync(alice.Id);
        while (true)
        {
            lock (payloads)
            {
                if (payloads.Count >= 4)
                    break;
            }
            Assert.True(await listener.WaitAsync(TimeSpan.FromSeconds(10)), "no notification within 10 s");
        }

        // The removal cascades to the forward; both rows name the peer, and one transaction's duplicates arrive once.
        Assert.Equal([$"peer:{alice.Id}", $"peer:{alice.Id}", "policy", $"peer:{alice.Id}"], payloads);
    }

    private static StoredForward Forward(IPAddress address, ushort port, string peerId, MappingProtocol protocol = MappingProtocol.Tcp) =>
        GatewayStorePeerTests.Forward(address, port, peerId, protocol);
}
