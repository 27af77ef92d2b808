//! Issuing a certificate from a Rust service: open a store, register an
//! ACME server, create an account, order a certificate and answer its
//! HTTP-01 challenges from peter's public routes.
//!
//! ```text
//! cargo run -p peter-examples --example issue_certificate -- DIRECTORY_URL CA_BUNDLE.pem HTTP_PORT NAME...
//! cargo run -p peter-examples --example issue_certificate            # starts a local Pebble
//! ```
//! The HTTP port is the one the CA validates on (80 in production).

use std::net::SocketAddr;

use peter_core::app::{AccountRequest, OrderRequest, Peter};
use peter_core::model::{AcmeOrderProcessingStrategy, CertificateFile, NewAcmeServer};
use peter_http::{PublicServer, PublicState};
use peter_store::SqlStore;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // Without arguments, run against a Pebble started here (what CI does).
    let pebble;
    let (directory, ca_bundle, http_port, names) = if args.len() >= 4 {
        (
            args[0].clone(),
            std::fs::read_to_string(&args[1])?,
            args[2].parse::<u16>()?,
            args[3..].to_vec(),
        )
    } else {
        pebble = peter_acme::testkit::Pebble::start(Default::default()).await;
        (
            pebble.directory_url.clone(),
            pebble.tls_ca_pem.clone(),
            pebble.http_port,
            vec!["example.com".to_string(), "www.example.com".to_string()],
        )
    };

    let dir = std::env::temp_dir().join(format!("peter-issue-example-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let url = peter_store::sqlite_url_for_path(&dir.join("store.sqlite"));
    let peter = Peter::builder()
        .store(SqlStore::open(&url).await?)
        .acme(peter_acme::InstantAcme)
        .build()?;

    // Any node sharing the store can answer challenges; here it is this process.
    let server = PublicServer::start(
        SocketAddr::from(([127, 0, 0, 1], http_port)),
        PublicState::new(peter.clone(), "example"),
    )
    .await?;

    peter
        .acme_servers()
        .add(NewAcmeServer {
            name: "ca".into(),
            directory_url: directory,
            ca_bundle_pem: Some(ca_bundle),
            is_default: true,
            ip_identifiers: false,
        })
        .await?;
    let account = peter
        .accounts()
        .create(AccountRequest {
            contact: Some("ops@example.com".into()),
            ..Default::default()
        })
        .await?;

    let order = peter
        .orders()
        .create(OrderRequest::new(
            account.id,
            names,
            AcmeOrderProcessingStrategy::ProcessSingle,
        ))
        .await?
        .into_value();
    let cert_id = order
        .certificate_signed_id
        .ok_or("the order has no certificate")?;
    let fullchain = peter
        .certificates()
        .download(cert_id, CertificateFile::FullchainPem, None)
        .await?;
    println!(
        "order {} is {}; certificate {cert_id}:",
        order.id, order.status
    );
    print!("{}", String::from_utf8_lossy(&fullchain.body));

    server.stop().await?;
    std::fs::remove_dir_all(&dir).ok();
    Ok(())
}
