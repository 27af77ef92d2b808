//! One module per command group. Each translates arguments, calls the
//! library, and prints; none holds a rule of its own.

pub mod acme;
pub mod cert;
pub mod certbot_import;
pub mod domain;
#[cfg(feature = "certbot")]
pub mod export;
pub mod import;
pub mod init;
pub mod key;
pub mod nginx;
pub mod order;
#[cfg(feature = "redis")]
pub mod redis;
pub mod renew;
pub mod renewal_config;
pub mod serve;

use std::path::Path;
use std::sync::Arc;

use peter_core::app::Peter;
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
        #[source]
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
                ErrorKind::InvalidInput | ErrorKind::Unconfigured => 2,
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

    /// The admin API's error document for this failure (what `--json` prints).
    pub fn error_document(&self) -> serde_json::Value {
        use peter_http::admin::answer::ErrorBody;
        let body = match self {
            CliError::Core(e) => ErrorBody::of(e),
            other => ErrorBody::new(other.to_string()),
        };
        peter_http::views::render(&body)
    }

    /// Wraps an IO error with its path.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        CliError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}

/// Everything a command needs: configuration and the facade.
pub struct Context {
    /// Loaded configuration.
    pub config: Config,
    /// The facade over the store, the ACME client and the publishers.
    pub peter: Peter,
    /// `--json`.
    pub json: bool,
    /// The store the facade is built on (for `serve --dns`).
    #[cfg_attr(not(feature = "dns"), allow(dead_code))]
    pub store: Arc<SqlStore>,
}

impl Context {
    /// Loads configuration and opens (and migrates) the store.
    pub async fn open(cli: &Cli) -> Result<Self, CliError> {
        Self::open_with(cli, |_, _| {}).await
    }

    /// Like [`Context::open`], with the command's own overrides of the
    /// configuration and the facade's settings.
    pub async fn open_with(
        cli: &Cli,
        adjust: impl FnOnce(&mut Config, &mut peter_core::app::Settings),
    ) -> Result<Self, CliError> {
        let mut config = Config::load(&cli.data_dir)?;
        let node = format!(
            "{}-{}",
            std::env::var("HOSTNAME").unwrap_or_else(|_| "peter".into()),
            std::process::id()
        );
        let mut settings = settings(node)
            .with_max_chain_certificates(config.max_chain_certificates.max(1))
            .with_serving_deadline(std::time::Duration::from_millis(
                config.server.store_deadline_milliseconds.clamp(10, 60_000),
            ))
            .with_config_cache_bytes(
                config
                    .server
                    .config_cache_megabytes
                    .min(4096)
                    .saturating_mul(1024 * 1024),
            );
        settings.autocert = peter_core::app::AutocertSettings {
            allowed_suffixes: config.autocert.allow.clone(),
            per_name_interval: time::Duration::minutes(
                i64::try_from(config.autocert.per_name_minutes).unwrap_or(i64::MAX),
            ),
            per_hour: config.autocert.per_hour,
        };
        adjust(&mut config, &mut settings);
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
        let clock = clock();
        tracing::debug!(
            backend = url.split(':').next().unwrap_or_default(),
            "opening the store"
        );
        let store = Arc::new(SqlStore::connect(&url, clock.clone()).await?);
        tracing::trace!("store open and migrated");
        let mut builder = Peter::builder()
            .shared_store(store.clone())
            .clock(clock)
            .acme(peter_acme::InstantAcme)
            .settings(settings);
        #[cfg(not(feature = "redis"))]
        if !config.redis.url.is_empty() {
            return Err(CliError::Usage(
                "redis.url is set, but this peter was built without Redis support".into(),
            ));
        }
        #[cfg(feature = "redis")]
        if !config.redis.url.is_empty() {
            let style = config
                .redis
                .prime_style
                .parse()
                .map_err(|e: peter_core::model::UnknownValue| CliError::Usage(e.to_string()))?;
            let ttl = (config.redis.ttl_seconds > 0).then_some(config.redis.ttl_seconds);
            let primer = peter_store::redis_prime::RedisPrimer::lazy(
                &config.redis.url,
                &config.redis.key_prefix,
                ttl,
            )
            .map_err(|e| CliError::Usage(format!("redis.url: {e}")))?;
            builder = builder.redis(Arc::new(primer), style, config.redis.prime_on_change);
        }
        if let Some(nginx) = nginx::nginx_client(&config)? {
            builder = builder.nginx(Arc::new(nginx));
        }
        let alerts = &config.alerts;
        let timeout = std::time::Duration::from_secs(alerts.timeout_seconds.clamp(1, 300));
        if !alerts.webhook_url.is_empty() {
            let webhook = peter_http::alerts::WebhookAlerts::new(
                &alerts.webhook_url,
                &alerts.webhook_secret,
                timeout,
            )
            .map_err(CliError::Usage)?;
            builder = builder.alert_target(Arc::new(webhook));
        }
        if !alerts.exec.is_empty() {
            let exec = peter_http::alerts::ExecAlerts::new(&alerts.exec, timeout)
                .map_err(CliError::Usage)?;
            builder = builder.alert_target(Arc::new(exec));
        }
        #[cfg(feature = "dns")]
        if let Some(method) = dns_method(&config.dns, store.clone())? {
            builder = builder.dns_solver(method);
        }
        #[cfg(not(feature = "dns"))]
        if !config.dns.exec.is_empty() || config.dns.rfc2136.is_some() || config.dns.peter.is_some()
        {
            return Err(CliError::Usage(
                "dns.exec: this peter was built without the `dns` feature".into(),
            ));
        }
        Ok(Self {
            config,
            peter: builder.build()?,
            json: cli.json,
            store,
        })
    }
}

/// The DNS-01 method `[dns]` configures, if any (one at most).
#[cfg(feature = "dns")]
fn dns_method(
    dns: &crate::config::DnsConfig,
    store: Arc<SqlStore>,
) -> Result<Option<Arc<dyn peter_core::ports::DnsChallengeSolver>>, CliError> {
    let usage = |key: &str, e: String| CliError::Usage(format!("dns.{key}: {e}"));
    let methods = usize::from(!dns.exec.is_empty())
        + usize::from(dns.rfc2136.is_some())
        + usize::from(dns.peter.is_some());
    if methods > 1 {
        return Err(CliError::Usage(
            "[dns]: give one DNS-01 method (`exec`, `[dns.rfc2136]` or `[dns.peter]`), not both"
                .into(),
        ));
    }
    if let Some(p) = &dns.peter {
        let resolver =
            match p.resolver.trim() {
                "" => None,
                text => Some(text.parse::<std::net::SocketAddr>().map_err(|_| {
                    usage("peter.resolver", format!("`{text}` is not address:port"))
                })?),
            };
        let method = peter_acme::dns::PeterDns::new(store, &p.zone, resolver)
            .map_err(|e| usage("peter.zone", e))?;
        return Ok(Some(Arc::new(method)));
    }
    match (&dns.exec[..], &dns.rfc2136) {
        ([], None) => Ok(None),
        ([_, ..], Some(_)) => Err(CliError::Usage(
            "[dns]: give one DNS-01 method, `exec` or `[dns.rfc2136]`, not both".into(),
        )),
        (command, None) => {
            let timeout = std::time::Duration::from_secs(dns.timeout_seconds.clamp(1, 3600));
            let hook = peter_acme::dns::ExecDnsHook::new(command, timeout)
                .map_err(|e| usage("exec", e))?;
            Ok(Some(Arc::new(hook)))
        }
        ([], Some(r)) => {
            let addr = |key: &str, text: &str| {
                text.parse::<std::net::SocketAddr>()
                    .map_err(|_| usage(key, format!("`{text}` is not address:port")))
            };
            let check = r
                .check
                .iter()
                .map(|c| addr("rfc2136.check", c))
                .collect::<Result<Vec<_>, _>>()?;
            let method = peter_acme::dns::Rfc2136::new(peter_acme::dns::Rfc2136Settings {
                server: addr("rfc2136.server", &r.server)?,
                zone: r.zone.clone(),
                key_name: r.key_name.clone(),
                key_algorithm: r.key_algorithm.clone(),
                key_secret: r.key_secret.clone(),
                check,
                ttl: r.ttl,
                propagation_timeout: std::time::Duration::from_secs(
                    r.propagation_timeout_seconds.clamp(1, 3600),
                ),
            })
            .map_err(|e| usage("rfc2136", e))?;
            Ok(Some(Arc::new(method)))
        }
    }
}

/// The system clock; in test builds, moved by `PETER_TEST_CLOCK_OFFSET_SECONDS`
/// so a test can run a node "later" without sleeping.
fn clock() -> Arc<dyn Clock> {
    #[cfg(feature = "testkit")]
    if let Some(offset) = std::env::var("PETER_TEST_CLOCK_OFFSET_SECONDS")
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
    {
        return Arc::new(peter_core::testkit::OffsetClock::new(
            time::Duration::seconds(offset),
        ));
    }
    Arc::new(SystemClock)
}

fn settings(node: String) -> peter_core::app::Settings {
    let settings = peter_core::app::Settings::default().with_node_name(node);
    #[cfg(feature = "testkit")]
    let settings = settings.with_orders(peter_core::app::OrderSettings {
        checkpoint: Some(order::kill_at_checkpoint),
        ..Default::default()
    });
    settings
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> Result<(), CliError> {
    match &cli.command {
        crate::Command::Init => init::run(&cli).await,
        crate::Command::Import(c) => import::run(&cli, c).await,
        crate::Command::Cert(c) => cert::run(&cli, c).await,
        crate::Command::Key(c) => key::run(&cli, c).await,
        crate::Command::Domain(c) => domain::run(&cli, c).await,
        crate::Command::RenewalConfiguration(c) => renewal_config::run(&cli, c).await,
        crate::Command::Serve {
            listen,
            public_only,
            admin,
            renew_every,
            renew_days,
            lease_seconds,
            dns,
        } => {
            let renewals = match renew_every {
                Some(every) => Some(serve::Renewals::new(*every, *renew_days, *lease_seconds)?),
                None => None,
            };
            serve::run(
                &cli,
                listen.as_deref(),
                dns.as_deref(),
                *public_only,
                *admin,
                renewals,
            )
            .await
        }
        crate::Command::AcmeServer(c) => acme::run_server(&cli, c).await,
        crate::Command::Account(c) => acme::run_account(&cli, c).await,
        crate::Command::Order(c) => order::run(&cli, c).await,
        #[cfg(feature = "redis")]
        crate::Command::Redis(c) => redis::run(&cli, c).await,
        crate::Command::Nginx(c) => nginx::run(&cli, c).await,
        #[cfg(feature = "certbot")]
        crate::Command::Export(c) => export::run(&cli, c).await,
        crate::Command::Alerts { page } => renew::alerts(&cli, *page).await,
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
        #[cfg(feature = "fake-server")]
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

/// Reads a text file given on the command line; binary DER where PEM text
/// is expected gets a message saying so, and how to convert it.
pub fn read_text(path: &Path) -> Result<String, CliError> {
    let bytes = std::fs::read(path).map_err(|e| CliError::io(path, e))?;
    String::from_utf8(bytes).map_err(|e| {
        let shown = crate::output::printable(&path.display().to_string());
        CliError::Usage(if e.as_bytes().first() == Some(&0x30) {
            format!(
                "{shown} is DER (binary), not PEM text; convert it first \
                 (openssl x509 -inform der -in FILE -out FILE.pem, or openssl pkey for a key)"
            )
        } else {
            format!("{shown} is not text (not UTF-8); give a PEM file")
        })
    })
}
