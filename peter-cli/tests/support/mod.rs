//! A peter server with its admin API, in this process, for the admin tests:
//! a SQLite store in a fresh directory, the real ACME client, and an HTTP
//! client that records which admin routes the test exercised.

#![allow(dead_code)]

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use peter_core::app::Peter;
use peter_core::ports::*;
use peter_http::{ADMIN_PREFIX, AdminAccess, AdminState, PublicServer, PublicState};
use peter_store::SqlStore;

pub const TOKEN: &str = "admin-token-for-tests-0123456789";
pub const GATEWAY: &str = "gateway-token-for-tests-0123456789";

/// An HTTP answer.
pub struct Resp {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}), status {}: {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn content_type(&self) -> String {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Asserts the status, showing the body when it differs.
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(self.status, status, "body: {}", self.text());
        self
    }
}

/// Redis priming for an admin world.
pub struct Redis {
    pub publisher: Arc<dyn CachePublisher>,
    pub style: PrimeStyle,
    pub on_change: bool,
}

pub struct AdminWorld {
    pub store: Arc<SqlStore>,
    pub peter: Peter,
    pub server: Option<PublicServer>,
    pub addr: SocketAddr,
    pub dir: std::path::PathBuf,
    pub http: reqwest::Client,
    hits: Mutex<BTreeSet<(String, String)>>,
}

impl AdminWorld {
    /// A server on `port` (0: any) with the admin API and the given access.
    pub async fn start(label: &str, port: u16, access: AdminAccess, admin: bool) -> AdminWorld {
        Self::start_with(label, port, access, admin, None, None).await
    }

    /// Like `start`, with Redis priming and OpenResty servers configured.
    pub async fn start_with(
        label: &str,
        port: u16,
        access: AdminAccess,
        admin: bool,
        redis: Option<Redis>,
        nginx: Option<Arc<peter_http::nginx::NginxClient>>,
    ) -> AdminWorld {
        let dir = std::env::temp_dir().join(format!("peter-admin-{label}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let store = Arc::new(
            SqlStore::connect(
                &peter_store::sqlite_url_for_path(&dir.join("peter.sqlite")),
                clock.clone(),
            )
            .await
            .unwrap(),
        );
        let mut builder = Peter::builder()
            .shared_store(store.clone())
            .clock(clock)
            .acme(peter_acme::InstantAcme);
        if let Some(r) = redis {
            builder = builder.redis(r.publisher, r.style, r.on_change);
        }
        if let Some(n) = nginx {
            builder = builder.nginx(n);
        }
        let peter = builder.build().unwrap();
        let admin_state =
            admin.then(|| AdminState::new(peter.clone(), access).max_body_bytes(64 * 1024));
        let server = PublicServer::start_with_admin(
            SocketAddr::from(([127, 0, 0, 1], port)),
            PublicState::new(peter.clone(), "admintest"),
            admin_state,
        )
        .await
        .unwrap();
        let addr = server.local_addr;
        AdminWorld {
            store,
            peter,
            server: Some(server),
            addr,
            dir,
            http: reqwest::Client::builder().no_proxy().build().unwrap(),
            hits: Mutex::new(BTreeSet::new()),
        }
    }

    pub fn default_access() -> AdminAccess {
        AdminAccess::new(TOKEN)
            .unwrap()
            .with_gateway_token(GATEWAY)
            .unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        if path.starts_with("/.well-known/") {
            format!("http://{}{}", self.addr, path)
        } else {
            format!(
                "http://{}{}/{}",
                self.addr,
                ADMIN_PREFIX,
                path.trim_start_matches('/')
            )
        }
    }

    fn record(&self, method: &str, path: &str) {
        let path = path
            .split('?')
            .next()
            .unwrap_or(path)
            .trim_start_matches('/');
        self.hits
            .lock()
            .unwrap()
            .insert((method.to_string(), format!("{ADMIN_PREFIX}/{path}")));
    }

    /// Sends a request as built (not recorded for route coverage).
    pub async fn send_raw(&self, req: reqwest::RequestBuilder) -> Resp {
        self.send(req).await
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Resp {
        let r = req.send().await.expect("request sent");
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let body = r.bytes().await.unwrap().to_vec();
        assert_eq!(
            headers.get("x-peter-sslers").and_then(|v| v.to_str().ok()),
            Some("admintest"),
            "every answer carries X-Peter-SSLers"
        );
        Resp {
            status,
            headers,
            body,
        }
    }

    /// GET with the admin token.
    pub async fn get(&self, path: &str) -> Resp {
        self.record("get", path);
        self.send(self.http.get(self.url(path)).bearer_auth(TOKEN))
            .await
    }

    /// GET with a chosen Authorization (None: no header).
    pub async fn get_as(&self, path: &str, token: Option<&str>) -> Resp {
        let mut req = self.http.get(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        self.send(req).await
    }

    /// POST a JSON body with the admin token.
    pub async fn post(&self, path: &str, body: serde_json::Value) -> Resp {
        self.record("post", path);
        self.send(
            self.http
                .post(self.url(path))
                .bearer_auth(TOKEN)
                .json(&body),
        )
        .await
    }

    /// POST a form-encoded body with the admin token.
    pub async fn post_form(&self, path: &str, form: &str) -> Resp {
        self.record("post", path);
        self.send(
            self.http
                .post(self.url(path))
                .bearer_auth(TOKEN)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form.to_string()),
        )
        .await
    }

    /// The admin operations the OpenAPI document lists, as (method, template).
    pub async fn documented_operations(&self) -> BTreeSet<(String, String)> {
        let spec = self
            .get_as("api/openapi.json", None)
            .await
            .expect(200)
            .json();
        let mut out = BTreeSet::new();
        for (path, item) in spec["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                out.insert((method.clone(), path.clone()));
            }
        }
        out
    }

    /// Operations in `documented` that no request of this world matched.
    pub fn unexercised(&self, documented: &BTreeSet<(String, String)>) -> Vec<(String, String)> {
        let hits = self.hits.lock().unwrap();
        documented
            .iter()
            .filter(|(method, template)| {
                !hits
                    .iter()
                    .any(|(m, p)| m == method && template_matches(template, p, documented))
            })
            .cloned()
            .collect()
    }
}

impl AdminWorld {
    /// Requests this world made under the admin prefix that match no
    /// documented operation (the document and Swagger UI aside).
    pub fn undocumented_hits(
        &self,
        documented: &BTreeSet<(String, String)>,
    ) -> Vec<(String, String)> {
        let hits = self.hits.lock().unwrap();
        hits.iter()
            .filter(|(_, p)| !p.ends_with("/api/openapi.json") && !p.contains("/api/docs"))
            .filter(|(m, p)| {
                !documented
                    .iter()
                    .any(|(dm, t)| dm == m && template_matches(t, p, documented))
            })
            .cloned()
            .collect()
    }
}

/// Whether a concrete path matches a template, preferring the most literal
/// template (so `.../config.json` does not count for `.../{file}`).
fn template_matches(template: &str, path: &str, all: &BTreeSet<(String, String)>) -> bool {
    fn fits(t: &str, p: &str) -> Option<usize> {
        let ts: Vec<&str> = t.split('/').collect();
        let ps: Vec<&str> = p.split('/').collect();
        if ts.len() != ps.len() {
            return None;
        }
        let mut literal = 0;
        for (a, b) in ts.iter().zip(&ps) {
            if a.starts_with('{') {
                continue;
            }
            if a != b {
                return None;
            }
            literal += 1;
        }
        Some(literal)
    }
    let Some(score) = fits(template, path) else {
        return false;
    };
    !all.iter()
        .any(|(_, other)| other != template && fits(other, path).is_some_and(|s| s > score))
}

/// A local HTTP server speaking the OpenResty module's cache protocol (no
/// other program here does); it records `"<path> <authorization>"` per call.
pub async fn module_server(delay: std::time::Duration) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let log = log.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let n = socket.read(&mut buf).await.unwrap_or(0);
                let request = String::from_utf8_lossy(&buf[..n]).to_string();
                let path = request
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or_default()
                    .to_string();
                let auth = request
                    .lines()
                    .find(|l| l.to_ascii_lowercase().starts_with("authorization:"))
                    .map(|l| l.split_once(':').unwrap().1.trim().to_string())
                    .unwrap_or_default();
                log.lock().unwrap().push(format!("{path} {auth}"));
                tokio::time::sleep(delay).await;
                let body = if path.ends_with("/status") {
                    serde_json::json!({"result": "success", "server": "peter_sslers:openresty", "server_version": "0.5.0"})
                } else if path.ends_with("/all") {
                    serde_json::json!({"result": "success", "expired": "all"})
                } else {
                    serde_json::json!({"result": "success", "expired": "domain", "domain": path.rsplit('/').next()})
                };
                let body = body.to_string();
                let response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Peter-SSLers: 0.5.0\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
            });
        }
    });
    (url, seen)
}
