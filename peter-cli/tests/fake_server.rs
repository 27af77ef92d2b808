//! `peter fake-server`: canned but valid answers at the real paths, and
//! every admin route it answers exists in the real OpenAPI document.

mod support;

use std::process::{Command, Stdio};
use std::time::Duration;

use peter_http::ADMIN_PREFIX;
use peter_http::fake::FAKE_ADMIN_ROUTES;
use support::*;

struct Kill(std::process::Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fake_server_answers_valid_data_at_real_paths() {
    // the real document
    let real = AdminWorld::start("fake-ref", 0, AdminWorld::default_access(), true).await;
    let documented = real.documented_operations().await;
    for (method, path) in FAKE_ADMIN_ROUTES {
        let full = format!("{ADMIN_PREFIX}{path}");
        assert!(
            documented.contains(&(method.to_string(), full.clone())),
            "fake route {method} {full} is not in the real OpenAPI document"
        );
    }

    let port = peter_acme::testkit::free_port();
    let _fake = Kill(
        Command::new(env!("CARGO_BIN_EXE_peter"))
            .args(["fake-server", "--listen", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let mut up = false;
    for _ in 0..200 {
        if http
            .get(format!("{base}/.well-known/public/whoami"))
            .send()
            .await
            .is_ok()
        {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(up, "fake server did not start");

    // every fake admin route answers, with the fakeserver header
    for (method, path) in FAKE_ADMIN_ROUTES {
        let concrete = path
            .replace("{identifier}", "shop.example.com")
            .replace("{id}", "1")
            .replace("{file}", "cert.pem");
        let url = format!("{base}{ADMIN_PREFIX}{concrete}");
        let r = if *method == "get" {
            http.get(&url).send().await.unwrap()
        } else {
            http.post(&url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body("domain_names=shop.example.com&domain_name=shop.example.com")
                .send()
                .await
                .unwrap()
        };
        assert_eq!(r.status().as_u16(), 200, "{method} {concrete}");
        assert_eq!(
            r.headers()["x-peter-sslers"],
            "fakeserver",
            "{method} {concrete}"
        );
    }

    // config.json has the real shape and a real certificate for the name
    let cfg: serde_json::Value = http
        .get(format!(
            "{base}{ADMIN_PREFIX}/domain/shop.example.com/config.json"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(cfg["domain"]["domain_name"], "shop.example.com");
    assert!(cfg["certificate_signed__latest_multi"].is_null());
    let single = &cfg["certificate_signed__latest_single"];
    let pem = single["certificate"]["pem"].as_str().unwrap();
    let key = single["private_key"]["pem"].as_str().unwrap();
    let cert = peter_core::formats::ParsedCertificate::from_pem(pem).expect("a real certificate");
    assert!(cert.is_self_signed);
    assert_eq!(
        cert.unique_fqdn_set().unwrap().canonical_string(),
        "shop.example.com"
    );
    let key = peter_core::formats::ParsedPrivateKey::from_pem(key).expect("a real key");
    assert!(
        key.matches_certificate(&cert),
        "the key belongs to the certificate"
    );

    let r = http
        .get(format!("{base}/.well-known/public/whoami"))
        .header("host", "gw.example.net")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-peter-sslers"], "fakeserver");
    assert_eq!(r.text().await.unwrap(), "gw.example.net");
    let r = http
        .get(format!("{base}{ADMIN_PREFIX}/no-such-route"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    assert_eq!(r.headers()["x-peter-sslers"], "fakeserver", "even on a 404");
}
