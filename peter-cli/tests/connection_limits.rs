//! Connection hygiene of `peter serve`, over raw sockets: half-sent
//! requests are closed after the header deadline, idle connections after the
//! idle deadline, a connection serves a bounded number of requests, the
//! connection cap holds, `whoami` still answers while more half-sent requests
//! are held than the old 1,024-descriptor limit allowed, an HTTP/1.1 request
//! has exactly one Host, and the admin API answers a stranger 401 without
//! reading the body it announces (and an authenticated slow body 408).
//!
//! Deadlines here are functional (a connection must end), with generous
//! margins; no test measures speed.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

struct Server {
    child: Child,
    port: u16,
    root: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn peter(data: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_peter"));
    c.arg("--data-dir")
        .arg(data)
        .env_remove("PETER_DATABASE_URL")
        .env_remove("PETER_ADMIN_TOKEN");
    c
}

/// `peter serve --admin` with these environment settings; the soft
/// descriptor limit of the child is 1,024 (the server raises it itself).
async fn start(name: &str, env: &[(&str, &str)]) -> Server {
    let root = std::env::temp_dir().join(format!("peter-conn-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let data = root.join("data");
    assert!(peter(&data).arg("init").output().unwrap().status.success());
    let port = peter_acme::testkit::free_port();
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(r#"ulimit -Sn 1024 && exec "$0" "$@""#)
        .arg(env!("CARGO_BIN_EXE_peter"))
        .args(["--data-dir"])
        .arg(&data)
        .args(["serve", "--admin", "--listen", &format!("127.0.0.1:{port}")])
        .env_remove("PETER_DATABASE_URL")
        .env_remove("PETER_ADMIN_TOKEN")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let server = Server {
        child: cmd.spawn().expect("serve"),
        port,
        root,
    };
    for _ in 0..200 {
        if TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return server;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("peter serve did not listen");
}

fn admin_token(server: &Server) -> String {
    std::fs::read_to_string(server.root.join("data/admin-token"))
        .unwrap()
        .trim()
        .to_string()
}

/// Sends `request` on a new connection and reads until the server closes it
/// (or `within` passes: then the text read so far and `false`).
async fn exchange(port: u16, request: &[u8], within: Duration) -> (String, bool) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    s.write_all(request).await.unwrap();
    read_until_closed(&mut s, within).await
}

async fn read_until_closed(s: &mut TcpStream, within: Duration) -> (String, bool) {
    let mut got = Vec::new();
    let deadline = Instant::now() + within;
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, s.read(&mut buf)).await {
            Err(_) => return (String::from_utf8_lossy(&got).into_owned(), false),
            Ok(Ok(0)) | Ok(Err(_)) => return (String::from_utf8_lossy(&got).into_owned(), true),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

fn status_of(response: &str) -> u16 {
    response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

async fn whoami(port: u16, within: Duration) -> Option<String> {
    let request = b"GET /.well-known/public/whoami HTTP/1.1\r\nHost: alive.example\r\nConnection: close\r\n\r\n";
    let (text, closed) = exchange(port, request, within).await;
    (closed && status_of(&text) == 200).then_some(text)
}

fn raise_own_descriptor_limit() {
    rlimit::increase_nofile_limit(8192).expect("raise the test's descriptor limit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_and_idle_connections_are_closed_and_whoami_keeps_answering() {
    raise_own_descriptor_limit();
    let server = start(
        "slow",
        &[
            ("PETER_HEADER_READ_TIMEOUT_SECONDS", "2"),
            ("PETER_IDLE_TIMEOUT_SECONDS", "2"),
        ],
    )
    .await;
    let port = server.port;

    // 1,100 half-sent requests: more than the 1,024 descriptors the process
    // started with.
    let mut held = Vec::new();
    for _ in 0..1100 {
        let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        s.write_all(b"GET /.well-known/public/whoami HTTP/1.1\r\nHost: slow.example\r\n")
            .await
            .unwrap();
        held.push(s);
    }
    let answered = whoami(port, Duration::from_secs(5)).await;
    assert!(
        answered
            .as_deref()
            .is_some_and(|t| t.ends_with("alive.example")),
        "whoami answers while 1,100 half-sent requests are held: {answered:?}"
    );
    // Each of them is closed once the header deadline passes.
    let started = Instant::now();
    let mut closed = 0;
    for s in &mut held {
        let left = Duration::from_secs(15).saturating_sub(started.elapsed());
        if read_until_closed(s, left).await.1 {
            closed += 1;
        }
    }
    assert_eq!(closed, 1100, "half-sent requests closed by the server");

    // A kept-alive connection with nothing more to say is closed too.
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    s.write_all(b"GET /.well-known/public/whoami HTTP/1.1\r\nHost: idle.example\r\n\r\n")
        .await
        .unwrap();
    let (text, closed) = read_until_closed(&mut s, Duration::from_secs(10)).await;
    assert_eq!(status_of(&text), 200, "{text}");
    assert!(closed, "an idle keep-alive connection is closed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connection_cap_and_the_requests_per_connection_hold() {
    let server = start(
        "cap",
        &[
            ("PETER_MAX_CONNECTIONS", "8"),
            ("PETER_HEADER_READ_TIMEOUT_SECONDS", "3"),
            ("PETER_MAX_REQUESTS_PER_CONNECTION", "3"),
        ],
    )
    .await;
    let port = server.port;

    // Three requests on one connection: the third answer closes it.
    let three = b"GET /.well-known/public/whoami HTTP/1.1\r\nHost: a.example\r\n\r\n".repeat(3);
    let (text, closed) = exchange(port, &three, Duration::from_secs(10)).await;
    assert_eq!(text.matches("HTTP/1.1 200").count(), 3, "{text}");
    assert!(closed, "the connection ends after its third request");
    assert_eq!(
        text.to_ascii_lowercase()
            .matches("connection: close")
            .count(),
        1,
        "{text}"
    );

    // Eight half-sent requests fill the cap: a ninth connection waits
    // until the header deadline frees a slot, then is answered.
    let mut held = Vec::new();
    for _ in 0..8 {
        let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        s.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
        held.push(s);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        whoami(port, Duration::from_millis(1000)).await.is_none(),
        "a ninth connection is not served while eight are open"
    );
    assert!(
        whoami(port, Duration::from_secs(10)).await.is_some(),
        "it is served once the half-sent ones are closed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http11_requests_have_one_host_and_answers_say_nosniff() {
    let server = start("host", &[]).await;
    let port = server.port;
    let within = Duration::from_secs(10);
    let ask = |req: &'static str| exchange(port, req.as_bytes(), within);

    let (text, _) =
        ask("GET /.well-known/public/whoami HTTP/1.1\r\nConnection: close\r\n\r\n").await;
    assert_eq!(status_of(&text), 400, "no Host: {text}");
    assert!(text.contains("x-peter-sslers: production"), "{text}");

    let (text, _) = ask(
        "GET /.well-known/public/whoami HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(status_of(&text), 400, "two Hosts: {text}");

    let (text, _) = ask("GET /.well-known/public/whoami HTTP/1.0\r\n\r\n").await;
    assert_eq!(status_of(&text), 200, "HTTP/1.0 needs no Host: {text}");

    // An absolute-form target names the host (RFC 9112 §3.2.2).
    let (text, _) = ask(
        "GET http://Target.Example/.well-known/public/whoami HTTP/1.1\r\nHost: other.example\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(status_of(&text), 200, "{text}");
    assert!(text.ends_with("target.example"), "{text}");
    assert!(text.contains("x-content-type-options: nosniff"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_bodies_are_read_only_for_callers_with_a_token_and_only_so_long() {
    let server = start("body", &[("PETER_BODY_TIMEOUT_SECONDS", "1")]).await;
    let port = server.port;
    let path = "/.well-known/peter_sslers/api/domain/enable";

    // A stranger announcing 10 MB is told 401 (not 413), without sending it.
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\n\r\n"
    );
    let (text, closed) = exchange(port, request.as_bytes(), Duration::from_secs(10)).await;
    assert_eq!(status_of(&text), 401, "{text}");
    assert!(closed, "the unread body's connection is not reused");

    // The same size with the token: 413.
    let token = admin_token(&server);
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\n\r\n"
    );
    let (text, _) = exchange(port, request.as_bytes(), Duration::from_secs(10)).await;
    assert_eq!(status_of(&text), 413, "{text}");

    // With the token, a body that stops arriving: 408 after the deadline.
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"domain_names\""
    );
    let (text, closed) = exchange(port, request.as_bytes(), Duration::from_secs(10)).await;
    assert_eq!(status_of(&text), 408, "{text}");
    assert!(closed);
}
