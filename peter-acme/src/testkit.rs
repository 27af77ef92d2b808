//! A real Pebble (and pebble-challtestsrv) for tests: free loopback ports, a
//! CA and a localhost leaf made at start for Pebble's own TLS, every name
//! resolving to 127.0.0.1 so that Pebble's HTTP-01 validation reaches the
//! port the test chooses. Pebble must be installed (scripts/install-test-deps.sh);
//! a missing Pebble is a test failure, never a skip.

// The fault-injecting proxy lives in src/faults.rs, under testkit's lints.
#[path = "faults.rs"]
pub mod faults;

use std::net::{TcpListener, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use instant_acme::BodyWrapper;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, SanType};

/// A free TCP port on 127.0.0.1, from 10000-29999: below the kernel's
/// ephemeral range, so a port just released is not handed to another
/// process's `bind(0)` or outgoing connection, and spread by process id so
/// that parallel test processes rarely try the same one.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let pid = std::process::id();
    loop {
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let port =
            10_000 + ((pid.wrapping_mul(7919).wrapping_add(n.wrapping_mul(211))) % 20_000) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok()
            && UdpSocket::bind(("127.0.0.1", port)).is_ok()
        {
            return port;
        }
    }
}

/// How to start Pebble.
#[derive(Debug, Clone, Default)]
pub struct PebbleOptions {
    /// The port Pebble's validator fetches HTTP-01 tokens from (default: a free one).
    pub http_port: Option<u16>,
    /// Extra environment (`PEBBLE_ALTERNATE_ROOTS`, `PEBBLE_WFE_NONCEREJECT`, ...).
    pub env: Vec<(String, String)>,
    /// External account binding MAC keys (key id, base64url HMAC key); when
    /// any are given, Pebble requires a binding for every new account.
    pub eab_mac_keys: Vec<(String, String)>,
    /// The DNS server Pebble resolves through (`127.0.0.1:PORT`; default:
    /// its pebble-challtestsrv, which answers 127.0.0.1 for every name).
    pub dns_server: Option<String>,
    /// Names Pebble refuses to issue for (`rejectedIdentifier`), with
    /// their subdomains.
    pub domain_blocklist: Vec<String>,
}

/// A running Pebble; stopped on drop.
pub struct Pebble {
    pebble: Child,
    challtestsrv: Child,
    dir: PathBuf,
    /// `https://127.0.0.1:PORT/dir`
    pub directory_url: String,
    /// `https://127.0.0.1:PORT` (management API)
    pub management_url: String,
    /// `http://127.0.0.1:PORT`: pebble-challtestsrv's management API, whose
    /// `/set-txt` and `/clear-txt` place the TXT records Pebble's DNS-01
    /// validation reads (Pebble resolves through challtestsrv).
    pub challtestsrv_url: String,
    /// The CA that signed Pebble's TLS certificate (trust it for the directory).
    pub tls_ca_pem: String,
    /// Pebble's TLS certificate (for 127.0.0.1 and localhost).
    pub tls_leaf_pem: String,
    /// Its private key (a throwaway made at start).
    pub tls_leaf_key_pem: String,
    /// Where Pebble validates HTTP-01.
    pub http_port: u16,
}

impl Drop for Pebble {
    fn drop(&mut self) {
        let _ = self.pebble.kill();
        let _ = self.challtestsrv.kill();
        let _ = self.pebble.wait();
        let _ = self.challtestsrv.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn tls_material() -> (String, String, String) {
    let ca_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("keygen");
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("params");
    ca.distinguished_name
        .push(DnType::CommonName, "peter test Pebble TLS CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca.self_signed(&ca_key).expect("self-sign");
    let leaf_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("keygen");
    let mut leaf = CertificateParams::new(vec!["localhost".to_string()]).expect("params");
    leaf.subject_alt_names
        .push(SanType::IpAddress("127.0.0.1".parse().expect("ip")));
    leaf.distinguished_name
        .push(DnType::CommonName, "localhost");
    let issuer = Issuer::from_params(&ca, &ca_key);
    let leaf_cert = leaf.signed_by(&leaf_key, &issuer).expect("sign");
    (ca_cert.pem(), leaf_cert.pem(), leaf_key.serialize_pem())
}

impl Pebble {
    /// Starts challtestsrv and Pebble and waits until the directory answers.
    pub async fn start(options: PebbleOptions) -> Pebble {
        for tool in ["pebble", "pebble-challtestsrv"] {
            let found = Command::new("sh")
                .args(["-c", &format!("command -v {tool}")])
                .output()
                .map(|o| o.status.success())
                .unwrap_or(false);
            assert!(
                found,
                "{tool} is not installed: run scripts/install-test-deps.sh"
            );
        }
        let dir = std::env::temp_dir().join(format!(
            "peter-pebble-{}-{}",
            std::process::id(),
            free_port()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let (ca_pem, leaf_pem, leaf_key) = tls_material();
        std::fs::write(dir.join("leaf.pem"), &leaf_pem).expect("write");
        std::fs::write(dir.join("leaf.key"), &leaf_key).expect("write");
        let (acme, mgmt, tls, dns, cmgmt) = (
            free_port(),
            free_port(),
            free_port(),
            free_port(),
            free_port(),
        );
        let http_port = options.http_port.unwrap_or_else(free_port);
        let config = serde_json::json!({"pebble": {
            "listenAddress": format!("127.0.0.1:{acme}"),
            "managementListenAddress": format!("127.0.0.1:{mgmt}"),
            "certificate": dir.join("leaf.pem"),
            "privateKey": dir.join("leaf.key"),
            "httpPort": http_port,
            "tlsPort": tls,
            "ocspResponderURL": "",
            "externalAccountBindingRequired": !options.eab_mac_keys.is_empty(),
            "externalAccountMACKeys": options.eab_mac_keys.iter().cloned().collect::<std::collections::BTreeMap<String, String>>(),
            "domainBlocklist": options.domain_blocklist,
            "profiles": {
                "default": {"description": "default profile", "validityPeriod": 7776000, "promoteCommonName": true},
                "shortlived": {"description": "short-lived profile", "validityPeriod": 518400, "promoteCommonName": true}
            }
        }});
        std::fs::write(dir.join("pebble.json"), config.to_string()).expect("write config");
        let log = |name: &str| std::fs::File::create(dir.join(name)).expect("log file");
        let challtestsrv = Command::new("pebble-challtestsrv")
            .args([
                "-defaultIPv4",
                "127.0.0.1",
                "-defaultIPv6",
                "",
                "-http01",
                "",
                "-https01",
                "",
                "-tlsalpn01",
                "",
                "-doh",
                "",
            ])
            .args([
                "-dnsserver",
                &format!("127.0.0.1:{dns}"),
                "-management",
                &format!("127.0.0.1:{cmgmt}"),
            ])
            .stdout(log("challtestsrv.log"))
            .stderr(Stdio::null())
            .spawn()
            .expect("start pebble-challtestsrv");
        let mut command = Command::new("pebble");
        command
            .arg("-config")
            .arg(dir.join("pebble.json"))
            .args([
                "-dnsserver",
                &options
                    .dns_server
                    .clone()
                    .unwrap_or_else(|| format!("127.0.0.1:{dns}")),
                "-strict=false",
            ])
            .env("PEBBLE_VA_NOSLEEP", "1")
            .env("PEBBLE_WFE_NONCEREJECT", "0")
            .env("PEBBLE_AUTHZREUSE", "0")
            .stdout(log("pebble.log"))
            .stderr(log("pebble.err"));
        for (k, v) in &options.env {
            command.env(k, v);
        }
        let pebble = command.spawn().expect("start pebble");
        let mut me = Pebble {
            pebble,
            challtestsrv,
            directory_url: format!("https://127.0.0.1:{acme}/dir"),
            management_url: format!("https://127.0.0.1:{mgmt}"),
            challtestsrv_url: format!("http://127.0.0.1:{cmgmt}"),
            tls_ca_pem: ca_pem,
            tls_leaf_pem: leaf_pem,
            tls_leaf_key_pem: leaf_key,
            http_port,
            dir,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Some(status)) = me.pebble.try_wait() {
                let log = std::fs::read_to_string(me.dir.join("pebble.log")).unwrap_or_default();
                panic!("pebble exited ({status}): {log}");
            }
            if let Ok(Some(status)) = me.challtestsrv.try_wait() {
                panic!("pebble-challtestsrv exited ({status})");
            }
            let last = me.get(&me.directory_url.clone()).await;
            if matches!(last, Ok((200, _))) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "pebble did not answer within 20 s: {:?}; log: {}",
                last.map(|(s, _)| s),
                std::fs::read_to_string(me.dir.join("pebble.log")).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        me
    }

    fn client(
        &self,
    ) -> Client<
        hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
        BodyWrapper<Bytes>,
    > {
        let tls = crate::http::tls_config(Some(&self.tls_ca_pem)).expect("tls");
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_only()
            .enable_http1()
            .build();
        Client::builder(TokioExecutor::new()).build(https)
    }

    async fn request(
        &self,
        request: ::http::Request<BodyWrapper<Bytes>>,
    ) -> Result<(u16, Vec<u8>), String> {
        let response = self
            .client()
            .request(request)
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        Ok((status, body.to_vec()))
    }

    /// GET against Pebble (ACME or management side).
    pub async fn get(&self, url: &str) -> Result<(u16, Vec<u8>), String> {
        let request = ::http::Request::get(url)
            .header("user-agent", "peter-testkit")
            .body(BodyWrapper::default())
            .map_err(|e| e.to_string())?;
        self.request(request).await
    }

    /// The root of chain `n` (0: default).
    pub async fn root_pem(&self, n: usize) -> String {
        let (status, body) = self
            .get(&format!("{}/roots/{n}", self.management_url))
            .await
            .expect("roots");
        assert_eq!(status, 200);
        String::from_utf8(body).expect("PEM")
    }

    /// The intermediate next to the leaf in chain `n`.
    pub async fn intermediate_pem(&self, n: usize) -> String {
        let (status, body) = self
            .get(&format!("{}/intermediates/{n}", self.management_url))
            .await
            .expect("intermediates");
        assert_eq!(status, 200);
        String::from_utf8(body).expect("PEM")
    }

    /// Pebble's view of a certificate (`Status`: `Valid` or `Revoked`).
    pub async fn cert_status(&self, serial_hex: &str) -> serde_json::Value {
        let (status, body) = self
            .get(&format!(
                "{}/cert-status-by-serial/{serial_hex}",
                self.management_url
            ))
            .await
            .expect("cert status");
        assert_eq!(status, 200, "serial {serial_hex} unknown to Pebble");
        serde_json::from_slice(&body).expect("JSON")
    }

    /// Overrides the ARI window Pebble serves for a certificate (RFC 3339
    /// `start` and `end`), with an explanation URL when given.
    pub async fn set_renewal_info(
        &self,
        certificate_pem: &str,
        start: &str,
        end: &str,
        explanation_url: Option<&str>,
    ) {
        let mut ari = serde_json::json!({"suggestedWindow": {"start": start, "end": end}});
        if let Some(url) = explanation_url {
            ari["explanationURL"] = url.into();
        }
        let ari = ari.to_string();
        let body =
            serde_json::json!({"certificate": certificate_pem, "ariResponse": ari}).to_string();
        let request = ::http::Request::post(format!("{}/set-renewal-info/", self.management_url))
            .header("user-agent", "peter-testkit")
            .body(BodyWrapper::from(body.into_bytes()))
            .expect("request");
        let (status, _) = self.request(request).await.expect("set renewal info");
        assert_eq!(status, 200);
    }
}

/// A real Knot DNS server (Debian's `knot`) authoritative for one zone on a
/// free loopback port, taking RFC 2136 updates signed with one TSIG key
/// (hmac-sha256). Every name of the zone has an A record for 127.0.0.1, so a
/// Pebble resolving through it validates HTTP-01 on loopback too. Stopped
/// on drop.
pub struct Knot {
    child: Child,
    dir: PathBuf,
    /// `127.0.0.1:PORT` (UDP and TCP).
    pub addr: std::net::SocketAddr,
    /// The zone (`dns-test.example`).
    pub zone: String,
    /// The TSIG key's name.
    pub key_name: String,
    /// Its secret, base64.
    pub key_secret: String,
}

impl Drop for Knot {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Knot {
    /// Starts knotd for `zone` and waits until it answers the zone's SOA.
    pub fn start(zone: &str) -> Knot {
        Self::start_with(zone, &[])
    }

    /// Like [`Knot::start`], with more records in the zone file (lines such
    /// as `_acme-challenge CNAME abc.acme.example.`).
    pub fn start_with(zone: &str, records: &[String]) -> Knot {
        use base64::Engine;
        let found = Command::new("sh")
            .args(["-c", "command -v knotd"])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        assert!(
            found,
            "knotd is not installed: run scripts/install-test-deps.sh (this is a failure, not a skip)"
        );
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("peter-knot-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("knot dir");
        let mut secret = [0u8; 32];
        aws_lc_rs::rand::fill(&mut secret).expect("random");
        let key_secret = base64::engine::general_purpose::STANDARD.encode(secret);
        let key_name = "peter-test-key".to_string();
        std::fs::write(
            dir.join(format!("{zone}.zone")),
            format!(
                "$ORIGIN {zone}.\n$TTL 5\n@ SOA ns.{zone}. hostmaster.{zone}. 1 3600 600 86400 1\n@ NS ns.{zone}.\n@ A 127.0.0.1\n* A 127.0.0.1\n{}\n",
                records.join("\n")
            ),
        )
        .expect("zone file");
        let d = dir.display();
        std::fs::write(
            dir.join("knot.conf"),
            format!(
                r#"server:
    listen: 127.0.0.1@{port}
    rundir: "{d}"
database:
    storage: "{d}"
log:
  - target: stderr
    any: info
key:
  - id: {key_name}
    algorithm: hmac-sha256
    secret: {key_secret}
acl:
  - id: update
    key: {key_name}
    action: update
template:
  - id: default
    storage: "{d}"
    file: "%s.zone"
    zonefile-sync: -1
    journal-content: none
zone:
  - domain: {zone}
    acl: update
"#
            ),
        )
        .expect("knot.conf");
        let log = std::fs::File::create(dir.join("knot.log")).expect("log");
        let child = Command::new("knotd")
            .arg("-c")
            .arg(dir.join("knot.conf"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start knotd");
        let mut knot = Knot {
            child,
            dir,
            addr: std::net::SocketAddr::from(([127, 0, 0, 1], port)),
            zone: zone.to_string(),
            key_name,
            key_secret,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Some(status)) = knot.child.try_wait() {
                let log = std::fs::read_to_string(knot.dir.join("knot.log")).unwrap_or_default();
                panic!("knotd exited ({status}): {log}");
            }
            if !knot.dig(zone, "SOA").is_empty() {
                return knot;
            }
            assert!(Instant::now() < deadline, "knotd did not answer in 20 s");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// What the server answers for `name`/`rtype`, one record per line (`dig +short`).
    pub fn dig(&self, name: &str, rtype: &str) -> Vec<String> {
        let out = Command::new("dig")
            .args([
                "@127.0.0.1",
                "-p",
                &self.addr.port().to_string(),
                "+short",
                "+time=1",
                "+tries=1",
                name,
                rtype,
            ])
            .output()
            .expect("dig (dnsutils)");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with(";;"))
            .map(|l| l.trim_matches('"').to_string())
            .collect()
    }

    /// Stops the server (a DNS server down); the port stays unanswered.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A real Unbound (Debian's `unbound`), a recursive resolver on a free
/// loopback port that follows CNAMEs across the stub zones it is given
/// (each `zone` answered by a server on loopback). Iterator only (no
/// DNSSEC validation), caches for a second at most. Stopped on drop.
pub struct Unbound {
    child: Child,
    dir: PathBuf,
    /// `127.0.0.1:PORT` (UDP and TCP).
    pub addr: std::net::SocketAddr,
}

impl Drop for Unbound {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Unbound {
    /// Starts unbound with a stub zone per `(zone, server)` and waits until
    /// it answers the first zone's SOA.
    pub fn start(stubs: &[(&str, std::net::SocketAddr)]) -> Unbound {
        let found = Command::new("sh")
            .args(["-c", "command -v unbound"])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        assert!(
            found,
            "unbound is not installed: run scripts/install-test-deps.sh (this is a failure, not a skip)"
        );
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("peter-unbound-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("unbound dir");
        let d = dir.display();
        let mut conf = format!(
            r#"server:
    interface: 127.0.0.1@{port}
    port: {port}
    do-ip6: no
    do-daemonize: no
    username: ""
    chroot: ""
    directory: "{d}"
    pidfile: "{d}/unbound.pid"
    use-syslog: no
    logfile: ""
    verbosity: 1
    access-control: 127.0.0.0/8 allow
    do-not-query-localhost: no
    module-config: "iterator"
    qname-minimisation: no
    cache-max-ttl: 1
    cache-max-negative-ttl: 1
    infra-host-ttl: 1
"#
        );
        for (zone, _) in stubs {
            // Unbound answers special-use TLDs (`test.`, `invalid.`, ...)
            // itself unless told not to.
            let tld = zone.rsplit('.').next().unwrap_or(zone);
            conf.push_str(&format!(
                "    domain-insecure: \"{zone}\"\n    local-zone: \"{tld}.\" nodefault\n"
            ));
        }
        for (zone, server) in stubs {
            conf.push_str(&format!(
                "stub-zone:\n    name: \"{zone}\"\n    stub-addr: {}@{}\n",
                server.ip(),
                server.port()
            ));
        }
        std::fs::write(dir.join("unbound.conf"), conf).expect("unbound.conf");
        let log = std::fs::File::create(dir.join("unbound.log")).expect("log");
        let child = Command::new("unbound")
            .arg("-d")
            .arg("-c")
            .arg(dir.join("unbound.conf"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start unbound");
        let mut unbound = Unbound {
            child,
            dir,
            addr: std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        let first = stubs
            .first()
            .map(|(z, _)| z.to_string())
            .unwrap_or_default();
        loop {
            if let Ok(Some(status)) = unbound.child.try_wait() {
                let log =
                    std::fs::read_to_string(unbound.dir.join("unbound.log")).unwrap_or_default();
                panic!("unbound exited ({status}): {log}");
            }
            if !unbound.dig(&first, "SOA").is_empty() {
                return unbound;
            }
            assert!(Instant::now() < deadline, "unbound did not answer in 20 s");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// What the resolver answers for `name`/`rtype` (`dig +short`).
    pub fn dig(&self, name: &str, rtype: &str) -> Vec<String> {
        let out = Command::new("dig")
            .args([
                "@127.0.0.1",
                "-p",
                &self.addr.port().to_string(),
                "+short",
                "+time=2",
                "+tries=1",
                name,
                rtype,
            ])
            .output()
            .expect("dig (dnsutils)");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with(";;"))
            .map(|l| l.trim_matches('"').to_string())
            .collect()
    }
}
