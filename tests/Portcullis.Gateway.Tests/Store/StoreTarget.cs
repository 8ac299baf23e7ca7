using Microsoft.Extensions.Time.Testing;
using Portcullis.Gateway.Store;
using Portcullis.Gateway.Store.Postgres;
using Portcullis.Gateway.Tests.Store.Postgres;

namespace Portcullis.Gateway.Tests.Store;

/// <summary>
/// One empty store for one test, in either database: the store contract tests run once per implementation
/// (<see cref="SqliteTarget"/>, <see cref="PostgresTarget"/>). Opening again reaches the same data.
/// </summary>
public interface IStoreTarget : IDisposable
{
    FakeTimeProvider Time { get; }

    Task<IGatewayStore> OpenAsync();
}

internal sealed class SqliteTarget : IStoreTarget
{
    private readonly StoreFixture _fixture = new();

    public FakeTimeProvider Time => _fixture.Time;

    public async Task<IGatewayStore> OpenAsync() => await _fixture.OpenAsync();

    public void Dispose() => _fixture.Dispose();
}

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal sealed class PostgresTarget(PostgresCluster cluster, string gateway = "") : IStoreTarget
{
    public string Database { get; } = cluster.NewDatabase();

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 11, 24, 12, 0, 0, 123, TimeSpan.Zero));

    public string Url => cluster.Url(Database);

    public async Task<IGatewayStore> OpenAsync() => await OpenPostgresAsync(gateway);

    public Task<PostgresGatewayStore> OpenPostgresAsync(string gatewayName, IReadOnlyList<PostgresMigration>? migrations = null) =>
        PostgresGatewayStore.OpenAsync(PostgresUrl.Parse(Url), gatewayName, migrations ?? PostgresMigrations.All, Time, null, CancellationToken.None);

    public void Dispose() => cluster.DropDatabase(Database);
}
