//! Outbound calls to OpenResty/nginx servers running the peter_sslers Lua
//! module: expire its certificate cache (all of it, or one domain) and read
//! its status. Each server is asked concurrently, with a timeout, and its
//! result reported on its own: one slow or dead server blocks nothing else.

use std::time::Duration;

/// Default path of the module's cache-expiry endpoint.
pub const DEFAULT_EXPIRE_PATH: &str = "/.peter_sslers/nginx/shared_cache/expire";
/// Default path of the module's status endpoint.
pub const DEFAULT_STATUS_PATH: &str = "/.peter_sslers/nginx/shared_cache/status";

/// Where and how to reach the servers.
#[derive(Debug, Clone)]
pub struct NginxSettings {
    /// Base URLs (`https://10.0.0.5`, `http://127.0.0.1:8080`).
    pub servers: Vec<String>,
    /// HTTP Basic credentials `user:password`.
    pub userpass: Option<String>,
    /// PEM bundle trusted for the servers' TLS (else the public roots).
    pub ca_bundle_pem: Option<String>,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Expiry path.
    pub expire_path: String,
    /// Status path.
    pub status_path: String,
}

impl NginxSettings {
    /// Settings for `servers` with the module's default paths and a 5 s timeout.
    pub fn new(servers: Vec<String>) -> Self {
        Self {
            servers,
            userpass: None,
            ca_bundle_pem: None,
            timeout: Duration::from_secs(5),
            expire_path: DEFAULT_EXPIRE_PATH.into(),
            status_path: DEFAULT_STATUS_PATH.into(),
        }
    }
}

pub use peter_core::ports::ServersStatus;

/// Why the client could not be built.
#[derive(Debug, thiserror::Error)]
#[error("nginx client: {0}")]
pub struct NginxError(#[source] reqwest::Error);

/// A client for the module's endpoints.
pub struct NginxClient {
    http: reqwest::Client,
    settings: NginxSettings,
}

impl NginxClient {
    /// Builds the client (TLS trust from the bundle when given).
    pub fn new(settings: NginxSettings) -> Result<Self, NginxError> {
        let mut builder = reqwest::Client::builder()
            .timeout(settings.timeout)
            .user_agent("peter");
        if let Some(pem) = &settings.ca_bundle_pem {
            let certs =
                reqwest::Certificate::from_pem_bundle(pem.as_bytes()).map_err(NginxError)?;
            builder = builder.tls_certs_only(certs);
        }
        let http = builder.build().map_err(NginxError)?;
        Ok(Self { http, settings })
    }

    /// One GET of `path` on `server`: its JSON answer, or the error document.
    async fn ask(&self, server: &str, path: &str) -> Result<serde_json::Value, serde_json::Value> {
        let url = format!("{}{}", server.trim_end_matches('/'), path);
        let mut request = self.http.get(&url);
        if let Some(userpass) = &self.settings.userpass {
            let (user, pass) = userpass.split_once(':').unwrap_or((userpass, ""));
            request = request.basic_auth(user, Some(pass));
        }
        match request.send().await {
            Ok(response) => {
                let status = response.status();
                match response.json::<serde_json::Value>().await {
                    Ok(json)
                        if status.is_success()
                            && json.get("result").and_then(serde_json::Value::as_str)
                                == Some("success") =>
                    {
                        Ok(json)
                    }
                    Ok(json) => Err(
                        serde_json::json!({"status": "error", "error": "response", "http_status": status.as_u16(), "response": json}),
                    ),
                    Err(_) => Err(
                        serde_json::json!({"status": "error", "error": "response", "http_status": status.as_u16()}),
                    ),
                }
            }
            Err(e) => Err(serde_json::json!({
                "status": "error",
                "error": if e.is_timeout() { "timeout" } else { "exception" },
                "detail": e.to_string(),
            })),
        }
    }

    /// Every server concurrently; on each, the paths in order, stopping at
    /// its first failure. A server's entry is its last answer or that failure.
    async fn ask_all(&self, paths: &[String]) -> ServersStatus {
        let calls = self.settings.servers.iter().map(|server| async move {
            let mut answer = Ok(serde_json::Value::Null);
            for path in paths {
                answer = self.ask(server, path).await;
                if answer.is_err() {
                    break;
                }
            }
            (server.clone(), answer)
        });
        let mut out = ServersStatus::default();
        for (server, answer) in futures_util::future::join_all(calls).await {
            match answer {
                Ok(json) => {
                    out.success.push(server.clone());
                    out.servers.insert(server, json);
                }
                Err(json) => {
                    out.errors.push(server.clone());
                    out.servers.insert(server, json);
                }
            }
        }
        out
    }
}

#[async_trait::async_trait]
impl peter_core::ports::CacheExpirer for NginxClient {
    /// Every cached certificate (`None`), or several domains' (one request
    /// per domain; a server's first failure ends its turn), on every server.
    async fn expire(&self, domains: Option<&[peter_core::dns::DomainName]>) -> ServersStatus {
        let paths: Vec<String> = match domains {
            None => vec![format!("{}/all", self.settings.expire_path)],
            Some(domains) => domains
                .iter()
                .map(|d| format!("{}/domain/{}", self.settings.expire_path, d))
                .collect(),
        };
        self.ask_all(&paths).await
    }

    async fn status(&self) -> ServersStatus {
        self.ask_all(std::slice::from_ref(&self.settings.status_path))
            .await
    }
}
