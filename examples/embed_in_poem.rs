//! A Rust service that embeds peter: the store, the ACME engine and the
//! HTTP routes (public routes and the admin API) inside its own poem
//! application. The wiring is one builder call and one mount:
//!
//! ```text
//! cargo run -p peter-examples --example embed_in_poem
//! ```
//! It serves on a loopback port, calls the host's route, peter's whoami and a
//! domain's config.json through the admin API, prints what it got, and exits.

use peter_core::app::{CertificateUpload, Peter};
use peter_core::model::KeyTechnology;
use peter_http::{AdminAccess, AdminState, PublicState};
use peter_store::SqlStore;
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::{EndpointExt, Route, Server, get, handler};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The host application's own route.
#[handler]
fn host_status() -> &'static str {
    "host app: ok"
}

/// A bare HTTP/1.1 GET, so the example needs no HTTP client crate.
async fn fetch(addr: std::net::SocketAddr, path: &str, token: Option<&str>) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: www.example.com\r\n{auth}Connection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut raw = String::new();
    stream.read_to_string(&mut raw).await.expect("read");
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, body.to_string())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("peter-embed-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let token = "embedding-example-token-0123456789";

    // The wiring: a facade over a store and the ACME engine, and its routes
    // mounted inside the host's Route.
    let url = peter_store::sqlite_url_for_path(&dir.join("embed.sqlite"));
    let peter = Peter::builder()
        .store(SqlStore::open(&url).await?)
        .acme(peter_acme::InstantAcme)
        .build()?;
    let app = Route::new().at("/status", get(host_status)).nest(
        "/",
        peter_http::routes(
            PublicState::new(peter.clone(), "embedded"),
            Some(AdminState::new(peter.clone(), AdminAccess::new(token)?)),
        ),
    );

    // Something to serve: a certificate from a throw-away PKI.
    let pki = peter_core::testkit::TestPki::new("embed");
    let leaf = pki.issue(&["www.example.com"], KeyTechnology::EcP256);
    let chain = pki.chain_pem();
    peter
        .certificates()
        .import(CertificateUpload {
            certificate_pem: leaf.certificate.pem(),
            private_key_pem: leaf.key.pem(),
            chain_pem: Some(&chain),
        })
        .await?;

    let app = app.with(poem::middleware::Tracing);
    let acceptor = TcpListener::bind("127.0.0.1:0").into_acceptor().await?;
    let addr = *acceptor.local_addr()[0]
        .as_socket_addr()
        .expect("tcp address");
    let server = tokio::spawn(Server::new_with_acceptor(acceptor).run(app));

    let (s1, host) = fetch(addr, "/status", None).await;
    let (s2, whoami) = fetch(addr, "/.well-known/public/whoami", None).await;
    let (s3, config) = fetch(
        addr,
        "/.well-known/peter_sslers/domain/www.example.com/config.json",
        Some(token),
    )
    .await;
    let (s4, _) = fetch(addr, "/.well-known/peter_sslers/domains", None).await;
    server.abort();
    let _ = std::fs::remove_dir_all(&dir);

    println!("GET /status -> {s1}: {host}");
    println!("GET /.well-known/public/whoami -> {s2}: {whoami}");
    let config: serde_json::Value = serde_json::from_str(&config)?;
    println!(
        "GET .../domain/www.example.com/config.json -> {s3}: certificate {}",
        config["certificate_signed__latest_single"]["id"]
    );
    println!("GET .../domains without a token -> {s4}");
    let ok = s1 == 200
        && host == "host app: ok"
        && s2 == 200
        && whoami == "www.example.com"
        && s3 == 200
        && config["certificate_signed__latest_single"]["certificate"]["pem"]
            == leaf.certificate.pem()
        && s4 == 401;
    if !ok {
        return Err("the embedded routes did not answer as expected".into());
    }
    println!("embedded: host route, public routes and admin API all answer");
    Ok(())
}
