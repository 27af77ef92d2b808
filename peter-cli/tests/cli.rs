//! The `peter` binary driven as a user would: init, import, list, mark, and
//! bad input that must give one line on stderr and a non-zero exit code.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use peter_core::model::KeyTechnology;
use peter_core::testkit::TestPki;

struct Dir(PathBuf);

impl Dir {
    fn new(label: &str) -> Self {
        let p = std::env::temp_dir().join(format!("peter-cli-{label}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Self(p)
    }
    fn data(&self) -> PathBuf {
        self.0.join("data")
    }
    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn peter(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_peter"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("PETER_DATABASE_URL")
        .output()
        .expect("run peter")
}

fn json(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

fn assert_one_line_error(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err:?}");
    assert!(err.starts_with("peter: error: "), "{err:?}");
    assert!(!err.contains("panicked") && !err.contains("backtrace"));
}

#[test]
fn init_is_idempotent_private_and_prints_the_token_once() {
    let dir = Dir::new("init");
    let data = dir.data();
    let first = json(&peter(&data, &["--json", "init"]));
    let token = first["admin_token"]
        .as_str()
        .expect("token on first init")
        .to_string();
    assert!(token.len() >= 40);
    assert_eq!(first["config_created"], true);
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join("peter.sqlite")), 0o600);
    assert_eq!(mode(&data.join("admin-token")), 0o600);
    assert_eq!(mode(&data.join("peter.toml")), 0o600);
    let config_before = std::fs::read_to_string(data.join("peter.toml")).unwrap();

    let second = json(&peter(&data, &["--json", "init"]));
    assert!(
        second.get("admin_token").is_none(),
        "the token is printed once"
    );
    assert_eq!(second["config_created"], false);
    assert_eq!(
        std::fs::read_to_string(data.join("admin-token"))
            .unwrap()
            .trim(),
        token
    );
    assert_eq!(
        std::fs::read_to_string(data.join("peter.toml")).unwrap(),
        config_before
    );

    // Files holding secrets that someone loosened are tightened, and said so.
    for file in ["admin-token", "peter.sqlite", "peter.toml"] {
        std::fs::set_permissions(data.join(file), std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let third = peter(&data, &["init"]);
    assert!(third.status.success());
    let said = String::from_utf8_lossy(&third.stderr);
    for file in ["admin-token", "peter.sqlite", "peter.toml"] {
        assert_eq!(mode(&data.join(file)), 0o600, "{file}");
        assert!(said.contains(file), "init says it tightened {file}: {said}");
    }
}

#[test]
fn import_list_and_mark_a_certificate() {
    let dir = Dir::new("import");
    let data = dir.data();
    json(&peter(&data, &["--json", "init"]));
    let pki = TestPki::new("cli");
    let leaf = pki.issue(&["www.example.com", "example.com"], KeyTechnology::EcP256);
    let cert = dir.write("cert.pem", leaf.certificate.pem());
    let key = dir.write("key.pem", leaf.key.pem());
    let chain = dir.write("chain.pem", &pki.chain_with_root_pem());
    let args = |extra: &[&str]| {
        let mut v = vec![
            "--json",
            "import",
            "cert",
            "--cert",
            cert.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
        ];
        v.extend_from_slice(extra);
        v.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let a: Vec<String> = args(&["--chain", chain.to_str().unwrap()]);
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let first = json(&peter(&data, &a));
    assert_eq!(first["certificate_signed"]["created"], true);
    let id = first["certificate_signed"]["id"].as_i64().unwrap();
    let again = json(&peter(&data, &a));
    assert_eq!(again["certificate_signed"]["created"], false);
    assert_eq!(again["certificate_signed"]["id"].as_i64().unwrap(), id);

    let list = json(&peter(&data, &["--json", "cert", "list"]));
    assert_eq!(list["pagination"]["total_items"], 1);
    assert_eq!(list["CertificateSigneds"][0]["id"].as_i64().unwrap(), id);
    let marked = json(&peter(
        &data,
        &["--json", "cert", "mark", &id.to_string(), "inactive"],
    ));
    assert_eq!(marked["CertificateSigned"]["is_active"], false);
    let inactive = json(&peter(&data, &["--json", "cert", "list", "--inactive"]));
    assert_eq!(inactive["pagination"]["total_items"], 1);
    let domains = json(&peter(&data, &["--json", "domain", "list"]));
    assert_eq!(domains["pagination"]["total_items"], 2);

    // Illegal transition: exit 4, one line.
    let out = peter(&data, &["cert", "mark", &id.to_string(), "inactive"]);
    assert_one_line_error(&out, 4);
    peter(&data, &["cert", "mark", &id.to_string(), "revoked"]);
    let out = peter(&data, &["cert", "mark", &id.to_string(), "active"]);
    assert_one_line_error(&out, 4);
}

#[test]
fn bad_input_is_one_line_and_a_non_zero_exit() {
    let dir = Dir::new("bad");
    let data = dir.data();
    json(&peter(&data, &["--json", "init"]));
    let pki = TestPki::new("clibad");
    let leaf = pki.issue(&["a.example.com"], KeyTechnology::EcP256);
    let other = pki.issue(&["b.example.com"], KeyTechnology::EcP256);
    let cert = dir.write("cert.pem", leaf.certificate.pem());
    let wrong_key = dir.write("wrong.pem", other.key.pem());
    let not_pem = dir.write("junk.pem", "hello\n");
    let c = cert.to_str().unwrap();
    assert_one_line_error(
        &peter(
            &data,
            &[
                "import",
                "cert",
                "--cert",
                c,
                "--key",
                wrong_key.to_str().unwrap(),
            ],
        ),
        2,
    );
    assert_one_line_error(
        &peter(
            &data,
            &[
                "import",
                "cert",
                "--cert",
                not_pem.to_str().unwrap(),
                "--key",
                wrong_key.to_str().unwrap(),
            ],
        ),
        2,
    );
    assert_one_line_error(
        &peter(
            &data,
            &["import", "cert", "--cert", "/nonexistent.pem", "--key", c],
        ),
        2,
    );
    assert_one_line_error(&peter(&data, &["cert", "show", "999"]), 3);
    // DER where PEM is expected: said so, with the conversion.
    let der = dir.0.join("cert.der");
    std::fs::write(&der, leaf.certificate.der()).unwrap();
    let key_path = dir.write("key.pem", leaf.key.pem());
    let out = peter(
        &data,
        &[
            "import",
            "cert",
            "--cert",
            der.to_str().unwrap(),
            "--key",
            key_path.to_str().unwrap(),
        ],
    );
    assert_one_line_error(&out, 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("is DER (binary), not PEM"));
    // An empty chain file is an error, not "no chain".
    let empty = dir.write("empty.pem", "");
    let out = peter(
        &data,
        &[
            "import",
            "cert",
            "--cert",
            c,
            "--key",
            key_path.to_str().unwrap(),
            "--chain",
            empty.to_str().unwrap(),
        ],
    );
    assert_one_line_error(&out, 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("chain is empty"));
    // Day counts that would overflow a date are refused, the parameter named.
    for args in [
        &["renew", "--dry-run", "--days", "3000000"][..],
        &["cert", "list", "--expiring", "3000000"][..],
        &["cert", "list", "--expiring=-1"][..],
    ] {
        let out = peter(&data, args);
        assert_one_line_error(&out, 2);
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("invalid days"),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_one_line_error(&peter(&data, &["renew", "--lease-seconds", "0"]), 2);
    assert_one_line_error(&peter(&data, &["domain", "add", "bad_name.example.com"]), 2);
    // There is no mark that undoes a revocation: the marks are listed.
    let unrevoke = peter(&data, &["cert", "mark", "1", "unrevoke"]);
    assert_one_line_error(&unrevoke, 2);
    assert!(String::from_utf8_lossy(&unrevoke.stderr).contains("active, inactive, revoked"));
    let nodir = dir.0.join("missing");
    assert_one_line_error(&peter(&nodir, &["cert", "list"]), 2);
    let out = Command::new(env!("CARGO_BIN_EXE_peter"))
        .args([
            "--database-url",
            "postgres://nobody@127.0.0.1:1/none",
            "cert",
            "list",
        ])
        .output()
        .unwrap();
    assert_one_line_error(&out, 5);
    let list = json(&peter(&data, &["--json", "cert", "list"]));
    assert_eq!(
        list["pagination"]["total_items"], 0,
        "nothing was half-written"
    );

    // PETER_LOG is honoured below info, and the default stays quiet.
    let logged = |filter: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_peter"))
            .arg("--data-dir")
            .arg(&data)
            .args(["cert", "list"])
            .env_remove("PETER_DATABASE_URL")
            .env("PETER_LOG", filter)
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    assert!(logged("debug").contains("DEBUG"), "debug events are shown");
    assert!(logged("trace").contains("TRACE"), "trace events are shown");
    assert!(!logged("warn").contains("DEBUG"));
}

#[test]
fn redis_prime_writes_the_configured_style_with_its_ttl() {
    let dir = Dir::new("redis");
    let data = dir.data();
    json(&peter(&data, &["--json", "init"]));
    let pki = TestPki::new("cliredis");
    let leaf = pki.issue(
        &["r.example.com", "www.r.example.com"],
        KeyTechnology::EcP256,
    );
    let cert = dir.write("cert.pem", leaf.certificate.pem());
    let key = dir.write("key.pem", leaf.key.pem());
    json(&peter(
        &data,
        &[
            "--json",
            "import",
            "cert",
            "--cert",
            cert.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
        ],
    ));
    let url =
        std::env::var("PETER_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let prefix = format!("peter-cli-test-{}:", std::process::id());
    let out = Command::new(env!("CARGO_BIN_EXE_peter"))
        .arg("--data-dir")
        .arg(&data)
        .args([
            "--json", "redis", "prime", "--style", "2", "--prefix", &prefix,
        ])
        .env("PETER_REDIS_URL", &url)
        .env("PETER_REDIS_TTL_SECONDS", "300")
        .output()
        .unwrap();
    let report = json(&out);
    assert_eq!(report["total_primed"]["domain"], 2);
    let redis = |args: &[&str]| {
        let out = Command::new("redis-cli")
            .args(["-u", &url])
            .args(args)
            .output()
            .expect("redis-cli");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let key_name = format!("{prefix}d2:r.example.com");
    assert_eq!(redis(&["HGET", &key_name, "p"]), leaf.key.pem().trim());
    let ttl: i64 = redis(&["TTL", &key_name]).parse().unwrap();
    assert!((290..=300).contains(&ttl), "TTL {ttl}");
    redis(&["DEL", &key_name, &format!("{prefix}d2:www.r.example.com")]);
    // No Redis configured: a clear error.
    let out = peter(&data, &["redis", "prime"]);
    assert_one_line_error(&out, 2);
    // Redis down: exit 5.
    let out = Command::new(env!("CARGO_BIN_EXE_peter"))
        .arg("--data-dir")
        .arg(&data)
        .args(["redis", "prime"])
        .env("PETER_REDIS_URL", "redis://127.0.0.1:1")
        .output()
        .unwrap();
    assert_one_line_error(&out, 5);
}

#[test]
fn export_certbot_writes_the_layout_switches_symlinks_and_runs_the_hook_once() {
    use time::{Duration, OffsetDateTime};
    let dir = Dir::new("export");
    let data = dir.data();
    json(&peter(&data, &["--json", "init"]));
    let pki = TestPki::new("export");
    let chain = dir.write("chain.pem", &pki.chain_pem());
    let now = OffsetDateTime::now_utc();
    let import = |label: &str, names: &[&str], days: i64| {
        let leaf = pki.issue_window(
            names,
            KeyTechnology::EcP256,
            now - Duration::days(1),
            now + Duration::days(days),
        );
        let cert = dir.write(&format!("{label}.crt"), leaf.certificate.pem());
        let key = dir.write(&format!("{label}.key"), leaf.key.pem());
        json(&peter(
            &data,
            &[
                "--json",
                "import",
                "cert",
                "--cert",
                cert.to_str().unwrap(),
                "--key",
                key.to_str().unwrap(),
                "--chain",
                chain.to_str().unwrap(),
            ],
        ));
        leaf
    };
    let a = import("a", &["a.example.com", "www.a.example.com"], 60);
    import("a-single", &["a.example.com"], 60);
    import("b", &["b.example.com"], 60);
    let out_dir = dir.0.join("letsencrypt");
    let hook_out = dir.0.join("hook.out");
    let hook = format!("echo \"$PETER_CHANGED_LINEAGES\" >> {}", hook_out.display());
    let first = json(&peter(
        &data,
        &[
            "--json",
            "export",
            "certbot",
            out_dir.to_str().unwrap(),
            "--deploy-hook",
            &hook,
        ],
    ));
    let mut changed: Vec<String> = first["changed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    changed.sort();
    assert_eq!(
        changed,
        vec!["a.example.com", "a.example.com-0001", "b.example.com"]
    );
    assert_eq!(first["deploy_hook_ran"], true);
    assert_eq!(
        std::fs::read_to_string(&hook_out).unwrap().lines().count(),
        1,
        "the hook ran once"
    );

    let live = out_dir.join("live/a.example.com");
    let archive = out_dir.join("archive/a.example.com");
    for stem in ["cert", "chain", "fullchain", "privkey"] {
        let link = live.join(format!("{stem}.pem"));
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(
            std::fs::read_link(&link).unwrap(),
            std::path::Path::new(&format!("../../archive/a.example.com/{stem}1.pem"))
        );
    }
    assert_eq!(mode(&archive.join("privkey1.pem")), 0o600);
    assert_eq!(mode(&archive), 0o700);
    assert_eq!(mode(&live), 0o700);
    assert_eq!(
        std::fs::read_to_string(live.join("privkey.pem")).unwrap(),
        a.key.pem()
    );
    assert_eq!(
        std::fs::read_to_string(live.join("fullchain.pem")).unwrap(),
        format!("{}{}", a.certificate.pem(), pki.chain_pem())
    );

    // Nothing new: nothing written, the hook does not run.
    std::fs::remove_file(&hook_out).unwrap();
    let second = json(&peter(
        &data,
        &[
            "--json",
            "export",
            "certbot",
            out_dir.to_str().unwrap(),
            "--deploy-hook",
            &hook,
        ],
    ));
    assert_eq!(second["changed"].as_array().unwrap().len(), 0);
    assert_eq!(second["deploy_hook_ran"], false);
    assert!(!hook_out.exists());

    // A newer certificate for the same names becomes version 2 under the same name.
    let renewed = import("a2", &["a.example.com", "www.a.example.com"], 90);
    let third = json(&peter(
        &data,
        &[
            "--json",
            "export",
            "certbot",
            out_dir.to_str().unwrap(),
            "--deploy-hook",
            &hook,
        ],
    ));
    assert_eq!(third["changed"], serde_json::json!(["a.example.com"]));
    assert_eq!(
        std::fs::read_link(live.join("cert.pem")).unwrap(),
        std::path::Path::new("../../archive/a.example.com/cert2.pem")
    );
    assert_eq!(
        std::fs::read_to_string(live.join("cert.pem")).unwrap(),
        renewed.certificate.pem()
    );
    assert!(
        archive.join("cert1.pem").exists(),
        "old versions stay in the archive"
    );
    assert_eq!(
        std::fs::read_to_string(&hook_out).unwrap().trim(),
        "a.example.com"
    );
}

#[test]
fn completions_are_printed_and_a_closed_pipe_is_not_a_panic() {
    for shell in ["bash", "zsh", "fish"] {
        let out = Command::new(env!("CARGO_BIN_EXE_peter"))
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success());
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("peter") && text.contains("acme-server"),
            "{shell}"
        );
    }
    // The reader goes away after the first line.
    let out = Command::new("sh")
        .args([
            "-c",
            &format!("{} completions bash | head -1", env!("CARGO_BIN_EXE_peter")),
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
}

#[test]
fn import_certbot_reads_every_archived_version_once() {
    let dir = Dir::new("certbot-import");
    let source = dir.0.join("source-data");
    json(&peter(&source, &["--json", "init"]));
    let pki = TestPki::new("cbimport");
    let chain = dir.write("chain.pem", &pki.chain_pem());
    for (label, names) in [
        ("x", vec!["x.example.com", "www.x.example.com"]),
        ("y", vec!["y.example.com"]),
    ] {
        let leaf = pki.issue(&names, KeyTechnology::EcP256);
        let cert = dir.write(&format!("{label}.crt"), leaf.certificate.pem());
        let key = dir.write(&format!("{label}.key"), leaf.key.pem());
        json(&peter(
            &source,
            &[
                "--json",
                "import",
                "cert",
                "--cert",
                cert.to_str().unwrap(),
                "--key",
                key.to_str().unwrap(),
                "--chain",
                chain.to_str().unwrap(),
            ],
        ));
    }
    let tree = dir.0.join("letsencrypt");
    json(&peter(
        &source,
        &["--json", "export", "certbot", tree.to_str().unwrap()],
    ));
    // certbot's usual RSA account sits beside them. Its key reads; with no
    // ACME server recorded here to look it up at, it is skipped, saying so.
    let account = tree.join("accounts/acme-v02.api.letsencrypt.org/directory/abc123");
    std::fs::create_dir_all(&account).unwrap();
    let rsa =
        peter_core::formats::ParsedPrivateKey::generate(peter_core::model::KeyTechnology::Rsa2048)
            .unwrap();
    std::fs::write(
        account.join("private_key.json"),
        peter_core::testkit::private_jwk(&rsa).to_string(),
    )
    .unwrap();
    std::fs::write(
        account.join("regr.json"),
        r#"{"uri":"https://acme.example/acct/1"}"#,
    )
    .unwrap();
    std::fs::write(account.join("meta.json"), "{}").unwrap();

    let target = dir.data();
    json(&peter(&target, &["--json", "init"]));
    let first = json(&peter(
        &target,
        &["--json", "import", "certbot", tree.to_str().unwrap()],
    ));
    assert_eq!(
        first["import"]["certificates_created"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let skipped = first["import"]["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 1);
    assert!(
        skipped[0].as_str().unwrap().contains("no ACME server"),
        "{skipped:?}"
    );
    let second = json(&peter(
        &target,
        &["--json", "import", "certbot", tree.to_str().unwrap()],
    ));
    assert_eq!(
        second["import"]["certificates_created"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        second["import"]["certificates_known"]
            .as_array()
            .unwrap()
            .len(),
        2,
        "importing twice changes nothing"
    );
    assert_eq!(
        json(&peter(&target, &["--json", "cert", "list"]))["pagination"]["total_items"],
        2
    );
    let not_certbot = dir.0.join("empty");
    std::fs::create_dir_all(&not_certbot).unwrap();
    assert_one_line_error(
        &peter(
            &target,
            &["import", "certbot", not_certbot.to_str().unwrap()],
        ),
        2,
    );
}
