//! Embedding peter's store in a Rust service: open a store, import a
//! certificate with its key and chain, and ask for the certificate to serve
//! for a name.
//!
//! ```text
//! cargo run -p peter-examples --example import_and_query -- [DATABASE_URL] [CERT KEY CHAIN]
//! ```
//! Without files, it makes a throw-away PKI and imports a leaf from it.

use peter_core::ports::CertificateStore;
use std::sync::Arc;

use peter_core::dns::DomainName;
use peter_core::model::KeyTechnology;
use peter_core::ports::{Clock, SystemClock};
use peter_core::services::import::{CertificateUpload, import_certificate};
use peter_store::SqlStore;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = std::env::temp_dir().join(format!("peter-example-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let url = args
        .first()
        .cloned()
        .unwrap_or_else(|| peter_store::sqlite_url_for_path(&dir.join("example.sqlite")));

    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let store = SqlStore::connect(&url, clock.clone()).await?;

    let (cert, key, chain) = if args.len() >= 4 {
        (
            std::fs::read_to_string(&args[1])?,
            std::fs::read_to_string(&args[2])?,
            std::fs::read_to_string(&args[3])?,
        )
    } else {
        let pki = peter_core::testkit::TestPki::new("example");
        let leaf = pki.issue(&["www.example.com", "example.com"], KeyTechnology::EcP256);
        (
            leaf.certificate.pem().to_string(),
            leaf.key.pem().to_string(),
            pki.chain_pem(),
        )
    };

    let outcome = import_certificate(
        &store,
        clock.as_ref(),
        CertificateUpload {
            certificate_pem: &cert,
            private_key_pem: &key,
            chain_pem: Some(&chain),
        },
    )
    .await?;
    println!(
        "imported certificate {} (created: {})",
        outcome.certificate_signed.id, outcome.certificate_signed.created
    );

    let name: DomainName = "example.com".parse()?;
    let latest = store
        .latest_active_certificate_for_domain(&name)
        .await?
        .ok_or("no active certificate for example.com")?;
    let chains = store.certificate_chains(latest.id).await?;
    println!(
        "serve certificate {} for {name}, valid until {}, chain {}",
        latest.id,
        latest.not_after,
        chains
            .first()
            .map(|c| c.chain.id.to_string())
            .unwrap_or_else(|| "none".into())
    );
    assert_eq!(latest.id, outcome.certificate_signed.id);
    std::fs::remove_dir_all(&dir).ok();
    Ok(())
}
