//! Agent sessions with tower-sessions, stored in the same database (its sqlx store needs a
//! concrete pool, so one is opened beside the store's), plus the session-bound CSRF token and
//! the expired-session clean-up.

use async_trait::async_trait;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

/// The session store of whichever engine the database URL names.
#[derive(Debug, Clone)]
pub enum AgentSessionStore {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

impl AgentSessionStore {
    /// Opens a small pool on `url` and creates the session table if needed.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        if url.starts_with("sqlite:") {
            let options: sqlx::sqlite::SqliteConnectOptions = url.parse()?;
            let options = options
                .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sqlx::sqlite::SqliteSynchronous::Full)
                .busy_timeout(std::time::Duration::from_secs(10));
            let pool = sqlx::sqlite::SqlitePoolOptions::new().max_connections(4).connect_with(options).await?;
            let store = SqliteStore::new(pool);
            store.migrate().await?;
            Ok(Self::Sqlite(store))
        } else {
            let pool = sqlx::postgres::PgPoolOptions::new().max_connections(4).connect(url).await?;
            let store = PostgresStore::new(pool);
            store.migrate().await?;
            Ok(Self::Postgres(store))
        }
    }

    /// Deletes expired sessions every `period`, until the task is dropped.
    pub fn spawn_cleanup(&self, period: std::time::Duration) -> tokio::task::JoinHandle<()> {
        let store = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(period);
            loop {
                tick.tick().await;
                if let Err(e) = store.delete_expired().await {
                    tracing::warn!(error = %e, "expired-session clean-up failed");
                }
            }
        })
    }
}

#[async_trait]
impl SessionStore for AgentSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        match self {
            Self::Sqlite(s) => s.create(record).await,
            Self::Postgres(s) => s.create(record).await,
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        match self {
            Self::Sqlite(s) => s.save(record).await,
            Self::Postgres(s) => s.save(record).await,
        }
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        match self {
            Self::Sqlite(s) => s.load(id).await,
            Self::Postgres(s) => s.load(id).await,
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        match self {
            Self::Sqlite(s) => s.delete(id).await,
            Self::Postgres(s) => s.delete(id).await,
        }
    }
}

#[async_trait]
impl ExpiredDeletion for AgentSessionStore {
    async fn delete_expired(&self) -> session_store::Result<()> {
        match self {
            Self::Sqlite(s) => s.delete_expired().await,
            Self::Postgres(s) => s.delete_expired().await,
        }
    }
}
