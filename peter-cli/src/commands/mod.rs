//! One module per command group. Each translates arguments, calls the
//! library, and prints; none holds a rule of its own.

pub mod acme;
pub mod cert;
pub mod certbot_import;
pub mod domain;
pub mod export;
pub mod import;
pub mod init;
pub mod nginx;
pub mod order;
pub mod redis;
pub mod renew;
pub mod serve;

use std::path::Path;
use std::sync::Arc;

use peter_core::ports::{Clock, StoreError, SystemClock};
use peter_core::{Error as CoreError, ErrorKind};
use peter_store::SqlStore;

use crate::Cli;
use crate::config::{Config, ConfigError};

/// A command's failure.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// From the library.
    #[error(transparent)]
    Core(#[from] CoreError),
    /// From the configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// A usage problem clap cannot express.
    #[error("{0}")]
    Usage(String),
    /// A service peter publishes to is down.
    #[error("{0}")]
    Unavailable(String),
}

impl From<StoreError> for CliError {
    fn from(e: StoreError) -> Self {
        CliError::Core(e.into())
    }
}

impl CliError {
    /// The process exit code for this failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Core(e) => match e.kind() {
                ErrorKind::InvalidInput => 2,
                ErrorKind::NotFound => 3,
                ErrorKind::Conflict => 4,
                ErrorKind::Unavailable => 5,
                ErrorKind::Internal => 1,
                ErrorKind::Upstream => 6,
                ErrorKind::RateLimited => 7,
            },
            CliError::Config(_) | CliError::Usage(_) => 2,
            CliError::Io { .. } => 2,
            CliError::Unavailable(_) => 5,
        }
    }

    /// Wraps an IO error with its path.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        CliError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}

/// Everything a command needs: configuration and an open store.
pub struct Context {
    /// Loaded configuration.
    pub config: Config,
    /// The store.
    pub store: Arc<SqlStore>,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// `--json`.
    pub json: bool,
}

impl Context {
    /// The ACME client, recording into this store.
    pub fn acme(&self) -> Arc<dyn peter_core::ports::AcmeClient> {
        let store: Arc<dyn peter_core::ports::Store> = self.store.clone();
        Arc::new(peter_acme::InstantAcmeClient::new(store))
    }

    /// After certificates were issued, imported or marked: rewrites their
    /// domains in Redis when `redis.prime_on_change` is set. A Redis failure
    /// is a warning on stderr, not the command's failure: the store change
    /// is committed.
    pub async fn after_certificate_change(&self, ids: &[peter_core::model::CertificateSignedId]) {
        if ids.is_empty() || self.config.redis.url.is_empty() || !self.config.redis.prime_on_change
        {
            return;
        }
        let style = match self.config.redis.prime_style.parse() {
            Ok(s) => s,
            Err(e) => {
                eprintln!("peter: warning: redis priming skipped: {e}");
                return;
            }
        };
        let ttl = (self.config.redis.ttl_seconds > 0).then_some(self.config.redis.ttl_seconds);
        let primer =
            match peter_store::redis_prime::RedisPrimer::connect(&self.config.redis.url, "", ttl)
                .await
            {
                Ok(p) => p,
                Err(e) => {
                    eprintln!("peter: warning: redis priming skipped: {e}");
                    return;
                }
            };
        for id in ids {
            if let Err(e) = peter_core::services::publish::republish_certificate(
                self.store.as_ref(),
                &primer,
                style,
                *id,
            )
            .await
            {
                eprintln!("peter: warning: redis priming of certificate {id} failed: {e}");
            }
        }
    }

    /// Loads configuration and opens (and migrates) the store.
    pub async fn open(cli: &Cli) -> Result<Self, CliError> {
        let config = Config::load(&cli.data_dir)?;
        let url = cli
            .database_url
            .clone()
            .unwrap_or_else(|| config.database_url(&cli.data_dir));
        if url.starts_with("sqlite:") && !cli.data_dir.exists() {
            return Err(CliError::Usage(format!(
                "data dir {} does not exist; run `peter init` first",
                cli.data_dir.display()
            )));
        }
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let store = SqlStore::connect(&url, clock.clone()).await?;
        Ok(Self {
            config,
            store: Arc::new(store),
            clock,
            json: cli.json,
        })
    }
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> Result<(), CliError> {
    match &cli.command {
        crate::Command::Init => init::run(&cli).await,
        crate::Command::Import(c) => import::run(&cli, c).await,
        crate::Command::Cert(c) => cert::run(&cli, c).await,
        crate::Command::Domain(c) => domain::run(&cli, c).await,
        crate::Command::Serve {
            listen,
            public_only,
            admin,
        } => serve::run(&cli, listen.as_deref(), *public_only, *admin).await,
        crate::Command::AcmeServer(c) => acme::run_server(&cli, c).await,
        crate::Command::Account(c) => acme::run_account(&cli, c).await,
        crate::Command::Order(c) => order::run(&cli, c).await,
        crate::Command::Redis(c) => redis::run(&cli, c).await,
        crate::Command::Nginx(c) => nginx::run(&cli, c).await,
        crate::Command::Export(c) => export::run(&cli, c).await,
        crate::Command::Renew {
            days,
            dry_run,
            http_listen,
            lease_seconds,
        } => {
            renew::run(
                &cli,
                *days,
                *dry_run,
                http_listen.as_deref(),
                *lease_seconds,
            )
            .await
        }
        crate::Command::FakeServer { listen } => {
            let addr: std::net::SocketAddr = listen.parse().map_err(|_| {
                CliError::Usage(format!(
                    "--listen `{listen}` is not an address like 127.0.0.1:7201"
                ))
            })?;
            let (local, task) = peter_http::fake::start_fake_server(addr)
                .await
                .map_err(|e| CliError::Usage(format!("cannot listen on {addr}: {e}")))?;
            eprintln!(
                "peter: fake server on http://{local} (canned data; not a certificate store)"
            );
            tokio::select! {
                r = task => r.map_err(|e| CliError::Usage(e.to_string()))?.map_err(|e| CliError::Usage(e.to_string()))?,
                _ = tokio::signal::ctrl_c() => {}
            }
            Ok(())
        }
        crate::Command::Completions { shell } => {
            use clap::CommandFactory;
            let mut command = crate::Cli::command();
            let mut script = Vec::new();
            clap_complete::generate(*shell, &mut command, "peter", &mut script);
            crate::output::write_stdout(&script);
            Ok(())
        }
    }
}

/// Reads a text file given on the command line.
pub fn read_text(path: &Path) -> Result<String, CliError> {
    std::fs::read_to_string(path).map_err(|e| CliError::io(path, e))
}
