//! The configuration file (`peter.toml` in the data dir) and its `PETER_*`
//! environment overrides.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Name of the configuration file inside the data dir.
pub const CONFIG_FILE: &str = "peter.toml";
/// Name of the SQLite store inside the data dir.
pub const SQLITE_FILE: &str = "peter.sqlite";
/// Name of the admin token file inside the data dir.
pub const ADMIN_TOKEN_FILE: &str = "admin-token";

/// peter's configuration.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Sent in every response's `X-Peter-SSLers` header.
    pub environment: String,
    /// Database URL; empty means the SQLite file in the data dir.
    pub database_url: String,
    /// HTTP server settings.
    pub server: ServerConfig,
    /// Admin API settings.
    pub admin: AdminConfig,
    /// Redis priming for OpenResty gateways.
    pub redis: RedisConfig,
    /// OpenResty/nginx servers whose certificate cache peter expires.
    pub nginx: NginxConfig,
    /// Certificates accepted in an imported or uploaded chain.
    pub max_chain_certificates: usize,
    /// Where renewal runs send alerts.
    pub alerts: AlertsConfig,
    /// How DNS-01 TXT records are published (wildcards, dns-01 domains).
    pub dns: DnsConfig,
    /// Certificates ordered on a gateway's miss (`api/domain/autocert`).
    pub autocert: AutocertConfig,
}

/// Autocert: which names a gateway may have ordered on a certificate miss,
/// and how often.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct AutocertConfig {
    /// Suffixes a name must equal or end in (`example.com` allows
    /// `www.example.com`); empty: autocert orders nothing.
    pub allow: Vec<String>,
    /// At most one attempt per name in this many minutes.
    pub per_name_minutes: u64,
    /// At most this many attempts per hour across the fleet.
    pub per_hour: u32,
}

impl Default for AutocertConfig {
    fn default() -> Self {
        Self {
            allow: Vec::new(),
            per_name_minutes: 10,
            per_hour: 30,
        }
    }
}

/// DNS-01: how TXT records are published. Without a method, wildcards and
/// domains set to dns-01 are refused before an order is sent.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct DnsConfig {
    /// A command run as `COMMAND... present|cleanup FQDN VALUE` (program
    /// and arguments, no shell; empty: none). `present` must return once
    /// the record is visible to the CA.
    pub exec: Vec<String>,
    /// How long one run of the command may take before it is killed.
    pub timeout_seconds: u64,
    /// RFC 2136 dynamic updates with TSIG, instead of `exec`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rfc2136: Option<Rfc2136Config>,
    /// peter's own DNS: `_acme-challenge` names delegated to a zone every
    /// node answers (`serve --dns`), instead of `exec` or `rfc2136`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peter: Option<PeterDnsConfig>,
}

/// `[dns.peter]`: the zone peter answers for.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PeterDnsConfig {
    /// The zone delegated to peter (`acme.example.net`): the CNAMEs point
    /// into it, and `serve --dns` answers it.
    pub zone: String,
    /// The name in its SOA and NS records (default `ns.<zone>`).
    #[serde(default)]
    pub nameserver: String,
    /// A recursive resolver (`address:port`) through which each delegation
    /// is checked before an order is sent (empty: not checked).
    #[serde(default)]
    pub resolver: String,
}

impl Default for DnsConfig {
    fn default() -> Self {
        Self {
            exec: Vec::new(),
            timeout_seconds: 120,
            rfc2136: None,
            peter: None,
        }
    }
}

/// `[dns.rfc2136]`: the operator's own authoritative DNS takes the records.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Rfc2136Config {
    /// The zone's primary server (`address:port`).
    pub server: String,
    /// The zone updated (every dns-01 name must be inside it).
    pub zone: String,
    /// The TSIG key's name.
    pub key_name: String,
    /// `hmac-sha256` (default), `hmac-sha384` or `hmac-sha512`.
    #[serde(default = "default_tsig_algorithm")]
    pub key_algorithm: String,
    /// The TSIG secret, base64; prefer `PETER_DNS_TSIG_SECRET`.
    #[serde(default)]
    pub key_secret: String,
    /// Servers (`address:port`) that must answer the record before the
    /// challenge is triggered (default: the update server).
    #[serde(default)]
    pub check: Vec<String>,
    /// The record's TTL.
    #[serde(default = "default_txt_ttl")]
    pub ttl: u32,
    /// How long to wait for the servers to check.
    #[serde(default = "default_propagation_seconds")]
    pub propagation_timeout_seconds: u64,
}

fn default_tsig_algorithm() -> String {
    "hmac-sha256".into()
}

fn default_txt_ttl() -> u32 {
    60
}

fn default_propagation_seconds() -> u64 {
    120
}

/// Alert targets: a webhook and/or a command.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct AlertsConfig {
    /// URL that receives each alert as a signed JSON POST (empty: none).
    pub webhook_url: String,
    /// Key of the `X-Peter-Signature` HMAC (at least 16 characters); prefer
    /// `PETER_ALERT_WEBHOOK_SECRET` to keeping it in the file.
    pub webhook_secret: String,
    /// A command run per alert, the JSON document on its standard input
    /// (program and arguments, no shell; empty: none).
    pub exec: Vec<String>,
    /// How long one try may take.
    pub timeout_seconds: u64,
}

impl Default for AlertsConfig {
    fn default() -> Self {
        Self {
            webhook_url: String::new(),
            webhook_secret: String::new(),
            exec: Vec::new(),
            timeout_seconds: 10,
        }
    }
}

/// nginx/OpenResty cache settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct NginxConfig {
    /// Base URLs of the servers.
    pub servers: Vec<String>,
    /// HTTP Basic `user:password`.
    pub userpass: String,
    /// PEM bundle trusted for the servers' TLS.
    pub ca_bundle: String,
    /// Per-request timeout.
    pub timeout_seconds: u64,
}

impl Default for NginxConfig {
    fn default() -> Self {
        Self {
            servers: Vec::new(),
            userpass: String::new(),
            ca_bundle: String::new(),
            timeout_seconds: 5,
        }
    }
}

/// Redis priming settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct RedisConfig {
    /// Redis URL; empty disables priming.
    pub url: String,
    /// Key layout: 1 or 2.
    pub prime_style: String,
    /// Seconds before primed keys expire; 0 keeps them.
    pub ttl_seconds: u64,
    /// Rewrite a domain in Redis after every change that alters what it
    /// serves (issuance, renewal, import, marks), from any command.
    pub prime_on_change: bool,
    /// Written before every key (empty in production; tests use one per run).
    pub key_prefix: String,
}

impl Default for RedisConfig {
    fn default() -> Self {
        Self {
            url: String::new(),
            prime_style: "1".into(),
            ttl_seconds: 0,
            prime_on_change: false,
            key_prefix: String::new(),
        }
    }
}

/// HTTP server settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Listen address.
    pub listen: String,
    /// Runtime worker threads; 0 means one per CPU core.
    pub workers: usize,
    /// Seconds allowed for a request's headers to arrive.
    pub header_read_timeout_seconds: u64,
    /// Seconds allowed for an admin request's body to arrive.
    pub body_timeout_seconds: u64,
    /// Seconds a connection may stay without traffic.
    pub idle_timeout_seconds: u64,
    /// Connections open at once (kept below the descriptor limit).
    pub max_connections: usize,
    /// Requests served on one connection before it is closed.
    pub max_requests_per_connection: u64,
    /// Milliseconds a challenge answer or config.json waits for the store
    /// before answering 503.
    pub store_deadline_milliseconds: u64,
    /// Megabytes of domain config.json answers `serve` keeps in memory (0: none).
    pub config_cache_megabytes: usize,
}

impl ServerConfig {
    /// The connection limits these settings describe.
    pub fn limits(&self) -> peter_http::ServerLimits {
        use std::time::Duration;
        peter_http::ServerLimits::default()
            .with_timeouts(
                Duration::from_secs(self.header_read_timeout_seconds.max(1)),
                Duration::from_secs(self.idle_timeout_seconds.max(1)),
            )
            .with_max_connections(self.max_connections.max(1))
            .with_max_requests_per_connection(self.max_requests_per_connection.max(1))
    }

    /// Worker threads to run: the configured number, or one per core.
    pub fn worker_threads(&self) -> usize {
        if self.workers > 0 {
            self.workers
        } else {
            std::thread::available_parallelism().map_or(2, |n| n.get())
        }
    }
}

/// Admin API settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct AdminConfig {
    /// Whether the admin routes are mounted at all.
    pub enabled: bool,
    /// The admin token; empty means the `admin-token` file in the data dir.
    pub token: String,
    /// Read-only token accepted on `domain/{id}/config.json` only; empty
    /// disables it.
    pub gateway_token: String,
    /// Source networks (CIDR) allowed to read `domain/{id}/config.json`
    /// without a token.
    pub gateway_networks: Vec<String>,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
}

impl Default for AdminConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            token: String::new(),
            gateway_token: String::new(),
            gateway_networks: Vec::new(),
            max_body_bytes: 256 * 1024,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            environment: "production".into(),
            database_url: String::new(),
            server: ServerConfig::default(),
            admin: AdminConfig::default(),
            redis: RedisConfig::default(),
            nginx: NginxConfig::default(),
            max_chain_certificates: peter_core::app::DEFAULT_MAX_CHAIN_CERTIFICATES,
            alerts: AlertsConfig::default(),
            dns: DnsConfig::default(),
            autocert: AutocertConfig::default(),
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:7201".into(),
            workers: 0,
            header_read_timeout_seconds: 30,
            body_timeout_seconds: 60,
            idle_timeout_seconds: 60,
            max_connections: 4096,
            max_requests_per_connection: 1000,
            store_deadline_milliseconds: 1500,
            config_cache_megabytes: 16,
        }
    }
}

/// Why configuration could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The file is not valid TOML or has unknown keys.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// An environment override has a bad value.
    #[error("environment variable {name}: {message}")]
    Env {
        /// The variable.
        name: &'static str,
        /// What is wrong.
        message: String,
    },
}

fn parse_bool(name: &'static str, value: &str) -> Result<bool, ConfigError> {
    match value.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        other => Err(ConfigError::Env {
            name,
            message: format!("`{other}` is not a boolean (use 1/0, true/false)"),
        }),
    }
}

impl Config {
    /// Reads the file in `data_dir` (defaults when it does not exist), then
    /// applies `PETER_*` environment overrides.
    pub fn load(data_dir: &Path) -> Result<Self, ConfigError> {
        let path = data_dir.join(CONFIG_FILE);
        let mut config = match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text).map_err(|e| ConfigError::Parse {
                path: path.clone(),
                message: e.to_string(),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Config::default(),
            Err(source) => return Err(ConfigError::Io { path, source }),
        };
        config.apply_env(|name| std::env::var(name).ok())?;
        Ok(config)
    }

    /// Applies overrides from an environment lookup.
    pub fn apply_env(
        &mut self,
        get: impl Fn(&'static str) -> Option<String>,
    ) -> Result<(), ConfigError> {
        if let Some(v) = get("PETER_ALERT_WEBHOOK_URL") {
            self.alerts.webhook_url = v;
        }
        if let Some(v) = get("PETER_ALERT_WEBHOOK_SECRET") {
            self.alerts.webhook_secret = v;
        }
        if let (Some(v), Some(rfc2136)) = (get("PETER_DNS_TSIG_SECRET"), self.dns.rfc2136.as_mut())
        {
            rfc2136.key_secret = v;
        }
        if let Some(v) = get("PETER_ENVIRONMENT") {
            self.environment = v;
        }
        if let Some(v) = get("PETER_DATABASE_URL") {
            self.database_url = v;
        }
        if let Some(v) = get("PETER_LISTEN") {
            self.server.listen = v;
        }
        fn number<T: std::str::FromStr>(name: &'static str, v: &str) -> Result<T, ConfigError> {
            v.trim().parse().map_err(|_| ConfigError::Env {
                name,
                message: format!("`{v}` is not a whole number"),
            })
        }
        if let Some(v) = get("PETER_AUTOCERT_ALLOW") {
            self.autocert.allow = v
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect();
        }
        if let Some(v) = get("PETER_AUTOCERT_PER_NAME_MINUTES") {
            self.autocert.per_name_minutes = number("PETER_AUTOCERT_PER_NAME_MINUTES", &v)?;
        }
        if let Some(v) = get("PETER_AUTOCERT_PER_HOUR") {
            self.autocert.per_hour = number("PETER_AUTOCERT_PER_HOUR", &v)?;
        }
        if let Some(v) = get("PETER_MAX_CHAIN_CERTIFICATES") {
            self.max_chain_certificates = number("PETER_MAX_CHAIN_CERTIFICATES", &v)?;
        }
        if let Some(v) = get("PETER_WORKERS") {
            self.server.workers = number("PETER_WORKERS", &v)?;
        }
        if let Some(v) = get("PETER_HEADER_READ_TIMEOUT_SECONDS") {
            self.server.header_read_timeout_seconds =
                number("PETER_HEADER_READ_TIMEOUT_SECONDS", &v)?;
        }
        if let Some(v) = get("PETER_BODY_TIMEOUT_SECONDS") {
            self.server.body_timeout_seconds = number("PETER_BODY_TIMEOUT_SECONDS", &v)?;
        }
        if let Some(v) = get("PETER_STORE_DEADLINE_MILLISECONDS") {
            self.server.store_deadline_milliseconds =
                number("PETER_STORE_DEADLINE_MILLISECONDS", &v)?;
        }
        if let Some(v) = get("PETER_CONFIG_CACHE_MEGABYTES") {
            self.server.config_cache_megabytes = number("PETER_CONFIG_CACHE_MEGABYTES", &v)?;
        }
        if let Some(v) = get("PETER_IDLE_TIMEOUT_SECONDS") {
            self.server.idle_timeout_seconds = number("PETER_IDLE_TIMEOUT_SECONDS", &v)?;
        }
        if let Some(v) = get("PETER_MAX_CONNECTIONS") {
            self.server.max_connections = number("PETER_MAX_CONNECTIONS", &v)?;
        }
        if let Some(v) = get("PETER_MAX_REQUESTS_PER_CONNECTION") {
            self.server.max_requests_per_connection =
                number("PETER_MAX_REQUESTS_PER_CONNECTION", &v)?;
        }
        if let Some(v) = get("PETER_REDIS_URL") {
            self.redis.url = v;
        }
        if let Some(v) = get("PETER_REDIS_PRIME_ON_CHANGE") {
            self.redis.prime_on_change = parse_bool("PETER_REDIS_PRIME_ON_CHANGE", &v)?;
        }
        if let Some(v) = get("PETER_REDIS_KEY_PREFIX") {
            self.redis.key_prefix = v;
        }
        if let Some(v) = get("PETER_REDIS_PRIME_STYLE") {
            self.redis.prime_style = v;
        }
        if let Some(v) = get("PETER_REDIS_TTL_SECONDS") {
            self.redis.ttl_seconds = v.parse().map_err(|_| ConfigError::Env {
                name: "PETER_REDIS_TTL_SECONDS",
                message: format!("`{v}` is not a number of seconds"),
            })?;
        }
        if let Some(v) = get("PETER_NGINX_SERVERS") {
            self.nginx.servers = v
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect();
        }
        if let Some(v) = get("PETER_NGINX_USERPASS") {
            self.nginx.userpass = v;
        }
        if let Some(v) = get("PETER_NGINX_CA_BUNDLE") {
            self.nginx.ca_bundle = v;
        }
        if let Some(v) = get("PETER_NGINX_TIMEOUT_SECONDS") {
            self.nginx.timeout_seconds = v.parse().map_err(|_| ConfigError::Env {
                name: "PETER_NGINX_TIMEOUT_SECONDS",
                message: format!("`{v}` is not a number of seconds"),
            })?;
        }
        if let Some(v) = get("PETER_ADMIN_ENABLED") {
            self.admin.enabled = parse_bool("PETER_ADMIN_ENABLED", &v)?;
        }
        if let Some(v) = get("PETER_ADMIN_TOKEN") {
            self.admin.token = v;
        }
        if let Some(v) = get("PETER_ADMIN_GATEWAY_TOKEN") {
            self.admin.gateway_token = v;
        }
        if let Some(v) = get("PETER_ADMIN_GATEWAY_NETWORKS") {
            self.admin.gateway_networks = v
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect();
        }
        if let Some(v) = get("PETER_ADMIN_MAX_BODY_BYTES") {
            self.admin.max_body_bytes = v.parse().map_err(|_| ConfigError::Env {
                name: "PETER_ADMIN_MAX_BODY_BYTES",
                message: format!("`{v}` is not a number of bytes"),
            })?;
        }
        Ok(())
    }

    /// The configuration file's text.
    pub fn to_toml(&self) -> String {
        let body = toml::to_string_pretty(self).unwrap_or_default();
        format!(
            "# peter configuration. Every key can be overridden by a PETER_* environment\n\
             # variable (see README). An empty database_url means the SQLite file\n\
             # `{SQLITE_FILE}` next to this file.\n\n{body}"
        )
    }

    /// The database URL to use: the configured one, or the SQLite file in the data dir.
    pub fn database_url(&self, data_dir: &Path) -> String {
        if self.database_url.is_empty() {
            peter_store::sqlite_url_for_path(&data_dir.join(SQLITE_FILE))
        } else {
            self.database_url.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_overrides_the_file() {
        let mut c = Config::default();
        c.apply_env(|n| match n {
            "PETER_ENVIRONMENT" => Some("staging".into()),
            "PETER_ADMIN_ENABLED" => Some("1".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(c.environment, "staging");
        assert!(c.admin.enabled);
        let err = c
            .apply_env(|n| (n == "PETER_ADMIN_ENABLED").then(|| "maybe".into()))
            .unwrap_err();
        assert!(err.to_string().contains("PETER_ADMIN_ENABLED"));
    }

    #[test]
    fn the_written_file_reads_back() {
        let c = Config::default();
        let back: Config = toml::from_str(&c.to_toml()).unwrap();
        assert_eq!(back, c);
        assert!(
            toml::from_str::<Config>("bogus = 1").is_err(),
            "unknown keys are refused"
        );
    }
}
