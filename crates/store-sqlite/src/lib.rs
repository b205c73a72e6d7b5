//! The embedded SQLite [`Store`]: Stepwise's default backend, one database file.
//!
//! - **Durability.** The database runs in WAL journal mode. By default
//!   ([`Durability::PowerLoss`], `synchronous=FULL`) the WAL is synced at every commit:
//!   a transaction whose [`Store::commit`] returned `Ok` survives a power cut or an OS
//!   crash. [`Durability::Process`] (`synchronous=NORMAL`) syncs only at checkpoints: a
//!   committed transaction survives a crash of the process (even `kill -9`), since its
//!   frames are in the WAL file the next open replays, but a power loss may lose the
//!   last commits. Neither mode can corrupt the database.
//! - **Connections.** One writer connection behind a mutex (commits come from one
//!   writer thread; each [`Store::commit`] is one `BEGIN IMMEDIATE … COMMIT`), and a
//!   pool of read-only connections opened on demand, so reads never wait for the
//!   writer. [`SqliteStore::open_in_memory`] uses a single connection for both
//!   (a private in-memory database cannot be shared between connections).
//! - **Schema.** Versioned migrations (`migrations/NNNN_*.sql`) are applied at open,
//!   tracked in `PRAGMA user_version`; a database written by a newer build is
//!   refused with [`StoreError::SchemaTooNew`].
//! - **Layout.** Execution definitions are stored once per distinct text (table
//!   `definitions`), so many executions of one machine share one copy. History
//!   events are stored in runs (one row per append) in a rowid table keyed by the
//!   execution's integer id and the run's first event id.
//! - **Outbox and retention.** Status-change events wait in `outbox` (an AUTOINCREMENT
//!   key, so positions are never reused) until delivered; closed executions are deleted
//!   in bounded transactions of their own by stop time (`executions_stop`).

use rusqlite::{params, Connection, OpenFlags, OptionalExtension, Row, TransactionBehavior};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use stepwise_store::*;

/// What a commit that returned `Ok` survives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// A power cut or OS crash: the WAL is synced (fsync) at every commit.
    #[default]
    PowerLoss,
    /// A crash of the process: the WAL is synced at checkpoints only (faster).
    Process,
}

/// Schema migrations, in order; entry `i` brings the schema to version `i + 1`.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_init.sql"),
    include_str!("../migrations/0002_map_runs.sql"),
    include_str!("../migrations/0003_history_runs.sql"),
    include_str!("../migrations/0004_child_executions.sql"),
    include_str!("../migrations/0005_history_rowid.sql"),
    include_str!("../migrations/0006_executions_start.sql"),
    include_str!("../migrations/0007_executions_status.sql"),
    include_str!("../migrations/0008_outbox.sql"),
    include_str!("../migrations/0009_executions_stop.sql"),
];

/// History rows are keyed `execution id * HISTORY_SPAN + first event id` (migrations/0005).
const HISTORY_SPAN: i64 = 1 << 32;

/// The first history key of an execution, or an error past the key space (2^31 executions).
fn history_base(execution_id: i64) -> Result<i64> {
    execution_id
        .checked_mul(HISTORY_SPAN)
        .filter(|_| execution_id >= 0)
        .ok_or_else(|| {
            StoreError::Backend(format!(
                "execution id {execution_id} is past the history key space"
            ))
        })
}

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Readers kept open for reuse; more may exist briefly under load.
const MAX_IDLE_READERS: usize = 8;

/// Cached definition ids kept by the writer before the cache is reset.
const MAX_CACHED_DEFINITIONS: usize = 4096;

/// The SQLite store. Cheap to share behind an `Arc`; all methods take `&self`.
pub struct SqliteStore {
    writer: Mutex<Writer>,
    /// `None` for an in-memory database: reads then use the writer's connection.
    readers: Option<Readers>,
}

struct Writer {
    conn: Connection,
    /// Definition text → row id in `definitions`, for rows known to be committed.
    definitions: HashMap<String, i64>,
}

struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

fn backend(e: rusqlite::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave a transaction open (the
    // transaction rolls back on drop), so the data behind a poisoned lock is fine.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path` and migrates it.
    pub fn open(path: &Path) -> Result<SqliteStore> {
        SqliteStore::open_with(path, Durability::PowerLoss)
    }

    /// [`SqliteStore::open`] with the given durability.
    pub fn open_with(path: &Path, durability: Durability) -> Result<SqliteStore> {
        let conn = Connection::open(path).map_err(backend)?;
        // journal_mode answers with a row, so it cannot go through execute_batch.
        let mode: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .map_err(backend)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Backend(format!(
                "cannot enable WAL mode (got {mode})"
            )));
        }
        configure(&conn)?;
        let sync = match durability {
            Durability::PowerLoss => "PRAGMA synchronous=FULL;",
            Durability::Process => "PRAGMA synchronous=NORMAL;",
        };
        conn.execute_batch(sync).map_err(backend)?;
        // Checkpoints every 10,000 WAL pages (40 MiB) rather than SQLite's 1,000: hot
        // pages (index roots, the newest history pages) are copied once per checkpoint
        // however often they were rewritten, so this made small commits ~12% cheaper.
        conn.execute_batch("PRAGMA cache_size=-32768; PRAGMA wal_autocheckpoint=10000;")
            .map_err(backend)?;
        migrate(&conn)?;
        Ok(SqliteStore {
            writer: Mutex::new(Writer {
                conn,
                definitions: HashMap::new(),
            }),
            readers: Some(Readers {
                path: path.to_path_buf(),
                idle: Mutex::new(Vec::new()),
            }),
        })
    }

    /// A private in-memory database (for tests): one connection serves reads and
    /// writes, and everything is gone when the store is dropped.
    pub fn open_in_memory() -> Result<SqliteStore> {
        let conn = Connection::open_in_memory().map_err(backend)?;
        configure(&conn)?;
        migrate(&conn)?;
        Ok(SqliteStore {
            writer: Mutex::new(Writer {
                conn,
                definitions: HashMap::new(),
            }),
            readers: None,
        })
    }

    /// Runs `f` on a read connection: a pooled reader, or the writer's connection
    /// for an in-memory database.
    fn read<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T> {
        let Some(readers) = &self.readers else {
            let w = lock(&self.writer);
            return f(&w.conn).map_err(read_error);
        };
        let pooled = lock(&readers.idle).pop();
        let conn = match pooled {
            Some(c) => c,
            None => open_reader(&readers.path)?,
        };
        let out = f(&conn).map_err(read_error);
        // A connection left inside a transaction (a failed read) is not reused.
        if conn.is_autocommit() {
            let mut idle = lock(&readers.idle);
            if idle.len() < MAX_IDLE_READERS {
                idle.push(conn);
            }
        }
        out
    }
}

fn configure(conn: &Connection) -> Result<()> {
    conn.execute_batch(
        "PRAGMA synchronous=NORMAL;
         PRAGMA busy_timeout=10000;
         PRAGMA foreign_keys=OFF;",
    )
    .map_err(backend)?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(())
}

fn open_reader(path: &Path) -> Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(path, flags).map_err(backend)?;
    conn.execute_batch("PRAGMA busy_timeout=10000; PRAGMA cache_size=-16384;")
        .map_err(backend)?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

fn migrate(conn: &Connection) -> Result<()> {
    let found: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(backend)?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew {
            found,
            known: SCHEMA_VERSION,
        });
    }
    if found < 0 {
        return Err(StoreError::Corrupt(format!(
            "negative schema version {found}"
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let version = i as i64 + 1;
        // Each migration and its version bump commit together.
        let script = format!("BEGIN IMMEDIATE;\n{sql}\nPRAGMA user_version={version};\nCOMMIT;");
        if let Err(e) = conn.execute_batch(&script) {
            let _ = conn.execute_batch("ROLLBACK");
            return Err(StoreError::Backend(format!("migration {version}: {e}")));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- encoding

/// u64 counters and ids are stored as INTEGER (i64) by bit pattern.
fn i(v: u64) -> i64 {
    v as i64
}
fn u(v: i64) -> u64 {
    v as u64
}

fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// FNV-1a, 64 bit: stable across builds, unlike `std`'s hasher.
fn fnv1a(s: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h as i64
}

fn machine_type(s: &str) -> rusqlite::Result<MachineType> {
    MachineType::parse(s).ok_or_else(|| corrupt(format!("unknown machine type {s:?}")))
}

/// A decoding failure, carried through rusqlite's error type to [`read_error`].
#[derive(Debug)]
struct Corrupt(String);

impl std::fmt::Display for Corrupt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Corrupt {}

fn corrupt(msg: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        0,
        rusqlite::types::Type::Text,
        Box::new(Corrupt(msg)),
    )
}

fn encode_routing(routing: &[(String, u32)]) -> String {
    serde_json::to_string(routing).unwrap_or_else(|_| "[]".to_string())
}

fn decode_routing(s: &str) -> rusqlite::Result<Vec<(String, u32)>> {
    serde_json::from_str(s).map_err(|e| corrupt(format!("alias routing {s:?}: {e}")))
}

const EXEC_COLUMNS: &str = "e.arn, e.machine_arn, e.version_arn, e.alias_arn, e.name, \
    e.machine_type, e.status, e.input, e.output, e.error, e.cause, e.start_millis, \
    e.stop_millis, e.redrive_count, e.redrive_millis, d.text, e.test_case, \
    e.trace_header, e.snapshot, e.history_len, e.transitions, e.map_run_arn";

const EXEC_FROM: &str = "executions e JOIN definitions d ON d.id = e.definition_id";

fn exec_row(r: &Row) -> rusqlite::Result<ExecutionRecord> {
    Ok(ExecutionRecord {
        arn: r.get(0)?,
        machine_arn: r.get(1)?,
        version_arn: r.get(2)?,
        alias_arn: r.get(3)?,
        name: r.get(4)?,
        machine_type: machine_type(&r.get::<_, String>(5)?)?,
        status: r.get(6)?,
        input: r.get(7)?,
        output: r.get(8)?,
        error: r.get(9)?,
        cause: r.get(10)?,
        start_millis: r.get(11)?,
        stop_millis: r.get(12)?,
        redrive_count: r.get(13)?,
        redrive_millis: r.get(14)?,
        definition: r.get(15)?,
        test_case: r.get(16)?,
        trace_header: r.get(17)?,
        snapshot: r.get(18)?,
        history_len: u(r.get(19)?),
        transitions: u(r.get(20)?),
        map_run_arn: r.get(21)?,
    })
}

fn timer_row(r: &Row) -> rusqlite::Result<TimerRecord> {
    Ok(TimerRecord {
        execution_arn: r.get(0)?,
        timer: u(r.get(1)?),
        due_millis: r.get(2)?,
    })
}

fn task_row(r: &Row) -> rusqlite::Result<TaskRecord> {
    Ok(TaskRecord {
        token: r.get(0)?,
        execution_arn: r.get(1)?,
        task: u(r.get(2)?),
        state_name: r.get(3)?,
        resource: r.get(4)?,
        activity_arn: r.get(5)?,
        input: r.get(6)?,
        created_millis: r.get(7)?,
        worker: r.get(8)?,
    })
}

/// A read failure: decoding failures become [`StoreError::Corrupt`].
fn read_error(e: rusqlite::Error) -> StoreError {
    if let rusqlite::Error::FromSqlConversionFailure(_, _, inner) = &e {
        if let Some(c) = inner.downcast_ref::<Corrupt>() {
            return StoreError::Corrupt(c.0.clone());
        }
    }
    backend(e)
}

// ---------------------------------------------------------------- writes

/// Applies one write inside the open transaction `tx`.
fn apply(
    tx: &Connection,
    cache: &HashMap<String, i64>,
    w: &Write,
    new_defs: &mut Vec<(String, i64)>,
) -> Result<()> {
    match w {
        Write::PutStateMachine(m) => {
            tx.prepare_cached(
                "INSERT OR REPLACE INTO state_machines (arn, name, machine_type, definition,
                     role_arn, revision_id, created_millis, config, next_version)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    m.arn,
                    m.name,
                    m.machine_type.as_str(),
                    m.definition,
                    m.role_arn,
                    m.revision_id,
                    m.created_millis,
                    m.config,
                    m.next_version
                ])
            })
            .map_err(backend)?;
        }
        Write::DeleteStateMachine { arn } => {
            for sql in [
                "DELETE FROM tags WHERE arn IN (SELECT arn FROM versions WHERE machine_arn = ?1)",
                "DELETE FROM tags WHERE arn IN (SELECT arn FROM aliases WHERE machine_arn = ?1)",
                "DELETE FROM tags WHERE arn = ?1",
                "DELETE FROM versions WHERE machine_arn = ?1",
                "DELETE FROM aliases WHERE machine_arn = ?1",
                "DELETE FROM state_machines WHERE arn = ?1",
            ] {
                exec(tx, sql, params![arn])?;
            }
        }
        Write::PutVersion(v) => {
            tx.prepare_cached(
                "INSERT OR REPLACE INTO versions (arn, machine_arn, version, definition,
                     role_arn, revision_id, description, created_millis, config)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    v.arn,
                    v.machine_arn,
                    v.version,
                    v.definition,
                    v.role_arn,
                    v.revision_id,
                    v.description,
                    v.created_millis,
                    v.config
                ])
            })
            .map_err(backend)?;
        }
        Write::DeleteVersion { arn } => {
            exec(tx, "DELETE FROM tags WHERE arn = ?1", params![arn])?;
            exec(tx, "DELETE FROM versions WHERE arn = ?1", params![arn])?;
        }
        Write::PutAlias(a) => {
            exec(
                tx,
                "INSERT OR REPLACE INTO aliases (arn, machine_arn, name, description, routing,
                     created_millis, updated_millis) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    a.arn,
                    a.machine_arn,
                    a.name,
                    a.description,
                    encode_routing(&a.routing),
                    a.created_millis,
                    a.updated_millis
                ],
            )?;
        }
        Write::DeleteAlias { arn } => {
            exec(tx, "DELETE FROM tags WHERE arn = ?1", params![arn])?;
            exec(tx, "DELETE FROM aliases WHERE arn = ?1", params![arn])?;
        }
        Write::PutActivity(a) => {
            exec(
                tx,
                "INSERT OR REPLACE INTO activities (arn, name, created_millis, config)
                     VALUES (?1, ?2, ?3, ?4)",
                params![a.arn, a.name, a.created_millis, a.config],
            )?;
        }
        Write::DeleteActivity { arn } => {
            exec(tx, "DELETE FROM tags WHERE arn = ?1", params![arn])?;
            exec(tx, "DELETE FROM activities WHERE arn = ?1", params![arn])?;
        }
        Write::PutTags { arn, tags } => {
            let mut s = tx
                .prepare_cached(
                    "INSERT INTO tags (arn, key, value) VALUES (?1, ?2, ?3)
                         ON CONFLICT (arn, key) DO UPDATE SET value = excluded.value",
                )
                .map_err(backend)?;
            for (k, v) in tags {
                s.execute(params![arn, k, v]).map_err(backend)?;
            }
        }
        Write::RemoveTags { arn, keys } => {
            let mut s = tx
                .prepare_cached("DELETE FROM tags WHERE arn = ?1 AND key = ?2")
                .map_err(backend)?;
            for k in keys {
                s.execute(params![arn, k]).map_err(backend)?;
            }
        }
        Write::InsertExecution(e) => {
            let def = definition_id(tx, cache, &e.definition, new_defs)?;
            tx.prepare_cached(
                "INSERT INTO executions (arn, machine_arn, version_arn, alias_arn, name,
                     machine_type, status, input, output, error, cause, start_millis,
                     stop_millis, redrive_count, redrive_millis, definition_id, test_case,
                     trace_header, snapshot, history_len, transitions, map_run_arn)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,
                     ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    e.arn,
                    e.machine_arn,
                    e.version_arn,
                    e.alias_arn,
                    e.name,
                    e.machine_type.as_str(),
                    e.status,
                    e.input,
                    e.output,
                    e.error,
                    e.cause,
                    e.start_millis,
                    e.stop_millis,
                    e.redrive_count,
                    e.redrive_millis,
                    def,
                    e.test_case,
                    e.trace_header,
                    e.snapshot,
                    i(e.history_len),
                    i(e.transitions),
                    e.map_run_arn
                ])
            })
            .map_err(|err| StoreError::Backend(format!("insert execution {}: {err}", e.arn)))?;
        }
        Write::UpdateExecution(x) => {
            let n = tx
                .prepare_cached(
                    "UPDATE executions SET status = ?2, output = ?3, error = ?4, cause = ?5,
                         stop_millis = ?6, redrive_count = ?7, redrive_millis = ?8,
                         snapshot = ?9, history_len = ?10, transitions = ?11 WHERE arn = ?1",
                )
                .and_then(|mut s| {
                    s.execute(params![
                        x.arn,
                        x.status,
                        x.output,
                        x.error,
                        x.cause,
                        x.stop_millis,
                        x.redrive_count,
                        x.redrive_millis,
                        x.snapshot,
                        i(x.history_len),
                        i(x.transitions)
                    ])
                })
                .map_err(backend)?;
            if n == 0 {
                return Err(StoreError::Backend(format!(
                    "update of unknown execution {}",
                    x.arn
                )));
            }
        }
        Write::AppendHistory {
            execution_arn,
            events,
        } => {
            if events.is_empty() {
                return Ok(());
            }
            let id: i64 = tx
                .prepare_cached("SELECT id FROM executions WHERE arn = ?1")
                .and_then(|mut s| s.query_row(params![execution_arn], |r| r.get(0)).optional())
                .map_err(backend)?
                .ok_or_else(|| {
                    StoreError::Backend(format!("history for unknown execution {execution_arn}"))
                })?;
            let base = history_base(id)?;
            let mut s = tx
                .prepare_cached("INSERT INTO history (key, last_id, json) VALUES (?1, ?2, ?3)")
                .map_err(backend)?;
            for run in consecutive_runs(events) {
                let (first, last) = (run[0].id, run[run.len() - 1].id);
                if first == 0 || i(last) >= HISTORY_SPAN {
                    return Err(StoreError::Backend(format!(
                        "event ids {first}-{last} of {execution_arn} are outside 1..2^32"
                    )));
                }
                let mut text = String::with_capacity(run.iter().map(|e| e.json.len() + 1).sum());
                for (n, ev) in run.iter().enumerate() {
                    if n > 0 {
                        text.push(RUN_SEPARATOR);
                    }
                    text.push_str(&ev.json);
                }
                s.execute(params![base + i(first), i(last), text])
                    .map_err(|err| {
                        StoreError::Backend(format!(
                            "events {first}-{last} of {execution_arn}: {err}"
                        ))
                    })?;
            }
        }
        Write::PutTimer(t) => {
            exec(
                tx,
                "INSERT OR REPLACE INTO timers (execution_arn, timer, due_millis)
                     VALUES (?1, ?2, ?3)",
                params![t.execution_arn, i(t.timer), t.due_millis],
            )?;
        }
        Write::DeleteTimer {
            execution_arn,
            timer,
        } => {
            exec(
                tx,
                "DELETE FROM timers WHERE execution_arn = ?1 AND timer = ?2",
                params![execution_arn, i(*timer)],
            )?;
        }
        Write::PutTask(t) => {
            exec(
                tx,
                "INSERT OR REPLACE INTO tasks (token, execution_arn, task, state_name,
                     resource, activity_arn, input, created_millis, worker)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    t.token,
                    t.execution_arn,
                    i(t.task),
                    t.state_name,
                    t.resource,
                    t.activity_arn,
                    t.input,
                    t.created_millis,
                    t.worker
                ],
            )?;
        }
        Write::DeleteTask { token } => {
            exec(tx, "DELETE FROM tasks WHERE token = ?1", params![token])?;
        }
        Write::PutMapRun { arn, execution_arn } => {
            exec(
                tx,
                "INSERT OR REPLACE INTO map_runs (arn, execution_arn) VALUES (?1, ?2)",
                params![arn, execution_arn],
            )?;
        }
        Write::ClearExecutionWork { execution_arn } => {
            exec(
                tx,
                "DELETE FROM timers WHERE execution_arn = ?1",
                params![execution_arn],
            )?;
            exec(
                tx,
                "DELETE FROM tasks WHERE execution_arn = ?1",
                params![execution_arn],
            )?;
        }
        Write::PutEvent(e) => {
            exec(
                tx,
                "INSERT INTO outbox (id, execution_arn, created_millis, body)
                     VALUES (?1, ?2, ?3, ?4)",
                params![e.id, e.execution_arn, e.created_millis, e.body],
            )?;
        }
        Write::DeleteEvents { through } => {
            let through = i64::try_from(*through).unwrap_or(i64::MAX);
            exec(tx, "DELETE FROM outbox WHERE seq <= ?1", params![through])?;
        }
    }
    Ok(())
}

/// Statuses of a closed execution (retention deletes only these).
const CLOSED: &str = "('SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED')";

/// Delete execution `id` (`arn`) with its history, timers, tasks and Map Runs, and the
/// Map Runs' children with their history, inside the open transaction `tx`.
fn delete_execution(tx: &Connection, id: i64, arn: &str) -> Result<()> {
    let children: Vec<i64> = tx
        .prepare_cached(
            "SELECT e.id FROM map_runs m JOIN executions e ON e.map_run_arn = m.arn
             WHERE m.execution_arn = ?1",
        )
        .and_then(|mut s| {
            s.query_map(params![arn], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<i64>>>()
        })
        .map_err(backend)?;
    for child in children.into_iter().chain(std::iter::once(id)) {
        let base = history_base(child)?;
        exec(
            tx,
            "DELETE FROM history WHERE key >= ?1 AND key < ?2",
            params![base, base + HISTORY_SPAN],
        )?;
        exec(tx, "DELETE FROM executions WHERE id = ?1", params![child])?;
    }
    for sql in [
        "DELETE FROM map_runs WHERE execution_arn = ?1",
        "DELETE FROM timers WHERE execution_arn = ?1",
        "DELETE FROM tasks WHERE execution_arn = ?1",
    ] {
        exec(tx, sql, params![arn])?;
    }
    Ok(())
}

/// The `definitions` row holding `text`, inserting it if new. Rows inserted in
/// this transaction go to `new_defs` and join the cache only once it commits.
fn definition_id(
    tx: &Connection,
    cache: &HashMap<String, i64>,
    text: &str,
    new_defs: &mut Vec<(String, i64)>,
) -> Result<i64> {
    if let Some(id) = cache.get(text) {
        return Ok(*id);
    }
    if let Some((_, id)) = new_defs.iter().find(|(t, _)| t == text) {
        return Ok(*id);
    }
    let hash = fnv1a(text);
    let found = {
        let mut s = tx
            .prepare_cached("SELECT id, text FROM definitions WHERE hash = ?1")
            .map_err(backend)?;
        let rows = s
            .query_map(params![hash], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(backend)?;
        let mut found = None;
        for row in rows {
            let (id, t) = row.map_err(backend)?;
            if t == text {
                found = Some(id);
                break;
            }
        }
        found
    };
    let id = match found {
        Some(id) => id,
        None => {
            exec(
                tx,
                "INSERT INTO definitions (hash, text) VALUES (?1, ?2)",
                params![hash, text],
            )?;
            tx.last_insert_rowid()
        }
    };
    new_defs.push((text.to_string(), id));
    Ok(id)
}

fn exec(tx: &Connection, sql: &str, p: impl rusqlite::Params) -> Result<usize> {
    tx.prepare_cached(sql)
        .and_then(|mut s| s.execute(p))
        .map_err(backend)
}

// ---------------------------------------------------------------- the trait

impl Store for SqliteStore {
    fn commit(&self, batches: &[Batch]) -> Result<()> {
        if batches.iter().all(Batch::is_empty) {
            return Ok(());
        }
        let mut guard = lock(&self.writer);
        let Writer { conn, definitions } = &mut *guard;
        let mut new_defs = Vec::new();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(backend)?;
        // Dropping `tx` on an early return rolls everything back.
        for batch in batches {
            for write in &batch.writes {
                apply(&tx, definitions, write, &mut new_defs)?;
            }
        }
        tx.commit().map_err(backend)?;
        if definitions.len() + new_defs.len() > MAX_CACHED_DEFINITIONS {
            definitions.clear();
        }
        definitions.extend(new_defs);
        Ok(())
    }

    fn load_catalog(&self) -> Result<Catalog> {
        self.read(|c| {
            let state_machines = c
                .prepare_cached(
                    "SELECT arn, name, machine_type, definition, role_arn, revision_id,
                     created_millis, config, next_version FROM state_machines ORDER BY arn",
                )?
                .query_map([], |r| {
                    Ok(StateMachineRecord {
                        arn: r.get(0)?,
                        name: r.get(1)?,
                        machine_type: machine_type(&r.get::<_, String>(2)?)?,
                        definition: r.get(3)?,
                        role_arn: r.get(4)?,
                        revision_id: r.get(5)?,
                        created_millis: r.get(6)?,
                        config: r.get(7)?,
                        next_version: r.get(8)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let versions = c
                .prepare_cached(
                    "SELECT arn, machine_arn, version, definition, role_arn, revision_id,
                     description, created_millis, config FROM versions ORDER BY arn",
                )?
                .query_map([], |r| {
                    Ok(VersionRecord {
                        arn: r.get(0)?,
                        machine_arn: r.get(1)?,
                        version: r.get(2)?,
                        definition: r.get(3)?,
                        role_arn: r.get(4)?,
                        revision_id: r.get(5)?,
                        description: r.get(6)?,
                        created_millis: r.get(7)?,
                        config: r.get(8)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let aliases = c
                .prepare_cached(
                    "SELECT arn, machine_arn, name, description, routing, created_millis,
                     updated_millis FROM aliases ORDER BY arn",
                )?
                .query_map([], |r| {
                    Ok(AliasRecord {
                        arn: r.get(0)?,
                        machine_arn: r.get(1)?,
                        name: r.get(2)?,
                        description: r.get(3)?,
                        routing: decode_routing(&r.get::<_, String>(4)?)?,
                        created_millis: r.get(5)?,
                        updated_millis: r.get(6)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let activities = c
                .prepare_cached(
                    "SELECT arn, name, created_millis, config FROM activities ORDER BY arn",
                )?
                .query_map([], |r| {
                    Ok(ActivityRecord {
                        arn: r.get(0)?,
                        name: r.get(1)?,
                        created_millis: r.get(2)?,
                        config: r.get(3)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let tags = c
                .prepare_cached("SELECT arn, key, value FROM tags ORDER BY rowid")?
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(Catalog {
                state_machines,
                versions,
                aliases,
                activities,
                tags,
            })
        })
    }

    fn load_recovery(&self) -> Result<Recovery> {
        self.read(|c| {
            // One read transaction, so executions and their work are consistent.
            c.execute_batch("BEGIN")?;
            let out = (|| {
                let running = c
                    .prepare_cached(&format!(
                        "SELECT {EXEC_COLUMNS} FROM {EXEC_FROM} WHERE e.status = 'RUNNING'
                         AND e.map_run_arn IS NULL ORDER BY e.id"
                    ))?
                    .query_map([], exec_row)?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                let timers = c
                    .prepare_cached(
                        "SELECT t.execution_arn, t.timer, t.due_millis FROM timers t
                         JOIN executions e ON e.arn = t.execution_arn
                         WHERE e.status = 'RUNNING' ORDER BY t.due_millis",
                    )?
                    .query_map([], timer_row)?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                let tasks = c
                    .prepare_cached(
                        "SELECT t.token, t.execution_arn, t.task, t.state_name, t.resource,
                         t.activity_arn, t.input, t.created_millis, t.worker FROM tasks t
                         JOIN executions e ON e.arn = t.execution_arn
                         WHERE e.status = 'RUNNING' ORDER BY t.created_millis",
                    )?
                    .query_map([], task_row)?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                Ok(Recovery {
                    running,
                    timers,
                    tasks,
                })
            })();
            c.execute_batch("COMMIT")?;
            out
        })
    }

    fn execution(&self, arn: &str) -> Result<Option<ExecutionRecord>> {
        self.read(|c| {
            c.prepare_cached(&format!(
                "SELECT {EXEC_COLUMNS} FROM {EXEC_FROM} WHERE e.arn = ?1"
            ))?
            .query_row(params![arn], exec_row)
            .optional()
        })
    }

    fn map_run_execution(&self, map_run_arn: &str) -> Result<Option<String>> {
        self.read(|c| {
            c.prepare_cached("SELECT execution_arn FROM map_runs WHERE arn = ?1")?
                .query_row(params![map_run_arn], |r| r.get(0))
                .optional()
        })
    }

    fn execution_arns(&self, each: &mut dyn FnMut(&str)) -> Result<()> {
        self.read(|c| {
            let mut stmt = c.prepare_cached("SELECT arn FROM executions")?;
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                each(row.get_ref(0)?.as_str()?);
            }
            Ok(())
        })
    }

    fn execution_counts(&self) -> Result<Vec<(String, String, u64)>> {
        // One pass over the (machine, status) index, not the rows.
        self.read(|c| {
            c.prepare_cached(
                "SELECT machine_arn, status, COUNT(*) FROM executions GROUP BY machine_arn, status",
            )?
            .query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)? as u64))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()
        })
    }

    fn executions(&self, q: &ExecutionQuery) -> Result<Vec<ExecutionRecord>> {
        let mut sql = format!("SELECT {EXEC_COLUMNS} FROM {EXEC_FROM} WHERE 1");
        let mut args: Vec<&dyn rusqlite::ToSql> = Vec::new();
        // Parameter numbers are fixed per filter so each shape caches one statement.
        if let Some(m) = &q.machine_arn {
            sql.push_str(" AND e.machine_arn = ?1");
            args.push(m);
        }
        if let Some(v) = &q.version_arn {
            sql.push_str(&format!(" AND e.version_arn = ?{}", args.len() + 1));
            args.push(v);
        }
        if let Some(a) = &q.alias_arn {
            sql.push_str(&format!(" AND e.alias_arn = ?{}", args.len() + 1));
            args.push(a);
        }
        if let Some(r) = &q.map_run_arn {
            sql.push_str(&format!(" AND e.map_run_arn = ?{}", args.len() + 1));
            args.push(r);
        }
        if let Some(s) = &q.status {
            sql.push_str(&format!(" AND e.status = ?{}", args.len() + 1));
            args.push(s);
        }
        if let Some(n) = &q.name_contains {
            // instr, not LIKE: the text is matched as it is, `%` and `_` included.
            sql.push_str(&format!(" AND instr(e.name, ?{}) > 0", args.len() + 1));
            args.push(n);
        }
        if let Some(t) = &q.started_from {
            sql.push_str(&format!(" AND e.start_millis >= ?{}", args.len() + 1));
            args.push(t);
        }
        if let Some(t) = &q.started_before {
            sql.push_str(&format!(" AND e.start_millis < ?{}", args.len() + 1));
            args.push(t);
        }
        if let Some((start, arn)) = &q.after {
            let (a, b) = (args.len() + 1, args.len() + 2);
            sql.push_str(&format!(
                " AND (e.start_millis < ?{a} OR (e.start_millis = ?{a} AND e.arn > ?{b}))"
            ));
            args.push(start);
            args.push(arn);
        }
        let lim = limit(q.limit);
        sql.push_str(&format!(
            " ORDER BY e.start_millis DESC, e.arn LIMIT ?{}",
            args.len() + 1
        ));
        args.push(&lim);
        self.read(|c| {
            c.prepare_cached(&sql)?
                .query_map(args.as_slice(), exec_row)?
                .collect::<rusqlite::Result<Vec<_>>>()
        })
    }

    fn history(
        &self,
        execution_arn: &str,
        from: u64,
        reverse: bool,
        limit_n: usize,
    ) -> Result<Vec<StoredEvent>> {
        // Event ids are below HISTORY_SPAN (checked on write).
        let from_id = i64::try_from(from).unwrap_or(i64::MAX).min(HISTORY_SPAN);
        // Rows are runs of events (see migrations/0003 and 0005): start at the run
        // holding the first wanted event and split runs until `limit_n` events are gathered.
        self.read(|c| {
            let Some(execution_id) = c
                .prepare_cached("SELECT id FROM executions WHERE arn = ?1")?
                .query_row(params![execution_arn], |r| r.get::<_, i64>(0))
                .optional()?
            else {
                return Ok(Vec::new());
            };
            let base = execution_id.saturating_mul(HISTORY_SPAN);
            let (low, high) = if reverse {
                (base, base + from_id)
            } else {
                let first_run: Option<i64> = c
                    .prepare_cached(
                        "SELECT key FROM history WHERE key >= ?1 AND key <= ?2
                         ORDER BY key DESC LIMIT 1",
                    )?
                    .query_row(
                        params![base, base + (from_id + 1).min(HISTORY_SPAN - 1)],
                        |r| r.get(0),
                    )
                    .optional()?;
                (first_run.unwrap_or(base), base + HISTORY_SPAN)
            };
            let mut stmt = c.prepare_cached(if reverse {
                "SELECT key, json FROM history WHERE key >= ?1 AND key < ?2 ORDER BY key DESC"
            } else {
                "SELECT key, json FROM history WHERE key >= ?1 AND key < ?2 ORDER BY key"
            })?;
            let mut rows = stmt.query(params![low, high])?;
            let mut out = Vec::new();
            while out.len() < limit_n {
                let Some(row) = rows.next()? else {
                    break;
                };
                let first = u(row.get::<_, i64>(0)? - base);
                let text: String = row.get(1)?;
                let run = text
                    .split(RUN_SEPARATOR)
                    .enumerate()
                    .map(|(k, json)| StoredEvent {
                        id: first + k as u64,
                        json: json.to_string(),
                    });
                if reverse {
                    let mut run: Vec<StoredEvent> = run.filter(|e| e.id < from).collect();
                    run.reverse();
                    out.extend(run);
                } else {
                    out.extend(run.filter(|e| e.id > from));
                }
            }
            out.truncate(limit_n);
            Ok(out)
        })
    }

    fn events(&self, after: u64, limit_n: usize) -> Result<Vec<OutboxEvent>> {
        self.outbox_page(after, limit_n)
    }

    fn delete_closed_executions(&self, stopped_before: i64, limit_n: usize) -> Result<Vec<String>> {
        self.sweep(stopped_before, limit_n)
    }
}

impl SqliteStore {
    fn outbox_page(&self, after: u64, limit_n: usize) -> Result<Vec<OutboxEvent>> {
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        self.read(|c| {
            c.prepare_cached(
                "SELECT seq, id, execution_arn, created_millis, body FROM outbox
                 WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            )?
            .query_map(params![after, limit(limit_n)], |r| {
                Ok(OutboxEvent {
                    seq: u(r.get(0)?),
                    id: r.get(1)?,
                    execution_arn: r.get(2)?,
                    created_millis: r.get(3)?,
                    body: r.get(4)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()
        })
    }

    fn sweep(&self, stopped_before: i64, limit_n: usize) -> Result<Vec<String>> {
        let mut guard = lock(&self.writer);
        let tx = guard
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(backend)?;
        // The partial index of migration 0009 (its WHERE is implied), named: without
        // statistics the planner prefers the status index, a walk over every closed
        // execution.
        let victims: Vec<(i64, String)> = tx
            .prepare_cached(&format!(
                "SELECT id, arn FROM executions INDEXED BY executions_stop
                 WHERE stop_millis IS NOT NULL AND map_run_arn IS NULL AND stop_millis < ?1
                 AND status IN {CLOSED} ORDER BY stop_millis LIMIT ?2"
            ))
            .and_then(|mut s| {
                s.query_map(params![stopped_before, limit(limit_n)], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(backend)?;
        for (id, arn) in &victims {
            delete_execution(&tx, *id, arn)?;
        }
        tx.commit().map_err(backend)?;
        Ok(victims.into_iter().map(|(_, arn)| arn).collect())
    }
}

/// Joins the events of a history run: ASCII record separator, a control character that
/// valid JSON text never holds unescaped (not even as whitespace).
const RUN_SEPARATOR: char = '\u{1e}';

/// Split events into runs of consecutive ids (one row each).
fn consecutive_runs(events: &[StoredEvent]) -> Vec<&[StoredEvent]> {
    let mut runs = Vec::new();
    let mut start = 0;
    for k in 1..=events.len() {
        if k == events.len() || events[k].id != events[k - 1].id + 1 {
            if start < k {
                runs.push(&events[start..k]);
            }
            start = k;
        }
    }
    runs
}

#[cfg(test)]
#[path = "tests/store.rs"]
mod tests;
