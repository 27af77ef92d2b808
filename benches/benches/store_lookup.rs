//! Criterion: "latest active certificate for domain X" on a SQLite store
//! seeded with 2,000 certificates (the 100,000-row numbers come from the
//! `store_seed` binary, which takes minutes to seed).

use peter_core::ports::CertificateStore;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use peter_core::dns::DomainName;
use peter_core::model::KeyTechnology;
use peter_core::ports::SystemClock;
use peter_core::services::import::prepare_certificate_import;
use peter_core::testkit::TestPki;
use peter_store::SqlStore;

const SEEDED: usize = 2_000;

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = std::env::temp_dir().join(format!("peter-crit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = peter_store::sqlite_url_for_path(&dir.join("b.sqlite"));
    let store = rt.block_on(async {
        let store = Arc::new(
            SqlStore::connect(&url, Arc::new(SystemClock))
                .await
                .unwrap(),
        );
        let pki = TestPki::new("crit");
        let chain = pki.chain_pem();
        for i in 0..SEEDED {
            let leaf = pki.issue(&[&format!("c{i}.bench.example")], KeyTechnology::EcP256);
            let p = prepare_certificate_import(leaf.upload(Some(&chain)), &SystemClock).unwrap();
            store.import_certificate(&p).await.unwrap();
        }
        store
    });
    let mut i = 0usize;
    c.bench_function(
        "latest_active_certificate_for_domain (sqlite, 2k rows)",
        |b| {
            b.iter(|| {
                i = (i + 7919) % SEEDED;
                let name = DomainName::parse(&format!("c{i}.bench.example")).unwrap();
                rt.block_on(store.latest_active_certificate_for_domain(&name))
                    .unwrap()
            })
        },
    );
    std::fs::remove_dir_all(dir).ok();
}

criterion_group!(benches, bench);
criterion_main!(benches);
