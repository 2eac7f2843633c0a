//! Cairn's tracking server: configuration, and the application that binds, serves and shuts down.

pub mod artifacts;
pub mod http;
pub mod search;
pub mod store;

use actix_web::{web, App, HttpServer};
use anyhow::Context;
use artifacts::{Artifacts, Destination};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;
use store::sqlite::SqliteStore;
use store::{ArtifactIndex, LoggedModelStore, PromotionStore, RegistryStore, TrackingStore};

/// Largest request body accepted by the JSON endpoints (dataset profiles can be large).
const MAX_JSON_BODY: usize = 32 * 1024 * 1024;

/// Resolved server settings.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Interface to listen on.
    pub host: String,
    /// Port; 0 picks a free one.
    pub port: u16,
    /// Where the SQLite file and artifacts live unless overridden.
    pub data_dir: PathBuf,
    /// `sqlite:///relative.db` or `sqlite:////absolute.db`; default `<data_dir>/cairn.db`.
    pub backend_store_uri: Option<String>,
    /// Where artifact bytes go; default `<data_dir>/artifacts`.
    pub artifacts: Option<Destination>,
    /// Host names requests may address; `None` means the default for `host`
    /// (loopback names on loopback, any otherwise). `*` takes any.
    pub allowed_hosts: Option<Vec<String>>,
    /// The longest wait for a request's head after the connection opens.
    pub header_timeout: std::time::Duration,
    /// The longest wait for the next piece of a request body.
    pub body_idle_timeout: std::time::Duration,
    /// How long an idle keep-alive connection stays open.
    pub keep_alive: std::time::Duration,
    /// Artifact uploads received at once; more are refused with 503 until one ends.
    pub max_concurrent_uploads: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            host: "127.0.0.1".into(),
            port: 5000,
            data_dir: PathBuf::from("cairn-data"),
            backend_store_uri: None,
            artifacts: None,
            allowed_hosts: None,
            header_timeout: std::time::Duration::from_secs(10),
            body_idle_timeout: std::time::Duration::from_secs(60),
            keep_alive: std::time::Duration::from_secs(75),
            max_concurrent_uploads: 64,
        }
    }
}

impl ServerConfig {
    /// Where artifact bytes go.
    pub fn artifact_destination(&self) -> Destination {
        self.artifacts
            .clone()
            .unwrap_or_else(|| Destination::Local(self.data_dir.join("artifacts")))
    }

    /// The SQLite file this configuration names.
    pub fn database_path(&self) -> anyhow::Result<PathBuf> {
        database_path(&self.data_dir, self.backend_store_uri.as_deref())
    }
}

/// The SQLite file a data directory and an optional `--backend-store-uri` name.
pub fn database_path(
    data_dir: &std::path::Path,
    backend_store_uri: Option<&str>,
) -> anyhow::Result<PathBuf> {
    match backend_store_uri {
        None => Ok(data_dir.join("cairn.db")),
        Some(uri) => {
            // SQLAlchemy's spelling, which MLflow users already write: three slashes
            // then a relative path, or four for an absolute one.
            let path = uri.strip_prefix("sqlite:///").with_context(|| {
                format!("unsupported --backend-store-uri {uri:?}: only sqlite:///PATH is supported")
            })?;
            anyhow::ensure!(
                !path.is_empty(),
                "--backend-store-uri {uri:?} names no file"
            );
            Ok(PathBuf::from(path))
        }
    }
}

/// A bound, ready-to-run server.
pub struct Application {
    server: actix_web::dev::Server,
    port: u16,
    host: String,
    database: PathBuf,
    artifacts: String,
    store: Arc<SqliteStore>,
}

impl Application {
    /// Opens the stores (clearing what a crash left half-written), binds the listener
    /// and prepares the server (not yet running).
    pub async fn build(config: &ServerConfig) -> anyhow::Result<Self> {
        let database = config.database_path()?;
        let store = Arc::new(
            SqliteStore::open(&database)
                .with_context(|| format!("opening the store at {}", database.display()))?,
        );
        let blobs = config
            .artifact_destination()
            .open()
            .context("opening the artifact store")?;
        let artifacts = web::Data::new(Artifacts::new(
            blobs,
            store.clone() as Arc<dyn ArtifactIndex>,
        ));
        let swept = artifacts
            .recover()
            .await
            .context("clearing interrupted uploads")?;
        if swept > 0 {
            tracing::info!(swept, "removed uploads interrupted by the last stop");
        }
        let artifacts_at = artifacts.describe().to_owned();
        let listener = TcpListener::bind((config.host.as_str(), config.port))
            .with_context(|| format!("binding {}:{}", config.host, config.port))?;
        let port = listener.local_addr()?.port();
        let data: web::Data<dyn TrackingStore> =
            web::Data::from(store.clone() as Arc<dyn TrackingStore>);
        let promotions: web::Data<dyn PromotionStore> =
            web::Data::from(store.clone() as Arc<dyn PromotionStore>);
        let registry: web::Data<dyn RegistryStore> =
            web::Data::from(store.clone() as Arc<dyn RegistryStore>);
        let logged_models: web::Data<dyn LoggedModelStore> =
            web::Data::from(store.clone() as Arc<dyn LoggedModelStore>);
        let idempotency: http::Idempotency =
            web::Data::from(store.clone() as Arc<dyn crate::store::IdempotencyStore>);
        let in_flight = web::Data::new(http::idempotency::InFlight::default());
        let allowed_hosts = config
            .allowed_hosts
            .clone()
            .or_else(|| http::hygiene::default_allowed_hosts(&config.host));
        if allowed_hosts.is_none() {
            tracing::warn!(
                host = %config.host,
                "listening beyond loopback and accepting any Host header; name the server's host names with --allowed-hosts to guard against DNS rebinding"
            );
        }
        let hygiene = web::Data::new(http::hygiene::Hygiene::new(http::hygiene::Limits {
            allowed_hosts,
            body_idle: config.body_idle_timeout,
            max_uploads: config.max_concurrent_uploads,
        }));
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(artifacts.clone())
                .app_data(registry.clone())
                .app_data(promotions.clone())
                .app_data(logged_models.clone())
                .app_data(idempotency.clone())
                .app_data(in_flight.clone())
                .app_data(hygiene.clone())
                .app_data(web::PayloadConfig::new(MAX_JSON_BODY))
                .wrap(actix_web::middleware::from_fn(
                    http::idempotency::middleware,
                ))
                .wrap(actix_web::middleware::from_fn(http::hygiene::middleware))
                .wrap(http::json_errors())
                .configure(http::routes)
                .default_service(web::to(http::not_found))
        })
        .client_request_timeout(config.header_timeout)
        .keep_alive(config.keep_alive)
        .client_disconnect_timeout(std::time::Duration::from_secs(5))
        .listen(listener)?
        .shutdown_timeout(30)
        .run();
        Ok(Application {
            server,
            port,
            host: config.host.clone(),
            database,
            artifacts: artifacts_at,
            store,
        })
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The base URL clients use.
    pub fn url(&self) -> String {
        format!("http://{}:{}", self.host, self.port)
    }

    /// The SQLite file in use.
    pub fn database(&self) -> &std::path::Path {
        &self.database
    }

    /// Where artifact bytes are stored.
    pub fn artifact_store(&self) -> &str {
        &self.artifacts
    }

    /// Serves until SIGINT/SIGTERM, lets in-flight requests finish, then flushes the store.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.server.await?;
        self.store.shutdown();
        Ok(())
    }
}
