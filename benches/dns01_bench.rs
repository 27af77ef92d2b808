//! DNS-01 against real DNS servers, measured against peers in the same run.
//!
//! 1. Time per certificate (one name each, concurrency 1, library calls)
//!    against a local Pebble that resolves through Debian's Knot DNS:
//!    - `http-01`: the peer, a name validated by HTTP-01 (its A record in
//!      Knot's zone, the token served by peter's public route);
//!    - `dns-01 rfc2136`: a wildcard, its TXT added to Knot by a TSIG-signed
//!      update and waited for;
//!    - `dns-01 peter`: a wildcard whose `_acme-challenge` is a CNAME in
//!      Knot's zone into peter's zone, answered by `DnsListener` from the
//!      store, with Pebble asking Unbound (which follows the CNAME).
//!
//!    Reported: p50/p99 per certificate, and each DNS-01 p50 as a ratio to
//!    the HTTP-01 p50.
//! 2. Answer rate of peter's DNS listener (`peter serve --dns`'s code, over
//!    the SQLite store holding 1,000 delegations with a value each):
//!    `dnsperf` for 10 s against it and against Knot serving the same TXT
//!    records, in the same run; peter's queries/s as a ratio to Knot's.
//!
//! ```text
//! cargo run --release -p peter-benches --bin dns01_bench -- 50
//! ```

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use peter_acme::dns::{DnsListener, PeterDns, Rfc2136, Rfc2136Settings};
use peter_acme::testkit::{Knot, Pebble, PebbleOptions, Unbound, free_port};
use peter_core::app::{AccountRequest, OrderRequest, Peter};
use peter_core::model::{AcmeOrderProcessingStrategy, AcmeOrderStatus, NewAcmeServer};
use peter_core::ports::{DnsChallengeSolver, DomainStore, Store};
use peter_http::{PublicServer, PublicState};
use peter_store::SqlStore;

const ZONE: &str = "bench.test";
const PETER_ZONE: &str = "acme.peter-bench.test";

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn issue(peter: &Peter, names: Vec<String>) -> f64 {
    let account = peter
        .accounts()
        .list(peter_core::ports::Page::new(1, 1))
        .await
        .unwrap()
        .items[0]
        .id;
    let t = Instant::now();
    let order = peter
        .orders()
        .create(OrderRequest::new(
            account,
            names,
            AcmeOrderProcessingStrategy::ProcessSingle,
        ))
        .await
        .expect("issue")
        .into_value();
    assert_eq!(order.status, AcmeOrderStatus::Valid);
    t.elapsed().as_secs_f64() * 1000.0
}

fn facade(store: Arc<SqlStore>, dns: Option<Arc<dyn DnsChallengeSolver>>) -> Peter {
    let mut builder = Peter::builder()
        .shared_store(store)
        .acme(peter_acme::InstantAcme);
    if let Some(dns) = dns {
        builder = builder.dns_solver(dns);
    }
    builder.build().unwrap()
}

fn report(label: &str, mut times: Vec<f64>) -> f64 {
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let p50 = percentile(&times, 0.5);
    let run = serde_json::json!({
        "method": label,
        "certificates": times.len(),
        "p50_ms": p50.round(),
        "p99_ms": percentile(&times, 0.99).round(),
    });
    println!("{run}");
    p50
}

/// `dnsperf` for 10 s against `server`, asking the lines of `queries`;
/// returns queries per second.
fn dnsperf(server: SocketAddr, queries: &std::path::Path) -> f64 {
    let out = std::process::Command::new("dnsperf")
        .args([
            "-s",
            &server.ip().to_string(),
            "-p",
            &server.port().to_string(),
        ])
        .arg("-d")
        .arg(queries)
        .args(["-l", "10", "-c", "4", "-Q", "200000", "-q", "200"])
        .output()
        .expect("dnsperf (apt-get install dnsperf)");
    let text = String::from_utf8_lossy(&out.stdout);
    let lost = text
        .lines()
        .find(|l| l.contains("Queries lost:"))
        .unwrap_or("")
        .trim()
        .to_string();
    let qps = text
        .lines()
        .find(|l| l.contains("Queries per second:"))
        .and_then(|l| l.split(':').nth(1))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .unwrap_or_else(|| panic!("dnsperf printed no rate: {text}"));
    let servfail = text
        .lines()
        .find(|l| l.contains("SERVFAIL"))
        .unwrap_or("no SERVFAIL")
        .trim()
        .to_string();
    eprintln!("dnsperf {server}: {qps:.0} q/s; {lost}; {servfail}");
    qps
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);
    let dir = std::env::temp_dir().join(format!("peter-dns01-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let store = Arc::new(
        SqlStore::open(&peter_store::sqlite_url_for_path(&dir.join("b.sqlite")))
            .await
            .unwrap(),
    );
    let plain = facade(store.clone(), None);

    // peter's zone, and the delegations the customer's zone will hold.
    let peter_dns: Arc<dyn DnsChallengeSolver> =
        Arc::new(PeterDns::new(store.clone(), PETER_ZONE, None).unwrap());
    let delegating = facade(store.clone(), Some(peter_dns));
    let mut records = Vec::new();
    for i in 0..n {
        let d = delegating
            .domains()
            .dns_delegation(&format!("p{i}.{ZONE}"))
            .await
            .unwrap();
        let relative = d.record.trim_end_matches(&format!(".{ZONE}")).to_string();
        records.push(format!("{relative} CNAME {}.", d.target));
    }
    let knot = Knot::start_with(ZONE, &records);
    let dns_addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let listener = DnsListener::bind(
        dns_addr,
        PETER_ZONE,
        &format!("ns.{PETER_ZONE}"),
        store.clone() as Arc<dyn Store>,
    )
    .await
    .unwrap();
    tokio::spawn(listener.run());
    let unbound = Unbound::start(&[(PETER_ZONE, dns_addr), (ZONE, knot.addr)]);
    let pebble = Pebble::start(PebbleOptions {
        dns_server: Some(unbound.addr.to_string()),
        ..Default::default()
    })
    .await;
    let _server = PublicServer::start(
        SocketAddr::from(([127, 0, 0, 1], pebble.http_port)),
        PublicState::new(plain.clone(), "bench"),
    )
    .await
    .unwrap();
    plain
        .acme_servers()
        .add(NewAcmeServer {
            name: "pebble".into(),
            directory_url: pebble.directory_url.clone(),
            ca_bundle_pem: Some(pebble.tls_ca_pem.clone()),
            is_default: true,
            ip_identifiers: false,
        })
        .await
        .unwrap();
    plain
        .accounts()
        .create(AccountRequest {
            global_default: true,
            ..AccountRequest::default()
        })
        .await
        .unwrap();
    let rfc2136: Arc<dyn DnsChallengeSolver> = Arc::new(
        Rfc2136::new(Rfc2136Settings {
            server: knot.addr,
            zone: ZONE.into(),
            key_name: knot.key_name.clone(),
            key_algorithm: "hmac-sha256".into(),
            key_secret: knot.key_secret.clone(),
            check: Vec::new(),
            ttl: 1,
            propagation_timeout: Duration::from_secs(30),
        })
        .unwrap(),
    );
    let updating = facade(store.clone(), Some(rfc2136));

    let mut http = Vec::new();
    let mut by_update = Vec::new();
    let mut by_peter = Vec::new();
    // Interleaved, so that a drift of the machine touches all three alike.
    for i in 0..n {
        http.push(issue(&plain, vec![format!("h{i}.{ZONE}")]).await);
        by_update.push(issue(&updating, vec![format!("*.u{i}.{ZONE}")]).await);
        by_peter.push(issue(&delegating, vec![format!("*.p{i}.{ZONE}")]).await);
    }
    let http_p50 = report("http-01", http);
    let update_p50 = report("dns-01 rfc2136 (knot)", by_update);
    let peter_p50 = report("dns-01 peter (unbound -> knot CNAME -> peter)", by_peter);
    println!(
        "{}",
        serde_json::json!({
            "dns01_rfc2136_p50_over_http01_p50": (update_p50 / http_p50 * 100.0).round() / 100.0,
            "dns01_peter_p50_over_http01_p50": (peter_p50 / http_p50 * 100.0).round() / 100.0,
        })
    );

    // Answer rate: 1,000 labels with one value each, in peter's store and,
    // as the same TXT records, in a second Knot zone.
    let mut labels = Vec::new();
    for i in 0..1000 {
        let label = store
            .dns_delegation_label(
                &format!("q{i}.rate.test"),
                &peter_core::ports::new_delegation_label(),
            )
            .await
            .unwrap();
        store
            .add_dns_txt(&label, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFG")
            .await
            .unwrap();
        labels.push(label);
    }
    let queries = dir.join("queries.txt");
    std::fs::write(
        &queries,
        labels
            .iter()
            .map(|l| format!("{l}.{PETER_ZONE} TXT\n"))
            .collect::<String>(),
    )
    .unwrap();
    let peer_records: Vec<String> = labels
        .iter()
        .map(|l| format!("{l} TXT \"0123456789abcdefghijklmnopqrstuvwxyzABCDEFG\""))
        .collect();
    let peer = Knot::start_with(PETER_ZONE, &peer_records);
    let peter_qps = dnsperf(dns_addr, &queries);
    let knot_qps = dnsperf(peer.addr, &queries);
    println!(
        "{}",
        serde_json::json!({
            "dns_answers": {
                "peter_queries_per_second": peter_qps.round(),
                "knot_queries_per_second": knot_qps.round(),
                "peter_over_knot": (peter_qps / knot_qps * 100.0).round() / 100.0,
            }
        })
    );
    let _ = std::fs::remove_dir_all(&dir);
}
