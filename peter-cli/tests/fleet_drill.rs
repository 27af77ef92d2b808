//! The fleet drill: three `peter serve --renew-every` nodes on one
//! PostgreSQL, each reaching it through its own TCP relay on loopback. One
//! node is cut off while it holds a renewal lease mid-renewal; the others
//! finish its renewal once its lease expires; it answers 503 while cut off;
//! after rejoining it writes nothing stale (its writes are fenced), serves
//! the current config.json at once, and the store holds exactly one new
//! certificate per due one.
//!
//! Real: PostgreSQL, Pebble, the `peter` binary. Pebble runs with
//! `PEBBLE_VA_ALWAYS_VALID=1` so that validation needs no routing to
//! whichever node is up (the drill is about the store, not HTTP-01), and the
//! in-process fault proxy delays every ACME answer by 150-250 ms so that a
//! renewal takes long enough to be cut in the middle.
//!
//! The relay "cut" holds every byte (both ways) and every new connection
//! until it is restored, like a partition that heals: what the node sent
//! while cut off arrives afterwards. That is the case fencing exists for.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use peter_acme::testkit::faults::{Fault, FaultProxy};
use peter_acme::testkit::{Pebble, PebbleOptions, free_port};
use peter_core::model::KeyTechnology;
use peter_core::testkit::TestPki;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;

const DUE: usize = 6;
const LEASE_SECONDS: &str = "5";

/// A TCP relay to PostgreSQL that the test can cut and restore.
struct Relay {
    port: u16,
    cut: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut cut: watch::Receiver<bool>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        // Held, not dropped, while cut.
        if cut.wait_for(|c| !*c).await.is_err() {
            break;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}

impl Relay {
    async fn start(upstream: u16) -> Relay {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (cut, rx) = watch::channel(false);
        let task = tokio::spawn(async move {
            loop {
                let Ok((inbound, _)) = listener.accept().await else {
                    return;
                };
                let mut rx = rx.clone();
                tokio::spawn(async move {
                    if rx.wait_for(|c| !*c).await.is_err() {
                        return;
                    }
                    let Ok(outbound) =
                        tokio::net::TcpStream::connect(("127.0.0.1", upstream)).await
                    else {
                        return;
                    };
                    let _ = inbound.set_nodelay(true);
                    let _ = outbound.set_nodelay(true);
                    let (ir, iw) = inbound.into_split();
                    let (or, ow) = outbound.into_split();
                    tokio::join!(pump(ir, ow, rx.clone()), pump(or, iw, rx));
                });
            }
        });
        Relay { port, cut, task }
    }

    fn cut(&self) {
        self.cut.send_replace(true);
    }

    fn restore(&self) {
        self.cut.send_replace(false);
    }
}

fn peter(data: &PathBuf, database_url: &str, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_peter"));
    c.arg("--data-dir")
        .arg(data)
        .arg("--database-url")
        .arg(database_url)
        .args(args)
        .env_remove("PETER_KILL_AT")
        .env_remove("PETER_DATABASE_URL")
        .env_remove("PETER_TEST_CLOCK_OFFSET_SECONDS");
    c
}

fn json(data: &PathBuf, database_url: &str, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let out = peter(data, database_url, &all).output().unwrap();
    assert!(
        out.status.success(),
        "peter {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// One query through psql, straight to PostgreSQL (never through a relay).
fn sql(url: &str, query: &str) -> String {
    let out = Command::new("psql")
        .arg(url)
        .args(["-tAqc", query])
        .output()
        .expect("psql");
    assert!(
        out.status.success(),
        "psql {query}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

struct Node {
    name: String,
    data: PathBuf,
    relay: Relay,
    listen: String,
    token: String,
    log: PathBuf,
    child: Option<Child>,
}

impl Node {
    async fn start(k: usize, database: &str) -> Node {
        let relay = Relay::start(5432).await;
        let url = format!("postgres://postgres@127.0.0.1:{}/{database}", relay.port);
        let data = std::env::temp_dir().join(format!(
            "peter-drill-{k}-{}-{}",
            std::process::id(),
            free_port()
        ));
        let _ = std::fs::remove_dir_all(&data);
        json(&data, &url, &["init"]);
        let token = std::fs::read_to_string(data.join("admin-token"))
            .unwrap()
            .trim()
            .to_string();
        let listen = format!("127.0.0.1:{}", free_port());
        let name = format!("drill-node{k}");
        let log = data.join("serve.log");
        let child = peter(
            &data,
            &url,
            &[
                "serve",
                "--listen",
                &listen,
                "--admin",
                "--renew-every",
                "1",
                "--renew-days",
                "5",
                "--lease-seconds",
                LEASE_SECONDS,
            ],
        )
        .env("HOSTNAME", &name)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
        Node {
            name,
            data,
            relay,
            listen,
            token,
            log,
            child: Some(child),
        }
    }

    fn stop(&mut self) -> String {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let mut text = String::new();
        std::fs::File::open(&self.log)
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        text
    }

    async fn get(&self, path: &str) -> (u16, String, Duration) {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        let started = Instant::now();
        let response = client
            .get(format!("http://{}{path}", self.listen))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let body = response.text().await.unwrap();
        (status, body, started.elapsed())
    }

    async fn config_json(&self, domain: &str) -> (u16, String, Duration) {
        self.get(&format!(
            "/.well-known/peter_sslers/domain/{domain}/config.json"
        ))
        .await
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fleet_drill_a_node_cut_off_mid_renewal_does_nothing_twice_and_serves_nothing_stale() {
    let admin = std::env::var("PETER_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let database = format!("peter_t_drill_{}_{}", std::process::id(), free_port());
    sql(&admin, &format!("create database \"{database}\""));
    let direct = format!("{}/{database}", admin.rsplit_once('/').unwrap().0);

    let pebble = Pebble::start(PebbleOptions {
        env: vec![("PEBBLE_VA_ALWAYS_VALID".into(), "1".into())],
        ..Default::default()
    })
    .await;
    let proxy = FaultProxy::start(&pebble, 1000, 14).await;
    proxy.set_kinds(&[Fault::Delay]);
    proxy.set_delay(Duration::from_millis(150), Duration::from_millis(250));

    // The store: an ACME server (through the delaying proxy), a default
    // account, and DUE imported certificates with three days left (due
    // under `--renew-days 5`; Pebble's certificates, 6 or 90 days, are not).
    let setup = std::env::temp_dir().join(format!("peter-drill-setup-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&setup);
    json(&setup, &direct, &["init"]);
    let bundle = setup.join("pebble-ca.pem");
    std::fs::write(&bundle, &pebble.tls_ca_pem).unwrap();
    json(
        &setup,
        &direct,
        &[
            "acme-server",
            "add",
            "pebble",
            "--directory",
            &proxy.directory_url,
            "--ca-bundle",
            bundle.to_str().unwrap(),
            "--default",
        ],
    );
    let account = json(
        &setup,
        &direct,
        &[
            "account",
            "new",
            "--contact",
            "ops@example.com",
            "--global-default",
        ],
    )["AcmeAccount"]["id"]
        .to_string();
    let pki = TestPki::new("drill");
    let now = time::OffsetDateTime::now_utc();
    let domains: Vec<String> = (0..DUE)
        .map(|i| format!("d{i}.drill.example.com"))
        .collect();
    for domain in &domains {
        let leaf = pki.issue_window(
            &[domain],
            KeyTechnology::EcP256,
            now - time::Duration::days(87),
            now + time::Duration::days(3),
        );
        let (cert, key, chain) = (
            setup.join("cert.pem"),
            setup.join("key.pem"),
            setup.join("chain.pem"),
        );
        std::fs::write(&cert, leaf.certificate.pem()).unwrap();
        std::fs::write(&key, leaf.key.pem()).unwrap();
        std::fs::write(&chain, pki.chain_pem()).unwrap();
        json(
            &setup,
            &direct,
            &[
                "import",
                "cert",
                "--cert",
                cert.to_str().unwrap(),
                "--key",
                key.to_str().unwrap(),
                "--chain",
                chain.to_str().unwrap(),
            ],
        );
    }
    // Imported certificates are renewed once the operator names the
    // account that renews them.
    for domain in &domains {
        json(
            &setup,
            &direct,
            &[
                "renewal-configuration",
                "new",
                domain,
                "--account",
                &account,
            ],
        );
    }
    let certificates = || sql(&direct, "select count(*) from certificate_signed");
    assert_eq!(certificates(), DUE.to_string());

    // Three nodes, each renewing every second under 5-second leases.
    let mut nodes = Vec::new();
    for k in 1..=3 {
        nodes.push(Node::start(k, &database).await);
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    for node in &nodes {
        while std::net::TcpStream::connect(&node.listen).is_err() {
            assert!(Instant::now() < deadline, "{} did not start", node.name);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let t0 = Instant::now();
    let at = |t: Instant| format!("{:.2} s", t.duration_since(t0).as_secs_f64());

    // Cut node 1 off while it holds a lease, mid-renewal: its order placed
    // at the CA, not yet finished.
    let held_by_node1 = || {
        sql(
            &direct,
            "select r.unique_fqdn_set_id from renewal_state r join acme_order o \
             on o.unique_fqdn_set_id = r.unique_fqdn_set_id \
             where r.lease_holder like 'drill-node1-%' and r.lease_expires_at > now() \
             and o.order_url is not null and o.is_processing limit 1",
        )
    };
    let held_set = loop {
        let held = held_by_node1();
        if !held.is_empty() {
            break held;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "node 1 never took a lease"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let held_domain = sql(
        &direct,
        &format!(
            "select d.domain_name from domain d join unique_fqdn_set_domain l on l.domain_id = d.id \
             where l.unique_fqdn_set_id = {held_set}"
        ),
    );
    // Node 1 has the domain's config.json in its cache when it is cut off.
    assert_eq!(nodes[0].config_json(&held_domain).await.0, 200);
    nodes[0].relay.cut();
    let t_cut = Instant::now();
    let lease_expiry = sql(
        &direct,
        &format!(
            "select extract(epoch from lease_expires_at - now()) from renewal_state \
             where unique_fqdn_set_id = {held_set}"
        ),
    );

    // Cut off, node 1 fails closed: 503 within 2 s for what it cannot read,
    // its cached config.json included once the 250 ms freshness bound passed.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, _, took) = nodes[0]
        .get("/.well-known/acme-challenge/drill-unknown-token")
        .await;
    assert_eq!(status, 503, "challenge route while cut off");
    assert!(took < Duration::from_secs(2), "challenge 503 took {took:?}");
    let (status, _, took_config) = nodes[0].config_json(&held_domain).await;
    assert_eq!(status, 503, "config.json while cut off");
    assert!(
        took_config < Duration::from_secs(2),
        "config.json 503 took {took_config:?}"
    );
    // The others still serve.
    assert_eq!(nodes[1].config_json(&held_domain).await.0, 200);

    // The others take over its renewal after its lease expires and finish
    // every due certificate.
    let mut t_takeover = None;
    let renewed = || {
        sql(
            &direct,
            "select count(*) from (select unique_fqdn_set_id from certificate_signed \
             group by unique_fqdn_set_id having count(*) >= 2) x",
        )
    };
    loop {
        if t_takeover.is_none() {
            let holder = sql(
                &direct,
                &format!(
                    "select coalesce(lease_holder, '') from renewal_state where unique_fqdn_set_id = {held_set}"
                ),
            );
            if !holder.is_empty() && !holder.starts_with("drill-node1-") {
                t_takeover = Some(Instant::now());
            }
        }
        if renewed() == DUE.to_string() && t_takeover.is_some() {
            break;
        }
        assert!(
            t_cut.elapsed() < Duration::from_secs(120),
            "the other nodes did not finish: {} of {DUE} renewed, takeover {t_takeover:?}",
            renewed()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let t_done = Instant::now();

    // Rejoin: node 1 serves the current config.json at once.
    nodes[0].relay.restore();
    let t_rejoin = Instant::now();
    // What the store says the domain serves now: its renewed certificate.
    let newest = sql(
        &direct,
        &format!(
            "select certificate_signed_id_latest_single from domain where domain_name = '{held_domain}'"
        ),
    );
    let served = |body: &str| {
        serde_json::from_str::<serde_json::Value>(body).unwrap()
            ["certificate_signed__latest_single"]["id"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let fresh_after = loop {
        let (status, body, _) = nodes[0].config_json(&held_domain).await;
        if status == 200 {
            assert_eq!(
                served(&body),
                newest,
                "node 1 served something else than the store holds"
            );
            break t_rejoin.elapsed();
        }
        assert!(
            t_rejoin.elapsed() < Duration::from_secs(5),
            "node 1 did not recover: {status}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    // Let node 1's held-back writes arrive, and every node's current run
    // end and report (a run reports when it has gone through all it found due).
    let reported = |nodes: &[Node]| {
        nodes
            .iter()
            .map(|n| {
                std::fs::read_to_string(&n.log)
                    .unwrap_or_default()
                    .lines()
                    .filter(|l| {
                        l.contains("renewed by order") || l.contains("left to another node")
                    })
                    .count()
            })
            .sum::<usize>()
    };
    let waiting = Instant::now();
    while reported(&nodes) < DUE + 1 && waiting.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;

    let logs: Vec<String> = nodes.iter_mut().map(Node::stop).collect();
    let renewed_by: Vec<usize> = logs
        .iter()
        .map(|l| l.lines().filter(|x| x.contains("renewed by order")).count())
        .collect();
    let fenced: Vec<usize> = logs
        .iter()
        .map(|l| {
            l.lines()
                .filter(|x| x.contains("left to another node"))
                .count()
        })
        .collect();
    eprintln!(
        "drill timeline: node 1 cut at {} holding name set {held_set} ({held_domain}), lease expiring {lease_expiry} s later; \
         503 answers while cut: challenge {took:?}, config.json {took_config:?}; \
         takeover at {}; all {DUE} renewed at {}; rejoin at {}; node 1 served the current config.json {fresh_after:?} after rejoining",
        at(t_cut),
        t_takeover.map(at).unwrap_or_default(),
        at(t_done),
        at(t_rejoin),
    );
    for (k, log) in logs.iter().enumerate() {
        eprintln!(
            "node {}: {} renewals finished, {} lost leases reported",
            k + 1,
            renewed_by[k],
            fenced[k]
        );
        for line in log.lines().filter(|l| l.contains("renewal")) {
            eprintln!("  {line}");
        }
    }
    eprintln!(
        "orders in the store: {}; valid: {}; certificates: {}",
        sql(&direct, "select count(*) from acme_order"),
        sql(
            &direct,
            "select count(*) from acme_order where certificate_signed_id is not null"
        ),
        certificates()
    );

    // Exactly one new certificate per due one, and nothing else.
    assert_eq!(certificates(), (2 * DUE).to_string());
    assert_eq!(
        sql(
            &direct,
            "select count(*) from (select unique_fqdn_set_id from certificate_signed \
             group by unique_fqdn_set_id having count(*) = 2) x"
        ),
        DUE.to_string()
    );
    assert_eq!(
        sql(
            &direct,
            "select count(*) from acme_order where certificate_signed_id is not null"
        ),
        DUE.to_string(),
        "one certified order per due certificate"
    );
    // Node 1's interrupted renewal was finished by another node, node 1's
    // own late writes were refused (it reported the lost lease), and every
    // finished renewal was reported by exactly one node.
    assert_eq!(renewed_by.iter().sum::<usize>(), DUE, "{renewed_by:?}");
    let held_cert = sql(
        &direct,
        &format!("select min(id) from certificate_signed where unique_fqdn_set_id = {held_set}"),
    );
    let finished_it = format!("certificate {held_cert} renewed by order");
    assert!(
        !logs[0].contains(&finished_it)
            && (logs[1].contains(&finished_it) || logs[2].contains(&finished_it)),
        "another node finished node 1's renewal"
    );
    assert!(
        logs[0].contains(&format!("certificate {held_cert} left to another node")),
        "node 1's writes after rejoining were fenced: {}",
        logs[0]
    );
    assert!(fresh_after < Duration::from_secs(1), "{fresh_after:?}");

    drop(nodes);
    drop(proxy);
    let _ = std::fs::remove_dir_all(&setup);
    let _ = Command::new("psql")
        .arg(&admin)
        .args([
            "-qc",
            &format!("drop database if exists \"{database}\" with (force)"),
        ])
        .status();
}
