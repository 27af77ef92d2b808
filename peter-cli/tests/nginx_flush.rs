//! `peter nginx flush|status` against local HTTP servers that speak the
//! OpenResty module's protocol and record what they were asked (nothing
//! else here speaks it): one answers, one is too slow, one port is closed.
//! Each server's outcome is reported on its own; none blocks the others.

use std::process::Command;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

async fn module_server(delay: std::time::Duration) -> (String, Arc<Mutex<Vec<String>>>) {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flush_and_status_report_each_server_and_a_slow_one_times_out() {
    let (good, good_seen) = module_server(std::time::Duration::ZERO).await;
    let (slow, _) = module_server(std::time::Duration::from_secs(10)).await;
    let closed = format!("http://127.0.0.1:{}", peter_acme::testkit::free_port());
    let data = std::env::temp_dir().join(format!("peter-nginx-{}", std::process::id()));
    let servers = format!("{good},{slow},{closed}");
    let (data2, servers2) = (data.clone(), servers.clone());
    let run = move |args: &[&str]| {
        let (data, servers) = (&data2, &servers2);
        let mut c = Command::new(env!("CARGO_BIN_EXE_peter"));
        c.arg("--data-dir").arg(data).arg("--json").args(args);
        c.env("PETER_NGINX_SERVERS", servers)
            .env("PETER_NGINX_USERPASS", "peter:sslers")
            .env("PETER_NGINX_TIMEOUT_SECONDS", "1");
        c.output().unwrap()
    };
    let started = std::time::Instant::now();
    let out = tokio::task::spawn_blocking(move || {
        let flush = run(&["nginx", "flush"]);
        let one = run(&["nginx", "flush", "--domain", "Example.COM"]);
        let status = run(&["nginx", "status"]);
        (flush, one, status)
    })
    .await
    .unwrap();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(8),
        "servers are asked concurrently, with a timeout"
    );
    for output in [&out.0, &out.1, &out.2] {
        assert_eq!(
            output.status.code(),
            Some(5),
            "some servers failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        let status = &json["servers_status"];
        assert_eq!(status["success"], serde_json::json!([good.clone()]));
        assert_eq!(status["errors"].as_array().unwrap().len(), 2);
        assert_eq!(status["servers"][&slow]["error"], "timeout");
        assert_eq!(status["servers"][&closed]["error"], "exception");
    }
    let seen = good_seen.lock().unwrap().clone();
    // "peter:sslers" in Basic auth.
    assert!(
        seen.contains(
            &"/.peter_sslers/nginx/shared_cache/expire/all Basic cGV0ZXI6c3NsZXJz".to_string()
        ),
        "{seen:?}"
    );
    assert!(
        seen.iter()
            .any(|s| s.starts_with("/.peter_sslers/nginx/shared_cache/expire/domain/example.com ")),
        "{seen:?}"
    );
    assert!(
        seen.iter()
            .any(|s| s.starts_with("/.peter_sslers/nginx/shared_cache/status ")),
        "{seen:?}"
    );
    std::fs::remove_dir_all(&data).ok();
}
