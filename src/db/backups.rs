//! Queries for backups (issue 18), as the owner role: an exported snapshot whose row counts
//! and audit chain heads go into the manifest, the emptiness check before a restore, and the
//! record of backup and verify runs (`backup_runs`, migration 0014).

use std::collections::BTreeMap;

use sqlx::{AssertSqlSafe, PgConnection, PgPool, Postgres, Transaction};

use crate::error::DbError;

/// A REPEATABLE READ transaction whose snapshot is exported: `pg_dump --snapshot=ID` sees
/// exactly what queries on this transaction see, for as long as it stays open.
pub struct Snapshot {
    pub tx: Transaction<'static, Postgres>,
    pub id: String,
}

pub async fn export_snapshot(owner: &PgPool) -> Result<Snapshot, DbError> {
    let mut tx = owner.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await?;
    // The manifest's row counts would otherwise start parallel workers: the postmaster forks
    // them at normal priority, where the backup's own backends are lowered.
    sqlx::query("SET LOCAL max_parallel_workers_per_gather = 0")
        .execute(&mut *tx)
        .await?;
    let id: String = sqlx::query_scalar("SELECT pg_export_snapshot()")
        .fetch_one(&mut *tx)
        .await?;
    Ok(Snapshot { tx, id })
}

/// The server processes serving the connections named `app` (`application_name`) and the
/// caller's own, so that a backup on an embedded cluster can lower their priority. Polled
/// from the pool: pg_stat_activity is frozen for the rest of a transaction once read.
pub async fn backend_pids(
    owner: &PgPool,
    conn: &mut PgConnection,
    app: &str,
) -> Result<Vec<i32>, DbError> {
    let own: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(conn)
        .await?;
    let mut pids: Vec<i32> =
        sqlx::query_scalar("SELECT pid FROM pg_stat_activity WHERE application_name = $1")
            .bind(app)
            .fetch_all(owner)
            .await?;
    pids.push(own);
    Ok(pids)
}

/// Every facility with its audit chain head (`None` without entries): (id, slug, seq, hash).
pub type HeadRow = (i64, String, Option<i64>, Option<Vec<u8>>);

pub async fn facility_heads(conn: &mut PgConnection) -> Result<Vec<HeadRow>, DbError> {
    Ok(sqlx::query_as::<_, HeadRow>(
        "SELECT f.id, f.slug, h.seq, h.hash FROM facilities f \
         LEFT JOIN LATERAL (SELECT a.seq, a.hash FROM audit_log a \
                            WHERE a.facility_id = f.id ORDER BY a.seq DESC LIMIT 1) h ON true \
         ORDER BY f.id",
    )
    .fetch_all(conn)
    .await?)
}

/// Rows in every table of the `public` schema (as the owner, which bypasses RLS).
pub async fn row_counts(conn: &mut PgConnection) -> Result<BTreeMap<String, i64>, DbError> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY 1",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut counts = BTreeMap::new();
    for t in tables {
        // The name comes from the catalog and is quoted as an identifier.
        let sql = format!("SELECT count(*) FROM public.\"{}\"", t.replace('"', "\"\""));
        let n: i64 = sqlx::query_scalar(AssertSqlSafe(sql))
            .fetch_one(&mut *conn)
            .await?;
        counts.insert(t, n);
    }
    Ok(counts)
}

/// The newest successfully applied migration (0 on an empty database).
pub async fn migration_level(conn: &mut PgConnection) -> Result<i64, DbError> {
    let has: bool = sqlx::query_scalar("SELECT to_regclass('public._sqlx_migrations') IS NOT NULL")
        .fetch_one(&mut *conn)
        .await?;
    if !has {
        return Ok(0);
    }
    Ok(sqlx::query_scalar::<_, Option<i64>>(
        "SELECT max(version) FROM _sqlx_migrations WHERE success",
    )
    .fetch_one(conn)
    .await?
    .unwrap_or(0))
}

pub async fn server_version(conn: &mut PgConnection) -> Result<String, DbError> {
    Ok(sqlx::query_scalar("SHOW server_version")
        .fetch_one(conn)
        .await?)
}

/// The WAL segment being written now (a base backup keeps the archive from here on).
pub async fn current_wal_segment(conn: &mut PgConnection) -> Result<String, DbError> {
    Ok(
        sqlx::query_scalar("SELECT pg_walfile_name(pg_current_wal_lsn())")
            .fetch_one(conn)
            .await?,
    )
}

/// Whether the server archives WAL (`archive_mode` as it started with).
pub async fn archive_mode(conn: &mut PgConnection) -> Result<String, DbError> {
    Ok(sqlx::query_scalar("SHOW archive_mode")
        .fetch_one(conn)
        .await?)
}

/// The first relation, function or type outside the system schemas, if any: a database a
/// restore may write into has none.
pub async fn first_object(conn: &mut PgConnection) -> Result<Option<String>, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT n.nspname || '.' || c.relname FROM pg_class c \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') \
           AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%' \
         UNION ALL \
         SELECT n.nspname || '.' || p.proname || '()' FROM pg_proc p \
         JOIN pg_namespace n ON n.oid = p.pronamespace \
         WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') \
         LIMIT 1",
    )
    .fetch_optional(conn)
    .await?)
}

/// `packtrack_app` exists on an external server that never ran the migrations (a new,
/// empty one to restore into): the dump's grants name it. Same statement as migration 0001.
pub async fn ensure_app_role(conn: &mut PgConnection) -> Result<(), DbError> {
    sqlx::raw_sql(
        "DO $$ BEGIN \
           IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'packtrack_app') THEN \
             CREATE ROLE packtrack_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE; \
           END IF; \
         END $$",
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// One backup or verify run, for the log of runs and the security scorecard.
#[derive(Debug, Clone)]
pub struct Run<'a> {
    /// `backup` or `verify`.
    pub kind: &'a str,
    pub ok: bool,
    pub file: Option<&'a str>,
    /// The one-line verdict or error.
    pub detail: &'a str,
    pub duration_ms: i64,
    pub packages: Option<i64>,
}

pub async fn record(owner: &PgPool, run: &Run<'_>) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO backup_runs (kind, ok, file, detail, duration_ms, packages) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(run.kind)
    .bind(run.ok)
    .bind(run.file)
    .bind(run.detail)
    .bind(run.duration_ms)
    .bind(run.packages)
    .execute(owner)
    .await?;
    Ok(())
}

/// The newest run of `kind`: (at, ok, detail).
pub async fn last(
    owner: &PgPool,
    kind: &str,
) -> Result<Option<(chrono::DateTime<chrono::Utc>, bool, String)>, DbError> {
    Ok(sqlx::query_as(
        "SELECT at, ok, detail FROM backup_runs WHERE kind = $1 ORDER BY id DESC LIMIT 1",
    )
    .bind(kind)
    .fetch_optional(owner)
    .await?)
}
