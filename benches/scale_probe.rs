//! Probes a running `peter serve --admin` over a large seeded store (see
//! `benches/scale/run.sh`): config.json latency for names it has not
//! answered yet (cold: a store query each) and for the same names again
//! (warm: from the in-memory cache), the admin lists' latency on their first
//! and a deep page, and the size of the Prometheus metrics.
//!
//! ```text
//! scale_probe http://127.0.0.1:PORT TOKEN DOMAINS CERTIFICATES
//! ```
//! Requests go one at a time on one keep-alive connection, so each figure is
//! the server's latency plus one loopback round trip. Output: one JSON
//! object on stdout.

use std::collections::BTreeSet;
use std::time::Instant;

use rand::Rng;
use rand::seq::SliceRandom;

const SAMPLE: usize = 2_000;
const LIST_REPEATS: usize = 20;
const PER_PAGE: u64 = 50;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx]
}

fn summary(mut millis: Vec<f64>) -> serde_json::Value {
    millis.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let round = |v: f64| (v * 100.0).round() / 100.0;
    serde_json::json!({
        "requests": millis.len(),
        "p50_ms": round(percentile(&millis, 0.50)),
        "p99_ms": round(percentile(&millis, 0.99)),
        "max_ms": round(millis.last().copied().unwrap_or_default()),
    })
}

async fn timed_get(client: &reqwest::Client, url: &str, token: &str) -> (f64, String) {
    let (ms, status, body) = timed_get_any(client, url, token).await;
    assert!(status.is_success(), "GET {url}: {status}: {body}");
    (ms, body)
}

async fn timed_get_any(
    client: &reqwest::Client,
    url: &str,
    token: &str,
) -> (f64, reqwest::StatusCode, String) {
    let t = Instant::now();
    let answer = client
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = answer.status();
    let body = answer.text().await.expect("body");
    let ms = t.elapsed().as_secs_f64() * 1e3;
    (ms, status, body)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [base, token, domains, certificates] = args.as_slice() else {
        panic!("usage: scale_probe BASE_URL TOKEN DOMAINS CERTIFICATES");
    };
    let domains: usize = domains.parse().expect("DOMAINS");
    let certificates: u64 = certificates.parse().expect("CERTIFICATES");
    let admin = format!("{}/.well-known/peter_sslers", base.trim_end_matches('/'));
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .build()
        .expect("client");

    // Distinct random names, none answered since the server started.
    let mut rng = rand::rng();
    let mut picked = BTreeSet::new();
    while picked.len() < SAMPLE.min(domains) {
        picked.insert(rng.random_range(0..domains));
    }
    let mut names: Vec<usize> = picked.into_iter().collect();
    names.shuffle(&mut rng);
    let url = |i: usize| format!("{admin}/domain/d{i}.bench.example/config.json");

    let mut cold = Vec::with_capacity(names.len());
    for &i in &names {
        let (ms, body) = timed_get(&client, &url(i), token).await;
        assert!(
            body.contains("\"certificate_signed__latest_single\":{")
                || body.contains("\"certificate_signed__latest_multi\":{"),
            "d{i} has a certificate: {body}"
        );
        cold.push(ms);
    }
    let mut warm = Vec::with_capacity(names.len());
    for &i in &names {
        warm.push(timed_get(&client, &url(i), token).await.0);
    }

    let last_cert_page = certificates.div_ceil(PER_PAGE).max(1);
    let mut lists = serde_json::Map::new();
    for (label, path, page) in [
        ("domains_page_1", "domains", 1),
        ("domains_page_10000", "domains", 10_000),
        ("certificates_page_1", "certificate-signeds", 1),
        (
            "certificates_last_page",
            "certificate-signeds",
            last_cert_page,
        ),
    ] {
        let u = format!("{admin}/{path}?page={page}&per_page={PER_PAGE}");
        let mut times = Vec::new();
        let mut items = 0;
        for _ in 0..LIST_REPEATS {
            let (ms, body) = timed_get(&client, &u, token).await;
            let v: serde_json::Value = serde_json::from_str(&body).expect("list JSON");
            items = v
                .as_object()
                .and_then(|o| o.values().find_map(|x| x.as_array().map(Vec::len)))
                .unwrap_or(0);
            times.push(ms);
        }
        assert!(items > 0, "{u} listed nothing");
        let mut s = summary(times);
        s["page"] = page.into();
        s["items"] = items.into();
        lists.insert(label.to_string(), s);
    }

    let mut metrics_out = serde_json::Map::new();
    for (label, query) in [
        ("default", ""),
        ("per_certificate", "?per_certificate=true"),
    ] {
        let u = format!("{admin}/metrics{query}");
        let (ms, status, metrics) = timed_get_any(&client, &u, token).await;
        if status == reqwest::StatusCode::BAD_REQUEST && !query.is_empty() {
            // An older build without the parameter (its default was one
            // series per certificate).
            metrics_out.insert(label.to_string(), "not supported by this build".into());
            continue;
        }
        assert!(status.is_success(), "GET {u}: {status}: {metrics}");
        let series = metrics
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .count();
        let families = metrics.lines().filter(|l| l.starts_with("# TYPE")).count();
        let per_certificate = metrics
            .lines()
            .filter(|l| l.starts_with("peter_certificate_expiration_timestamp_seconds{"))
            .count();
        metrics_out.insert(
            label.to_string(),
            serde_json::json!({
                "milliseconds": (ms * 10.0).round() / 10.0,
                "bytes": metrics.len(),
                "families": families,
                "series": series,
                "per_certificate_series": per_certificate,
            }),
        );
    }

    let out = serde_json::json!({
        "config_json_cold": summary(cold),
        "config_json_warm": summary(warm),
        "lists": lists,
        "metrics": metrics_out,
    });
    println!("{}", serde_json::to_string_pretty(&out).unwrap());
}
