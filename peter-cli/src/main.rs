//! `peter`: the reference command line, thin over the same library calls
//! that the HTTP API and embedding programs use.
//!
//! Every failure is one line on stderr and a non-zero exit code:
//! 2 invalid input, 3 not found, 4 conflict, 5 unavailable, 1 anything else.

mod commands;
mod config;
mod output;
mod values;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// peter: a certificate manager for fleets.
#[derive(Debug, Parser)]
#[command(name = "peter", version, about, max_term_width = 100)]
pub struct Cli {
    /// Directory holding the configuration, the admin token and the SQLite store.
    #[arg(long, global = true, default_value = "./data", env = "PETER_DATA_DIR")]
    pub data_dir: PathBuf,
    /// Database URL (sqlite://PATH?mode=rwc or postgres://...); defaults to the SQLite file in the data dir.
    #[arg(long, global = true, env = "PETER_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Print machine-readable JSON on stdout.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the data dir, configuration, admin token and store (idempotent).
    Init,
    /// Import certificates obtained elsewhere.
    #[command(subcommand)]
    Import(commands::import::ImportCommand),
    /// Inspect and mark certificates.
    #[command(subcommand)]
    Cert(commands::cert::CertCommand),
    /// Inspect, generate and mark private keys.
    #[command(subcommand)]
    Key(commands::key::KeyCommand),
    /// Inspect and mark domains.
    #[command(subcommand)]
    Domain(commands::domain::DomainCommand),
    /// Serve the public routes (ACME challenge answers, whoami) from the store.
    Serve {
        /// Listen address (default: config `server.listen`, 127.0.0.1:7201).
        #[arg(long)]
        listen: Option<String>,
        /// Never mount the admin API.
        #[arg(long)]
        public_only: bool,
        /// Mount the admin API.
        #[arg(long)]
        admin: bool,
        /// Also renew what is due every SECONDS (as `peter renew` would,
        /// under the same leases), so a fleet needs no cron.
        #[arg(long, value_name = "SECONDS")]
        renew_every: Option<u64>,
        /// With --renew-every: renew what expires within this many days
        /// instead of by ARI window or remaining lifetime.
        #[arg(long, requires = "renew_every")]
        renew_days: Option<i64>,
        /// With --renew-every: how long this node may hold one renewal
        /// without progress before another node takes it over.
        #[arg(long, default_value_t = 600, requires = "renew_every")]
        lease_seconds: u64,
        /// Also answer peter's DNS zone (`[dns.peter]`) on this address,
        /// UDP and TCP: the TXT records of pending DNS-01 challenges, read
        /// from the shared store.
        #[arg(long, value_name = "ADDR")]
        dns: Option<String>,
    },
    /// Register and list ACME servers.
    #[command(subcommand, name = "acme-server")]
    AcmeServer(commands::acme::AcmeServerCommand),
    /// Create and inspect ACME accounts.
    #[command(subcommand)]
    Account(commands::acme::AccountCommand),
    /// Place and process ACME orders.
    #[command(subcommand)]
    Order(commands::order::OrderCommand),
    /// How each set of names is renewed: account, key policy, profile and
    /// a backup CA.
    #[command(subcommand, name = "renewal-configuration")]
    RenewalConfiguration(commands::renewal_config::RenewalConfigurationCommand),
    /// Load certificates into Redis for OpenResty gateways.
    #[cfg(feature = "redis")]
    #[command(subcommand)]
    Redis(commands::redis::RedisCommand),
    /// Expire OpenResty/nginx certificate caches, or read their status.
    #[command(subcommand)]
    Nginx(commands::nginx::NginxCommand),
    /// Write certificates to disk for web servers.
    #[cfg(feature = "certbot")]
    #[command(subcommand)]
    Export(commands::export::ExportCommand),
    /// Renew what is due (ARI window, else a third of the lifetime left);
    /// safe from cron on several nodes sharing a store.
    Renew {
        /// Renew what expires within this many days instead.
        #[arg(long)]
        days: Option<i64>,
        /// List what would be renewed and why; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Answer HTTP-01 challenges from this process on ADDR while it runs.
        #[arg(long)]
        http_listen: Option<String>,
        /// How long a node may hold one renewal before others may take it over.
        #[arg(long, default_value_t = 600)]
        lease_seconds: u64,
    },
    /// List the alerts renewal runs sent (newest first), with each
    /// delivery's status.
    Alerts {
        /// Page number.
        #[arg(long, default_value_t = 1)]
        page: u64,
    },
    /// Serve canned but valid answers at the real public and admin paths
    /// (X-Peter-SSLers: fakeserver), for testing proxies without a store.
    #[cfg(feature = "fake-server")]
    FakeServer {
        /// Listen address.
        #[arg(long, default_value = "127.0.0.1:7201")]
        listen: String,
    },
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help and --version.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            // Usage errors are one line too (clap's hint lines are dropped).
            let text = e.render().to_string();
            let line = text
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("invalid arguments")
                .trim_start_matches("error: ");
            if std::env::args().any(|a| a == "--json") {
                let body = peter_http::admin::answer::ErrorBody::new(line);
                eprintln!("{}", peter_http::views::render(&body));
            } else {
                eprintln!("peter: error: {line}");
            }
            return ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("PETER_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    // The runtime's size comes from the configuration (`server.workers`,
    // PETER_WORKERS); a configuration that does not load is reported by the
    // command itself.
    let workers = config::Config::load(&cli.data_dir).map_or_else(
        |_| config::ServerConfig::default().worker_threads(),
        |c| c.server.worker_threads(),
    );
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("peter: error: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let json = cli.json;
    match runtime.block_on(commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if json {
                // The admin API's error document, on one line.
                eprintln!("{}", e.error_document());
            } else {
                let line = output::printable(&e.to_string().replace('\n', " "));
                eprintln!("peter: error: {line}");
            }
            ExitCode::from(e.exit_code())
        }
    }
}
