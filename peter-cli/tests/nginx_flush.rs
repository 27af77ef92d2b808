//! `peter nginx flush|status` against local HTTP servers that speak the
//! OpenResty module's protocol and record what they were asked (nothing
//! else here speaks it): one answers, one is too slow, one port is closed.
//! Each server's outcome is reported on its own; none blocks the others.

use std::process::Command;

mod support;

use support::module_server;

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
    // Every command works on an initialised data dir (the facade over its store).
    let init = Command::new(env!("CARGO_BIN_EXE_peter"))
        .arg("--data-dir")
        .arg(&data)
        .arg("init")
        .output()
        .unwrap();
    assert!(init.status.success());
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
