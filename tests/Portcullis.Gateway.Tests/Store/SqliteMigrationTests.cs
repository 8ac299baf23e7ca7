using System.Globalization;
using System.Runtime.Versioning;
using Microsoft.Data.Sqlite;
using Portcullis.Gateway.Store;
using Portcullis.Gateway.Store.Sqlite;

namespace Portcullis.Gateway.Tests.Store;

[SupportedOSPlatform("linux")]
public sealed class SqliteMigrationTests : IDisposable
{
    private const UnixFileMode OwnerReadWrite = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private readonly StoreFixture _fixture = new();

    public void Dispose() => _fixture.Dispose();

    private static int Latest => SqliteMigrations.All[^1].Version;

    private static readonly SqliteMigration Failing = new(
        Latest + 1, "a step that fails half way", "CREATE TABLE half_done (x INTEGER); INSERT INTO no_such_table VALUES (1);");

    /// <summary>Reads a value straight from the file, read-only, without the store.</summary>
    internal static string Read(string path, string sql)
    {
        using var connection = new SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToString(command.ExecuteScalar(), CultureInfo.InvariantCulture) ?? "";
    }

    private async Task<StoredPeer> CreateAsync(IReadOnlyList<SqliteMigration> migrations)
    {
        await using var store = await _fixture.OpenAsync(migrations);
        return await store.AddPeerAsync(new NewPeer { Name = "alice", PublicKey = StoreFixture.NewKey() }, StoreFixture.Pool);
    }

    [Fact]
    public async Task OpenAsync_NoFile_CreatesPrivateDirectoryAndFileAtLatestVersionInWal()
    {
        await using (var store = await _fixture.OpenAsync())
        {
            Assert.Equal(_fixture.DatabasePath, store.Path);
            Assert.Equal(OwnerReadWrite, File.GetUnixFileMode(_fixture.DatabasePath));
            Assert.Equal(OwnerReadWrite, File.GetUnixFileMode(_fixture.DatabasePath + "-wal"));
        }

        Assert.Equal(
            UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute,
            File.GetUnixFileMode(Path.GetDirectoryName(_fixture.DatabasePath)!));
        Assert.Equal(OwnerReadWrite, File.GetUnixFileMode(_fixture.DatabasePath));
        Assert.Equal(Latest.ToString(CultureInfo.InvariantCulture), Read(_fixture.DatabasePath, "PRAGMA user_version"));
        Assert.Equal("wal", Read(_fixture.DatabasePath, "PRAGMA journal_mode"));
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(_fixture.DatabasePath)!, "*.bak-v*"));
    }

    [Fact]
    public async Task OpenAsync_VersionOneDatabase_MigratesKeepingDataAndWritesPrivateBackup()
    {
        var alice = await CreateAsync(SqliteMigrations.All.Take(1).ToList());
        Assert.Equal("1", Read(_fixture.DatabasePath, "PRAGMA user_version"));

        await using var store = await _fixture.OpenAsync();

        Assert.Equal(Latest.ToString(CultureInfo.InvariantCulture), Read(_fixture.DatabasePath, "PRAGMA user_version"));
        Assert.Equal([alice], await store.ListPeersAsync());
        Assert.Equal(new ServerPolicy(), await store.GetPolicyAsync());
        var backup = _fixture.DatabasePath + ".bak-v1";
        Assert.Equal(OwnerReadWrite, File.GetUnixFileMode(backup));
        Assert.Equal("1", Read(backup, "PRAGMA user_version"));
        Assert.Equal("alice", Read(backup, "SELECT name FROM peers"));
        Assert.Equal("0", Read(backup, "SELECT count(*) FROM sqlite_schema WHERE name = 'settings'"));
    }

    [Fact]
    public async Task OpenAsync_LatestDatabase_MigratesNothingAndWritesNoBackup()
    {
        var alice = await CreateAsync(SqliteMigrations.All);

        await using var store = await _fixture.OpenAsync();

        Assert.Equal([alice], await store.ListPeersAsync());
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(_fixture.DatabasePath)!, "*.bak-v*"));
    }

    [Fact]
    public async Task OpenAsync_CopyTakenWhileOpen_RecoversCommittedChangesFromTheWal()
    {
        // A copy of the files of a running store is what a SIGKILL leaves: committed changes still in the WAL.
        var crashed = Path.Combine(_fixture.Directory, "crashed", "portcullis.db");
        Directory.CreateDirectory(Path.GetDirectoryName(crashed)!);
        StoredPeer alice;
        await using (var store = await _fixture.OpenAsync())
        {
            alice = await store.AddPeerAsync(new NewPeer { Name = "alice", PublicKey = StoreFixture.NewKey() }, StoreFixture.Pool);
            Assert.True(new FileInfo(_fixture.DatabasePath + "-wal").Length > 0);
            File.Copy(_fixture.DatabasePath, crashed);
            File.Copy(_fixture.DatabasePath + "-wal", crashed + "-wal");
        }

        await using var recovered = await SqliteGatewayStore.OpenAsync(crashed);

        Assert.Equal([alice], await recovered.ListPeersAsync());
    }

    [Fact]
    public async Task OpenAsync_FailingMigration_LeavesDatabaseByteIdenticalAndUsable()
    {
        var alice = await CreateAsync(SqliteMigrations.All);
        var before = StoreFixture.Hash(_fixture.DatabasePath);

        var e = await Assert.ThrowsAsync<StoreException>(() => _fixture.OpenAsync([.. SqliteMigrations.All, Failing]));

        Assert.Contains(_fixture.DatabasePath, e.Message, StringComparison.Ordinal);
        Assert.Contains($"migration {Latest + 1}", e.Message, StringComparison.Ordinal);
        Assert.Equal(before, StoreFixture.Hash(_fixture.DatabasePath));
        Assert.Equal("0", Read(_fixture.DatabasePath, "SELECT count(*) FROM sqlite_schema WHERE name = 'half_done'"));
        await using var store = await _fixture.OpenAsync();
        Assert.Equal([alice], await store.ListPeersAsync());
        Assert.Equal(Latest.ToString(CultureInfo.InvariantCulture), Read(_fixture.DatabasePath, "PRAGMA user_version"));
    }

    [Fact]
    public async Task OpenAsync_FailingLaterMigration_RollsBackEarlierStepsOfTheSameRunToo()
    {
        await CreateAsync(SqliteMigrations.All.Take(1).ToList());
        var before = StoreFixture.Hash(_fixture.DatabasePath);

        await Assert.ThrowsAsync<StoreException>(() => _fixture.OpenAsync([.. SqliteMigrations.All, Failing]));

        Assert.Equal(before, StoreFixture.Hash(_fixture.DatabasePath));
        Assert.Equal("1", Read(_fixture.DatabasePath, "PRAGMA user_version"));
        Assert.Equal("0", Read(_fixture.DatabasePath, "SELECT count(*) FROM sqlite_schema WHERE name = 'settings'"));
    }

    [Fact]
    public async Task OpenAsync_NewerSchema_ThrowsNamingPathAndVersionsAndTouchesNothing()
    {
        await CreateAsync(SqliteMigrations.All);
        var before = StoreFixture.Hash(_fixture.DatabasePath);

        var e = await Assert.ThrowsAsync<StoreException>(() => _fixture.OpenAsync(SqliteMigrations.All.Take(1).ToList()));

        Assert.Contains(_fixture.DatabasePath, e.Message, StringComparison.Ordinal);
        Assert.Contains($"schema version {Latest}, newer than this build knows (1)", e.Message, StringComparison.Ordinal);
        Assert.Equal(before, StoreFixture.Hash(_fixture.DatabasePath));
    }
}
