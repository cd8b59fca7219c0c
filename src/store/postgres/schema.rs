//! The schema of a PostgreSQL store: its migrations, applied under an
//! advisory lock so that processes opening a new database at once agree on
//! one schema.

use super::*;

/// One step of the schema. `MIGRATIONS[i]` takes a database from version
/// `i` to `i + 1`; released steps are never edited, a change is a new step.
pub(super) const MIGRATIONS: &[&str] = &[
    // 1: records with their versions and feed positions (see the module
    // docs), the entries of the indexed secondary reads, the invitation id
    // sequence (one call reserves a block of `ID_BLOCK`), and the highest
    // position ever trimmed, kept apart from the records.
    "CREATE TABLE record (
         key text COLLATE \"C\" PRIMARY KEY,
         version bigint NOT NULL CHECK (version >= 1),
         pos bigint NOT NULL,
         value text NOT NULL
     );
     CREATE UNIQUE INDEX record_pos ON record (pos);
     CREATE INDEX record_outbox ON record (pos)
         WHERE key >= '{\"Outbox\":' AND key < '{\"Outbox\";';
     CREATE TABLE entry (
         kind smallint NOT NULL,
         a bigint NOT NULL,
         b smallint NOT NULL,
         key text COLLATE \"C\" NOT NULL,
         PRIMARY KEY (kind, a, b, key)
     );
     CREATE SEQUENCE invitation_id AS bigint INCREMENT BY 64 MINVALUE 64 START WITH 64;
     INSERT INTO meta (name, value) VALUES ('trimmed_position', 0);",
    // 2: a change set is one statement in a transaction of its own (one
    // round trip): it finds the entries a rewritten record had by its key,
    // and refuses a failed expectation by raising `CONFLICT`, naming the
    // key, which rolls the statement back.
    "CREATE INDEX entry_key ON entry (key);
     CREATE FUNCTION pronet_conflict(key text) RETURNS bigint LANGUAGE plpgsql AS $$
     BEGIN
         RAISE EXCEPTION USING ERRCODE = 'PN409', MESSAGE = key;
     END $$;",
    // 3: a change set is one call of `pronet_apply`, whose statements are
    // each one row by its key: PostgreSQL plans them once per connection
    // (the one big statement of step 2 was planned anew for every commit,
    // most of a commit's server time). It raises `CONFLICT` itself.
    "CREATE FUNCTION pronet_apply(
         keys text[], expected bigint[], ords bigint[], vals text[], personal bool[],
         e_kind smallint[], e_a bigint[], e_b smallint[], e_key text[]
     ) RETURNS bigint LANGUAGE plpgsql AS $$
     DECLARE
         base constant bigint := pg_current_xact_id()::text::bigint * 65536;
         rewritten text[] := '{}';
         vacated bigint;
         applied boolean;
         failed text;
         failed_ord bigint;
     BEGIN
         FOR i IN 1 .. cardinality(keys) LOOP
             IF expected[i] = 0 THEN
                 INSERT INTO record AS r (key, version, pos, value)
                 VALUES (keys[i], CASE WHEN personal[i] THEN base + ords[i] ELSE 1 END,
                         base + ords[i], vals[i])
                 ON CONFLICT (key) DO UPDATE
                 SET version = r.version + 1, pos = EXCLUDED.pos, value = EXCLUDED.value
                 WHERE r.value = 'null';
                 applied := FOUND;
             ELSIF personal[i] AND vals[i] = 'null' THEN
                 DELETE FROM record
                 WHERE key = keys[i] AND version = expected[i] AND value <> 'null';
                 applied := FOUND;
                 IF applied THEN
                     vacated := greatest(vacated, base + ords[i]);
                     rewritten := rewritten || keys[i];
                 END IF;
             ELSE
                 UPDATE record SET version = version + 1, value = vals[i], pos = base + ords[i]
                 WHERE key = keys[i] AND version = expected[i] AND value <> 'null';
                 applied := FOUND;
                 IF applied THEN
                     rewritten := rewritten || keys[i];
                 END IF;
             END IF;
             IF NOT applied AND (failed_ord IS NULL OR ords[i] < failed_ord) THEN
                 failed := keys[i];
                 failed_ord := ords[i];
             END IF;
         END LOOP;
         IF failed IS NOT NULL THEN
             RAISE EXCEPTION USING ERRCODE = 'PN409', MESSAGE = failed;
         END IF;
         IF cardinality(rewritten) > 0 THEN
             DELETE FROM entry e WHERE e.key = ANY (rewritten) AND NOT EXISTS (
                 SELECT 1 FROM unnest(e_kind, e_a, e_b, e_key) AS n(kind, a, b, key)
                 WHERE n.kind = e.kind AND n.a = e.a AND n.b = e.b AND n.key = e.key
             );
         END IF;
         IF cardinality(e_key) > 0 THEN
             INSERT INTO entry (kind, a, b, key)
             SELECT * FROM unnest(e_kind, e_a, e_b, e_key) ON CONFLICT DO NOTHING;
         END IF;
         IF vacated IS NOT NULL THEN
             UPDATE meta SET value = greatest(value, vacated) WHERE name = 'trimmed_position';
         END IF;
         RETURN base;
     END $$;
     DROP FUNCTION pronet_conflict(text);",
];

/// The SQLSTATE `pronet_apply` raises: the message is the key text.
pub(super) const CONFLICT: &str = "PN409";

/// The key range of the outbox's rows, spelled as in the partial index
/// `record_outbox`, so that the planner can use it.
pub(super) const OUTBOX_ROWS: &str = "key >= '{\"Outbox\":' AND key < '{\"Outbox\";'";

/// Invitation ids reserved per sequence call (the sequence's increment).
pub(super) const ID_BLOCK: i64 = 64;

/// The two keys of the advisory lock that serialises migrations: "pron",
/// and (in SQL) the hash of the schema's name.
const LOCK_CLASS: i32 = 0x7072_6f6e;

/// Creates or migrates the schema in the first schema of the connection's
/// `search_path`, in one transaction; answers the schema's name.
pub(super) fn migrate(client: &mut Client) -> Result<String, PostgresOpenError> {
    let mut tx = client.transaction().map_err(open_failed)?;
    let schema: Option<String> = tx
        .query_one("SELECT current_schema()::text", &[])
        .map_err(open_failed)?
        .try_get(0)
        .map_err(open_failed)?;
    let Some(schema) = schema else {
        return Err(PostgresOpenError::Foreign(
            "the search_path names no schema that exists".into(),
        ));
    };
    tx.execute(
        "SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))",
        &[&LOCK_CLASS],
    )
    .map_err(open_failed)?;
    let has_meta: bool = tx
        .query_one("SELECT to_regclass('meta') IS NOT NULL", &[])
        .and_then(|r| r.try_get(0))
        .map_err(open_failed)?;
    let found: i64 = if has_meta {
        // Another application's `meta` table has other columns or no
        // version row.
        let row = tx
            .query_opt(
                "SELECT value::bigint FROM meta WHERE name::text = 'schema_version'",
                &[],
            )
            .map_err(|e| PostgresOpenError::Foreign(format!("a foreign meta table: {e}")))?;
        match row {
            Some(row) => row.try_get(0).map_err(open_failed)?,
            None => {
                return Err(PostgresOpenError::Foreign(format!(
                    "schema {schema} has a meta table without a pronet schema version"
                )));
            }
        }
    } else {
        let tables: i64 = tx
            .query_one(
                "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'S')",
                &[],
            )
            .and_then(|r| r.try_get(0))
            .map_err(open_failed)?;
        if tables > 0 {
            return Err(PostgresOpenError::Foreign(format!(
                "schema {schema} holds {tables} other table(s) or sequence(s)"
            )));
        }
        tx.batch_execute(
            "CREATE TABLE meta (name text PRIMARY KEY, value bigint NOT NULL);
             INSERT INTO meta (name, value) VALUES ('schema_version', 0);",
        )
        .map_err(open_failed)?;
        0
    };
    if found > PostgresStore::SCHEMA_VERSION {
        return Err(PostgresOpenError::NewerSchema {
            found,
            supported: PostgresStore::SCHEMA_VERSION,
        });
    }
    let from = usize::try_from(found)
        .map_err(|_| PostgresOpenError::Foreign(format!("schema version {found}")))?;
    for step in MIGRATIONS.iter().skip(from) {
        tx.batch_execute(step).map_err(open_failed)?;
    }
    if found < PostgresStore::SCHEMA_VERSION {
        tx.execute(
            "UPDATE meta SET value = $1 WHERE name = 'schema_version'",
            &[&PostgresStore::SCHEMA_VERSION],
        )
        .map_err(open_failed)?;
    }
    tx.commit().map_err(open_failed)?;
    Ok(schema)
}

/// The `NOTIFY` channel of the store in `schema`: one per schema, so that
/// stores in different schemas of one database do not wake each other.
/// Channel names are identifiers of at most 63 bytes: a longer schema name
/// is replaced by its FNV-1a hash.
pub(super) fn channel(schema: &str) -> String {
    let name = format!("pronet.{schema}");
    if name.len() <= 63 {
        return name;
    }
    let hash = schema.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("pronet.{hash:016x}")
}
