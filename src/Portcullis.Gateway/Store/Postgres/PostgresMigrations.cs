namespace Portcullis.Gateway.Store.Postgres;

/// <summary>
/// One schema step. <see cref="CompatibleFrom"/> is the oldest schema version whose builds may still run against the
/// database once this step ran: <see cref="Version"/> − 1 for a step that only adds (a table, a nullable column, a
/// setting key, a trigger), so a gateway one version behind keeps running through a rolling upgrade; its own
/// <see cref="Version"/> for a step that changes what older builds read or write (they then refuse to start).
/// </summary>
internal sealed record PostgresMigration(int Version, string Description, string Sql, int CompatibleFrom);

/// <summary>
/// The fleet schema, as numbered steps. Append only: a step that has shipped is never edited. The tables mirror the
/// SQLite store's (peers, static forwards, dedicated addresses, settings) plus what a fleet adds: the gateways and
/// which gateway each connected peer is on. Every change to what gateways serve raises a NOTIFY on
/// <see cref="PostgresChanges.Channel"/> from a trigger, in the writing transaction, so no writer can forget it.
/// </summary>
internal static class PostgresMigrations
{
    public static readonly IReadOnlyList<PostgresMigration> All =
    [
        new(1, "peers, static forwards, dedicated addresses, settings, gateways, presence, change notification", """
            -- Unique constraints deferrable, so a config file can swap names or addresses between peers in one transaction.
            CREATE TABLE peers (
                id             text    NOT NULL,
                name           text    NOT NULL,
                public_key     text    NOT NULL,
                tunnel_address inet    NOT NULL,
                enabled        boolean NOT NULL,
                created_utc_ms bigint  NOT NULL,
                CONSTRAINT peers_pkey PRIMARY KEY (id),
                CONSTRAINT peers_name_key UNIQUE (name) DEFERRABLE INITIALLY IMMEDIATE,
                CONSTRAINT peers_public_key_key UNIQUE (public_key) DEFERRABLE INITIALLY IMMEDIATE,
                CONSTRAINT peers_tunnel_address_key UNIQUE (tunnel_address) DEFERRABLE INITIALLY IMMEDIATE
            );
            CREATE TABLE static_forwards (
                public_address text    NOT NULL,
                protocol       text    NOT NULL CHECK (protocol IN ('tcp', 'udp')),
                external_port  integer NOT NULL CHECK (external_port BETWEEN 1 AND 65535),
                peer_id        text    NOT NULL REFERENCES peers (id) ON DELETE CASCADE,
                internal_port  integer NOT NULL CHECK (internal_port BETWEEN 1 AND 65535),
                CONSTRAINT static_forwards_pkey PRIMARY KEY (public_address, protocol, external_port)
            );
            CREATE INDEX static_forwards_by_peer ON static_forwards (peer_id);
            CREATE INDEX static_forwards_by_port ON static_forwards (protocol, external_port);
            CREATE TABLE dedicated_addresses (
                address text NOT NULL,
                peer_id text NOT NULL REFERENCES peers (id) ON DELETE CASCADE,
                gateway text NOT NULL DEFAULT '',
                CONSTRAINT dedicated_addresses_pkey PRIMARY KEY (address)
            );
            CREATE INDEX dedicated_addresses_by_peer ON dedicated_addresses (peer_id);
            CREATE TABLE settings (
                key   text NOT NULL PRIMARY KEY,
                value text NOT NULL
            );
            CREATE TABLE gateways (
                name                 text        NOT NULL PRIMARY KEY,
                region               text,
                default_address      text,
                version              text        NOT NULL,
                schema_version       integer     NOT NULL,
                started_utc          timestamptz NOT NULL,
                last_seen_utc        timestamptz NOT NULL,
                stopped              boolean     NOT NULL DEFAULT false,
                connected_peers      integer     NOT NULL DEFAULT 0,
                dynamic_mappings     integer     NOT NULL DEFAULT 0,
                live_static_forwards integer     NOT NULL DEFAULT 0
            );
            CREATE TABLE presence (
                peer_id text NOT NULL REFERENCES peers (id) ON DELETE CASCADE,
                gateway text NOT NULL,
                PRIMARY KEY (peer_id, gateway)
            );
            CREATE INDEX presence_by_gateway ON presence (gateway);

            -- 'peer:ID' for anything about one peer (its row, forwards, dedicated addresses), 'policy' for settings.
            -- Identical payloads in one transaction reach a listener once, after the commit.
            CREATE FUNCTION portcullis_notify() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_TABLE_NAME = 'settings' THEN
                    PERFORM pg_notify('portcullis_changes', 'policy');
                ELSIF TG_TABLE_NAME = 'peers' THEN
                    IF TG_OP <> 'INSERT' THEN PERFORM pg_notify('portcullis_changes', 'peer:' || OLD.id); END IF;
                    IF TG_OP <> 'DELETE' THEN PERFORM pg_notify('portcullis_changes', 'peer:' || NEW.id); END IF;
                ELSE
                    IF TG_OP <> 'INSERT' THEN PERFORM pg_notify('portcullis_changes', 'peer:' || OLD.peer_id); END IF;
                    IF TG_OP <> 'DELETE' THEN PERFORM pg_notify('portcullis_changes', 'peer:' || NEW.peer_id); END IF;
                END IF;
                RETURN NULL;
            END $$;
            CREATE TRIGGER peers_notify AFTER INSERT OR UPDATE OR DELETE ON peers
                FOR EACH ROW EXECUTE FUNCTION portcullis_notify();
            CREATE TRIGGER static_forwards_notify AFTER INSERT OR UPDATE OR DELETE ON static_forwards
                FOR EACH ROW EXECUTE FUNCTION portcullis_notify();
            CREATE TRIGGER dedicated_addresses_notify AFTER INSERT OR UPDATE OR DELETE ON dedicated_addresses
                FOR EACH ROW EXECUTE FUNCTION portcullis_notify();
            CREATE TRIGGER settings_notify AFTER INSERT OR UPDATE OR DELETE ON settings
                FOR EACH ROW EXECUTE FUNCTION portcullis_notify();
            """, CompatibleFrom: 1),
        // Keyed by public key, not by peer: a key removed and added again keeps its floor. Fleet-wide: a peer that
        // moves between gateways leaves one floor, the greatest any gateway saw (RaiseReplayFloorsAsync). No NOTIFY:
        // floors rise with every handshake and are read at start (PeerMemory). Only adds, so builds of schema 1
        // keep running beside it.
        new(2, "replay floors", """
            CREATE TABLE replay_floors (
                public_key text  NOT NULL PRIMARY KEY,
                tai64n     bytea NOT NULL CHECK (octet_length(tai64n) = 12)
            );
            """, CompatibleFrom: 1),
        // The opt-in audit trail (IAuditStore): no foreign key to peers, a record outlives its peer; each gateway
        // closes and prunes its own rows. No NOTIFY: nothing serves from it. Only adds a table no older build reads, so
        // builds of schema 1 and 2 keep running beside it.
        new(3, "audit trail of mappings", """
            CREATE TABLE audit_mappings (
                id             bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                gateway        text    NOT NULL,
                public_address text    NOT NULL,
                protocol       text    NOT NULL CHECK (protocol IN ('tcp', 'udp')),
                public_port    integer NOT NULL CHECK (public_port BETWEEN 1 AND 65535),
                tunnel_address text    NOT NULL,
                internal_port  integer NOT NULL CHECK (internal_port BETWEEN 1 AND 65535),
                peer_id        text    NOT NULL,
                peer_name      text,
                started_utc_ms bigint  NOT NULL,
                ended_utc_ms   bigint
            );
            CREATE INDEX audit_mappings_by_port ON audit_mappings (public_address, public_port, started_utc_ms);
            CREATE INDEX audit_mappings_by_end ON audit_mappings (gateway, ended_utc_ms);
            """, CompatibleFrom: 1),
        // A dedicated address is recorded as port 0 ("every port", AuditRecord.EveryPort). Only widens what a row may
        // hold; an older build reads such a row as a record of port 0, so builds of schema 1 to 3 keep running beside it.
        new(4, "audit trail of dedicated addresses (port 0)", """
            ALTER TABLE audit_mappings DROP CONSTRAINT audit_mappings_public_port_check;
            ALTER TABLE audit_mappings ADD CONSTRAINT audit_mappings_public_port_check CHECK (public_port BETWEEN 0 AND 65535);
            ALTER TABLE audit_mappings DROP CONSTRAINT audit_mappings_internal_port_check;
            ALTER TABLE audit_mappings ADD CONSTRAINT audit_mappings_internal_port_check CHECK (internal_port BETWEEN 0 AND 65535);
            """, CompatibleFrom: 1),
    ];
}
