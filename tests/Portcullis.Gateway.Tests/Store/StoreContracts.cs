using System.Runtime.Versioning;
using Portcullis.Gateway.Tests.Store.Postgres;

namespace Portcullis.Gateway.Tests.Store;

// One suite, two fixtures: every store contract test runs against SQLite and against a real PostgreSQL.

public sealed class SqliteStorePeerTests() : GatewayStorePeerTests(new SqliteTarget());

public sealed class SqliteStoreForwardTests() : GatewayStoreForwardTests(new SqliteTarget());

public sealed class SqliteStoreConfigApplyTests() : GatewayStoreConfigApplyTests(new SqliteTarget());

public sealed class SqliteStoreReplayFloorTests() : GatewayStoreReplayFloorTests(new SqliteTarget());

public sealed class SqliteStoreAuditTests() : GatewayStoreAuditTests(new SqliteTarget());

[Collection(PostgresCollection.Name)]
[SupportedOSPlatform("linux")]
public sealed class PostgresStorePeerTests(PostgresCluster cluster) : GatewayStorePeerTests(new PostgresTarget(cluster));

[Collection(PostgresCollection.Name)]
[SupportedOSPlatform("linux")]
public sealed class PostgresStoreForwardTests(PostgresCluster cluster) : GatewayStoreForwardTests(new PostgresTarget(cluster));

[Collection(PostgresCollection.Name)]
[SupportedOSPlatform("linux")]
public sealed class PostgresStoreConfigApplyTests(PostgresCluster cluster) : GatewayStoreConfigApplyTests(new PostgresTarget(cluster));

[Collection(PostgresCollection.Name)]
[SupportedOSPlatform("linux")]
public sealed class PostgresStoreReplayFloorTests(PostgresCluster cluster) : GatewayStoreReplayFloorTests(new PostgresTarget(cluster));

[Collection(PostgresCollection.Name)]
[SupportedOSPlatform("linux")]
public sealed class PostgresStoreAuditTests(PostgresCluster cluster) : GatewayStoreAuditTests(new PostgresTarget(cluster));
