//! Embedding peter's store in a Rust service: open a store, import a
//! certificate with its key and chain, and ask for the certificate to serve
//! for a name.
//!
//! ```text
//! cargo run -p peter-examples --example import_and_query -- [DATABASE_URL] [CERT KEY CHAIN]
//! ```
//! Without files, it makes a throw-away PKI and imports a leaf from it.

use peter_core::app::{CertificateUpload, Peter};
use peter_core::model::KeyTechnology;
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

    let peter = Peter::builder()
        .store(SqlStore::open(&url).await?)
        .build()?;

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

    let outcome = peter
        .certificates()
        .import(CertificateUpload {
            certificate_pem: &cert,
            private_key_pem: &key,
            chain_pem: Some(&chain),
        })
        .await?
        .into_value();
    println!(
        "imported certificate {} (created: {})",
        outcome.certificate_signed.id, outcome.certificate_signed.created
    );

    // What a web server is sent for the name: its config.json.
    let config = peter.domains().config("example.com", false).await?;
    let served = config
        .latest_multi
        .or(config.latest_single)
        .ok_or("no active certificate for example.com")?;
    println!(
        "serve certificate {} for example.com, chain {}",
        served.id,
        served
            .chain
            .as_ref()
            .map(|c| c.id.as_str())
            .unwrap_or("none")
    );
    assert_eq!(served.id, outcome.certificate_signed.id.to_string());
    std::fs::remove_dir_all(&dir).ok();
    Ok(())
}
