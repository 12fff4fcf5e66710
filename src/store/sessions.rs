//! Where agent sessions (tower-sessions) live: a table in the same database. Its sqlx store
//! needs a pool of the concrete engine, so one small pool is opened beside the shared one,
//! with the same SQLite settings.

use async_trait::async_trait;
use sqlx::Executor;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

use super::{Engine, Result, SQLITE_PRAGMAS, Store};

/// The session store of whichever engine the database is.
#[derive(Debug, Clone)]
pub enum SessionStore {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

const SESSION_POOL_SIZE: u32 = 4;

impl Store {
    /// Opens the session store's pool and creates its table if needed.
    pub async fn session_store(&self) -> Result<SessionStore> {
        let store = match self.engine {
            Engine::Sqlite => {
                let pool = sqlx::sqlite::SqlitePoolOptions::new()
                    .max_connections(SESSION_POOL_SIZE)
                    .acquire_timeout(self.acquire_timeout)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            conn.execute(SQLITE_PRAGMAS).await?;
                            Ok(())
                        })
                    })
                    .connect(&self.url)
                    .await?;
                let store = SqliteStore::new(pool);
                store.migrate().await?;
                SessionStore::Sqlite(store)
            }
            Engine::Postgres => {
                let pool = sqlx::postgres::PgPoolOptions::new()
                    .max_connections(SESSION_POOL_SIZE)
                    .acquire_timeout(self.acquire_timeout)
                    .connect(&self.url)
                    .await?;
                let store = PostgresStore::new(pool);
                store.migrate().await?;
                SessionStore::Postgres(store)
            }
        };
        Ok(store)
    }
}

impl SessionStore {
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
impl session_store::SessionStore for SessionStore {
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
impl ExpiredDeletion for SessionStore {
    async fn delete_expired(&self) -> session_store::Result<()> {
        match self {
            Self::Sqlite(s) => s.delete_expired().await,
            Self::Postgres(s) => s.delete_expired().await,
        }
    }
}
