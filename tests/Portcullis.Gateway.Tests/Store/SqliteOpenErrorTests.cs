using System.Security.Cryptography;
using Microsoft.Data.Sqlite;
using Portcullis.Gateway.Store;
using Portcullis.Gateway.Store.Sqlite;

namespace Portcullis.Gateway.Tests.Store;

public sealed class SqliteOpenErrorTests : IDisposable
{
    private readonly StoreFixture _fixture = new();

    public void Dispose() => _fixture.Dispose();

    private async Task CreateAsync()
    {
        await using var store = await _fixture.OpenAsync();
        await store.AddPeerAsync(new NewPeer { Name = "alice", PublicKey = StoreFixture.NewKey() }, StoreFixture.Pool);
    }

    [Fact]
    public async Task OpenAsync_RandomBytes_ThrowsNamingPathAndLeavesFileUnchanged()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(_fixture.DatabasePath)!);
        await File.WriteAllBytesAsync(_fixture.DatabasePath, RandomNumberGenerator.GetBytes(8192));
        var before = StoreFixture.Hash(_fixture.DatabasePath);

        var e = await Assert.ThrowsAsync<StoreException>(_fixture.OpenAsync);

        Assert.Contains(_fixture.DatabasePath, e.Message, StringComparison.Ordinal);
        Assert.Contains("not a SQLite database or is damaged", e.Message, StringComparison.Ordinal);
        Assert.Equal(before, StoreFixture.Hash(_fixture.DatabasePath));
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(_fixture.DatabasePath)!, "*.bak-v*"));
    }

    [Fact]
    public async Task OpenAsync_DamagedTablePage_ThrowsNamingPathAndLeavesFileUnchanged()
    {
        await CreateAsync();
        var bytes = await File.ReadAllBytesAsync(_fixture.DatabasePath);
        var pageSize = bytes[16] << 8 | bytes[17];
        Assert.True(bytes.Length >= 2 * pageSize);
        // Page 2 is the first table's root (peers): garbage there passes the header check, not the integrity check.
        RandomNumberGenerator.Fill(bytes.AsSpan(pageSize, pageSize));
        await File.WriteAllBytesAsync(_fixture.DatabasePath, bytes);
        var before = StoreFixture.Hash(_fixture.DatabasePath);

        var e = await Assert.ThrowsAsync<StoreException>(_fixture.OpenAsync);

        Assert.Contains(_fixture.DatabasePath, e.Message, StringComparison.Ordinal);
        Assert.Contains("damaged", e.Message, StringComparison.Ordinal);
        Assert.Equal(before, StoreFixture.Hash(_fixture.DatabasePath));
    }

    [Theory]
    [InlineData("BEGIN EXCLUSIVE")]
    [InlineData("PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE")]
    public async Task OpenAsync_AnotherConnectionHoldsExclusiveLock_ThrowsLockedAndLosesNothing(string lockSql)
    {
        await CreateAsync();
        var before = StoreFixture.Hash(_fixture.DatabasePath);
        using (var holder = new SqliteConnection($"Data Source={_fixture.DatabasePath};Pooling=False"))
        {
            holder.Open();
            using (var command = holder.CreateCommand())
            {
                command.CommandText = lockSql + "; SELECT count(*) FROM peers;";
                command.ExecuteScalar();
            }

            var e = await Assert.ThrowsAsync<StoreException>(_fixture.OpenAsync);

            Assert.Contains(_fixture.DatabasePath, e.Message, StringComparison.Ordinal);
            Assert.Contains("locked", e.Message, StringComparison.Ordinal);
            using var rollback = holder.CreateCommand();
            rollback.CommandText = "ROLLBACK";
            rollback.ExecuteNonQuery();
        }

        Assert.Equal(before, StoreFixture.Hash(_fixture.DatabasePath));
        await using var store = await _fixture.OpenAsync();
        Assert.Equal("alice", Assert.Single(await store.ListPeersAsync()).Name);
    }

    [Fact]
    public async Task OpenAsync_DirectoryCannotBeCreated_ThrowsNamingPath()
    {
        Directory.CreateDirectory(_fixture.Directory);
        var blocker = Path.Combine(_fixture.Directory, "state");
        await File.WriteAllTextAsync(blocker, "a file where the directory should be");

        var e = await Assert.ThrowsAsync<StoreException>(_fixture.OpenAsync);

        Assert.Contains(_fixture.DatabasePath, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenAsync_MigrationsOutOfOrder_ThrowsArgumentException()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => _fixture.OpenAsync([SqliteMigrations.All[^1]]));
    }
}
