using System.Net;
using System.Security.Cryptography;
using Microsoft.Extensions.Time.Testing;
using Portcullis.Gateway.Store;
using Portcullis.Gateway.Store.Sqlite;

namespace Portcullis.Gateway.Tests.Store;

/// <summary>A private temp directory for one test's database, removed after; opens stores on it.</summary>
internal sealed class StoreFixture : IDisposable
{
    public static readonly TunnelAddressPool Pool = new(IPNetwork.Parse("10.99.0.0/16"), IPAddress.Parse("10.99.0.1"));

    public StoreFixture()
    {
        Directory = Path.Combine(Path.GetTempPath(), "portcullis-store-" + Guid.NewGuid().ToString("N"));
        DatabasePath = Path.Combine(Directory, "state", "portcullis.db");
    }

    public string Directory { get; }

    /// <summary>The database file (its directory does not exist until a store is opened).</summary>
    public string DatabasePath { get; }

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 11, 24, 12, 0, 0, 123, TimeSpan.Zero));

    public void Dispose()
    {
        if (System.IO.Directory.Exists(Directory))
            System.IO.Directory.Delete(Directory, recursive: true);
    }

    public Task<SqliteGatewayStore> OpenAsync() => OpenAsync(SqliteMigrations.All);

    public Task<SqliteGatewayStore> OpenAsync(IReadOnlyList<SqliteMigration> migrations) =>
        SqliteGatewayStore.OpenAsync(DatabasePath, migrations, TimeSpan.FromMilliseconds(200), Time, null, CancellationToken.None);

    public static string Hash(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)));

    /// <summary>A fresh random 32-byte key in base64, as <c>wg</c> prints one.</summary>
    public static string NewKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
}
