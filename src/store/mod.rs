//! One store API over SQLite and PostgreSQL, chosen by the database URL. The only module that
//! names sqlx. Queries are runtime `query` with binds (`$1` works on both engines); times are
//! Unix milliseconds, so every column decodes the same way on both.

mod agents;
mod conversations;
mod deliveries;
mod examples;
mod insights;
mod jobs;
mod listener;
mod models;
mod orders;
mod outbox;
mod presence;
mod privacy;
mod sessions;
mod shadow;
mod tx;

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions, Connection, Executor, Row};

pub use conversations::{NewMessage, VerificationCounts};
pub use examples::NewExample;
pub use listener::{Change, ChangeListener, Notice};
pub use models::{ModelArtefacts, NewModel};
pub use outbox::{AfterAttempt, Attempt, DueEvent, EventDelivery, Outbox};
pub use sessions::SessionStore;
pub use tx::Tx;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://...")]
    UnsupportedUrl(String),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("SQLite is not set up safely: {0}")]
    UnsafeSqlite(String),
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    /// A row with the same unique key exists.
    #[error("{0}")]
    Duplicate(String),
    #[error("order {order}: customer {customer} is neither in the same import nor already stored; push it first")]
    UnknownCustomer { order: String, customer: String },
    #[error("{0}")]
    Invalid(String),
    /// No connection came within the acquire timeout.
    #[error("the database is busy or unreachable: {0}")]
    Unavailable(String),
}

impl StoreError {
    /// Whether the database could not be reached or was too busy (a pool timeout, a lost or
    /// refused connection, PostgreSQL shutting down, SQLite locked or its disk full): worth
    /// retrying shortly, not a fault of the request.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Unavailable(_) => true,
            StoreError::Database(e) => is_unavailable(e),
            _ => false,
        }
    }
}

fn is_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::Tls(_) => true,
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            // SQLite: BUSY (5), LOCKED (6), FULL (13), also as extended codes (low byte).
            let sqlite_busy = code.parse::<i64>().is_ok_and(|c| matches!(c & 0xff, 5 | 6 | 13));
            // PostgreSQL: connection exceptions (08...), shutting down (57P01-57P03), too
            // many connections (53300), disk full (53100).
            let postgres_down = code.starts_with("08") || code.starts_with("57P") || code == "53300" || code == "53100";
            sqlite_busy || postgres_down
        }
        _ => false,
    }
}

/// How long a request may wait for a database connection before it is told to come back later.
pub const DEFAULT_ACQUIRE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

pub type Result<T> = std::result::Result<T, StoreError>;

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    engine: Engine,
    /// The database URL as given (with any password), for the connections that cannot come
    /// from the shared pool: the change listener and the session store's pool.
    url: Arc<str>,
    /// Permits to hold a [`Tx`]. A transaction's work also reads through the pool, so if
    /// every connection were held by a transaction waiting for a lock (SQLite's one writer,
    /// or a conversation's row), the transaction holding the lock could never get a
    /// connection for its reads. SQLite gets one permit (it has one writer anyway);
    /// PostgreSQL half the pool, so the other half is always free for reads.
    tx_gate: Arc<tokio::sync::Semaphore>,
    acquire_timeout: std::time::Duration,
    /// Events for the store's systems: where they go, and the sender's bell.
    outbox: Arc<Outbox>,
}

/// Every SQLite connection, of any pool, runs these first: WAL so readers never block the
/// writer, `synchronous=FULL` so a committed message survives a power cut.
/// Memory-mapped reads (up to 1 GiB) spare a system call and a copy per page on large scans
/// such as the outcomes report's.
const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 3000; PRAGMA mmap_size = 1073741824;";

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

impl Store {
    /// Connects, creating a SQLite file (and its folder) if needed, runs the migrations and
    /// checks that SQLite runs in WAL mode with `synchronous=FULL` and foreign keys on.
    pub async fn connect(url: &str) -> Result<Self> {
        Self::connect_with(url, DEFAULT_ACQUIRE_TIMEOUT).await
    }

    /// [`Store::connect`], waiting at most `acquire_timeout` for a connection (or a
    /// transaction's turn) before a query fails as unavailable.
    pub async fn connect_with(url: &str, acquire_timeout: std::time::Duration) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let engine = if url.starts_with("sqlite:") {
            Engine::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Engine::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_string()));
        };
        let url: Arc<str> = match engine {
            Engine::Sqlite => prepare_sqlite_url(url)?.into(),
            Engine::Postgres => url.into(),
        };
        let options = AnyConnectOptions::from_str(&url)?.disable_statement_logging();
        let max_connections: u32 = if engine == Engine::Sqlite { 8 } else { 16 };
        let tx_permits = if engine == Engine::Sqlite { 1 } else { max_connections as usize / 2 };
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(acquire_timeout)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if engine == Engine::Sqlite {
                        conn.execute(SQLITE_PRAGMAS).await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        let tx_gate = Arc::new(tokio::sync::Semaphore::new(tx_permits));
        let store = Self { pool, engine, url, tx_gate, acquire_timeout, outbox: Arc::default() };
        match engine {
            Engine::Sqlite => SQLITE_MIGRATIONS.run(&store.pool).await?,
            Engine::Postgres => POSTGRES_MIGRATIONS.run(&store.pool).await?,
        }
        if engine == Engine::Sqlite {
            store.check_sqlite().await?;
        }
        Ok(store)
    }

    async fn check_sqlite(&self) -> Result<()> {
        let mut conn = self.pool.acquire().await?;
        let journal: String = sqlx::query("PRAGMA journal_mode").fetch_one(&mut *conn).await?.try_get(0)?;
        let synchronous: i64 = sqlx::query("PRAGMA synchronous").fetch_one(&mut *conn).await?.try_get(0)?;
        let foreign_keys: i64 = sqlx::query("PRAGMA foreign_keys").fetch_one(&mut *conn).await?.try_get(0)?;
        if !journal.eq_ignore_ascii_case("wal") {
            return Err(StoreError::UnsafeSqlite(format!("journal_mode is {journal}, expected wal")));
        }
        if synchronous != 2 {
            return Err(StoreError::UnsafeSqlite(format!("synchronous is {synchronous}, expected 2 (FULL)")));
        }
        if foreign_keys != 1 {
            return Err(StoreError::UnsafeSqlite("foreign_keys is off".into()));
        }
        Ok(())
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// A cheap query, for readiness checks: unavailable when it takes longer than `limit`.
    pub async fn ping(&self, limit: std::time::Duration) -> Result<()> {
        let ping = async {
            let mut conn = self.pool.acquire().await?;
            conn.ping().await?;
            Ok(())
        };
        tokio::time::timeout(limit, ping).await.map_err(|_| StoreError::Unavailable("no answer in time".into()))?
    }

    /// Starts a transaction, after waiting (without holding a connection) for a permit, for
    /// no longer than the acquire timeout.
    pub async fn begin(&self) -> Result<Tx> {
        let permit = tokio::time::timeout(self.acquire_timeout, self.tx_gate.clone().acquire_owned())
            .await
            .map_err(|_| StoreError::Unavailable("no transaction slot came free in time".into()))?
            .map_err(|_| StoreError::Invalid("the store is closed".into()))?;
        Ok(Tx::new(self.pool.begin().await?, self.engine, permit, self.outbox.clone()))
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    fn pool(&self) -> &AnyPool {
        &self.pool
    }
}

/// Makes sure the SQLite file's folder exists and the URL creates the file.
fn prepare_sqlite_url(url: &str) -> Result<String> {
    let rest = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() || path == ":memory:" {
        return Err(StoreError::UnsupportedUrl(format!(
            "{url} (use a file: an in-memory database is lost between connections)"
        )));
    }
    if let Some(parent) = Path::new(path).parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| StoreError::Invalid(format!("cannot create the database folder {}: {e}", parent.display())))?;
    }
    let query = if query.contains("mode=") {
        query.to_string()
    } else if query.is_empty() {
        "mode=rwc".into()
    } else {
        format!("{query}&mode=rwc")
    };
    Ok(format!("sqlite://{path}?{query}"))
}

/// Current time in Unix milliseconds.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
