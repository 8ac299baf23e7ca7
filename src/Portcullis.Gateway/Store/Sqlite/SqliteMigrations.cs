namespace Portcullis.Gateway.Store.Sqlite;

/// <summary>One schema step: after it runs, <c>PRAGMA user_version</c> is <see cref="Version"/>.</summary>
internal sealed record SqliteMigration(int Version, string Description, string Sql);

/// <summary>
/// The schema, as numbered steps. Append only: a step that has shipped is never edited, since databases in the
/// field already ran it. Text keys and addresses keep the schema portable to PostgreSQL; times are Unix
/// milliseconds.
/// </summary>
internal static class SqliteMigrations
{
    public static readonly IReadOnlyList<SqliteMigration> All =
    [
        new(1, "peers, static forwards, dedicated addresses", """
            CREATE TABLE peers (
                id             TEXT    NOT NULL PRIMARY KEY,
                name           TEXT    NOT NULL UNIQUE,
                public_key     TEXT    NOT NULL UNIQUE,
                tunnel_address TEXT    NOT NULL UNIQUE,
                enabled        INTEGER NOT NULL CHECK (enabled IN (0, 1)),
                created_utc_ms INTEGER NOT NULL
            );
            CREATE TABLE static_forwards (
                public_address TEXT    NOT NULL,
                protocol       TEXT    NOT NULL CHECK (protocol IN ('tcp', 'udp')),
                external_port  INTEGER NOT NULL CHECK (external_port BETWEEN 1 AND 65535),
                peer_id        TEXT    NOT NULL REFERENCES peers (id) ON DELETE CASCADE,
                internal_port  INTEGER NOT NULL CHECK (internal_port BETWEEN 1 AND 65535),
                PRIMARY KEY (public_address, protocol, external_port)
            );
            CREATE INDEX static_forwards_by_peer ON static_forwards (peer_id);
            CREATE TABLE dedicated_addresses (
                address TEXT NOT NULL PRIMARY KEY,
                peer_id TEXT NOT NULL REFERENCES peers (id) ON DELETE CASCADE
            );
            CREATE INDEX dedicated_addresses_by_peer ON dedicated_addresses (peer_id);
            """),
        new(2, "server policy settings", """
            CREATE TABLE settings (
                key   TEXT NOT NULL PRIMARY KEY,
                value TEXT NOT NULL
            );
            """),
        // Keyed by public key, not by peer: a key removed and added again keeps its floor.
        new(3, "replay floors", """
            CREATE TABLE replay_floors (
                public_key TEXT NOT NULL PRIMARY KEY,
                tai64n     BLOB NOT NULL CHECK (length(tai64n) = 12)
            );
            """),
        // No foreign key to peers: a record outlives its peer (an abuse report arrives after the user left); the
        // gateway's retention is what deletes it (IAuditStore).
        new(4, "audit trail of mappings", """
            CREATE TABLE audit_mappings (
                id             INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
                gateway        TEXT    NOT NULL,
                public_address TEXT    NOT NULL,
                protocol       TEXT    NOT NULL CHECK (protocol IN ('tcp', 'udp')),
                public_port    INTEGER NOT NULL CHECK (public_port BETWEEN 1 AND 65535),
                tunnel_address TEXT    NOT NULL,
                internal_port  INTEGER NOT NULL CHECK (internal_port BETWEEN 1 AND 65535),
                peer_id        TEXT    NOT NULL,
                peer_name      TEXT,
                started_utc_ms INTEGER NOT NULL,
                ended_utc_ms   INTEGER
            );
            CREATE INDEX audit_mappings_by_port ON audit_mappings (public_address, public_port, started_utc_ms);
            CREATE INDEX audit_mappings_by_end ON audit_mappings (gateway, ended_utc_ms);
            """),
        // A dedicated address is recorded as port 0 ("every port", AuditRecord.EveryPort). SQLite cannot alter a
        // CHECK, so the table is rebuilt with its rows.
        new(5, "audit trail of dedicated addresses (port 0)", """
            CREATE TABLE audit_mappings_5 (
                id             INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
                gateway        TEXT    NOT NULL,
                public_address TEXT    NOT NULL,
                protocol       TEXT    NOT NULL CHECK (protocol IN ('tcp', 'udp')),
                public_port    INTEGER NOT NULL CHECK (public_port BETWEEN 0 AND 65535),
                tunnel_address TEXT    NOT NULL,
                internal_port  INTEGER NOT NULL CHECK (internal_port BETWEEN 0 AND 65535),
                peer_id        TEXT    NOT NULL,
                peer_name      TEXT,
                started_utc_ms INTEGER NOT NULL,
                ended_utc_ms   INTEGER
            );
            INSERT INTO audit_mappings_5 SELECT * FROM audit_mappings;
            DROP TABLE audit_mappings;
            ALTER TABLE audit_mappings_5 RENAME TO audit_mappings;
            CREATE INDEX audit_mappings_by_port ON audit_mappings (public_address, public_port, started_utc_ms);
            CREATE INDEX audit_mappings_by_end ON audit_mappings (gateway, ended_utc_ms);
            """),
    ];
}
