//! Redis priming against the real Redis on 127.0.0.1:6379 (a key prefix per
//! run keeps runs apart); TTLs are checked with `TTL`. Redis must be
//! running: a test that cannot reach it fails.

mod common;

use common::{Backend, TestStore};
use peter_core::model::KeyTechnology;
use peter_core::model::rules::CertificateMark;
use peter_core::ports::{CachePublisher, CertificateStore, DomainStore};
use peter_core::services::import::import_certificate;
use peter_core::testkit::TestPki;
use peter_store::redis_prime::{PrimeReport, PrimeStyle, RedisPrimer};

fn redis_url() -> String {
    std::env::var("PETER_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

async fn raw() -> redis::aio::MultiplexedConnection {
    redis::Client::open(redis_url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap_or_else(|e| panic!("Redis must be running at {}: {e}", redis_url()))
}

async fn cmd<T: redis::FromRedisValue>(
    conn: &mut redis::aio::MultiplexedConnection,
    args: &[&str],
) -> T {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    c.query_async(conn).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_styles_are_written_with_their_ttl_and_follow_the_store() {
    let t = TestStore::new(Backend::Sqlite).await;
    let pki = TestPki::new("redis");
    let chain = pki.chain_pem();
    let multi = pki.issue(
        &["a.redis.example", "b.redis.example"],
        KeyTechnology::EcP256,
    );
    let single = pki.issue(&["c.redis.example"], KeyTechnology::EcP256);
    let m = import_certificate(
        t.store.as_ref(),
        t.clock.as_ref(),
        multi.upload(Some(&chain)),
    )
    .await
    .unwrap();
    let s = import_certificate(t.store.as_ref(), t.clock.as_ref(), single.upload(None))
        .await
        .unwrap();
    // An inactive domain is left out.
    t.store
        .get_or_create_domain(&"d.redis.example".parse().unwrap())
        .await
        .unwrap();
    let prefix = format!(
        "peter-test-{}-{}:",
        std::process::id(),
        time::OffsetDateTime::now_utc().unix_timestamp_nanos()
    );
    let primer = RedisPrimer::connect(&redis_url(), &prefix, Some(600))
        .await
        .unwrap();
    let mut conn = raw().await;

    let report = primer
        .publish_all(t.store.as_ref(), PrimeStyle::One)
        .await
        .unwrap();
    assert_eq!(
        report,
        PrimeReport {
            domain: 3,
            cert: 3,
            pkey: 3,
            certcachain: 2
        }
    );
    let ids: Vec<String> = cmd(
        &mut conn,
        &[
            "HMGET",
            &format!("{prefix}d1:a.redis.example"),
            "c",
            "p",
            "i",
        ],
    )
    .await;
    assert_eq!(ids[0], m.certificate_signed.id.to_string());
    assert_eq!(ids[1], m.private_key.id.to_string());
    assert_eq!(ids[2], m.certificate_ca_chain.unwrap().id.to_string());
    let cert: String = cmd(&mut conn, &["GET", &format!("{prefix}c:{}", ids[0])]).await;
    assert_eq!(cert, multi.certificate.pem());
    let key: String = cmd(&mut conn, &["GET", &format!("{prefix}p:{}", ids[1])]).await;
    assert_eq!(key, multi.key.pem());
    let chain_pem: String = cmd(&mut conn, &["GET", &format!("{prefix}i:{}", ids[2])]).await;
    assert_eq!(chain_pem, pki.chain_pem());
    for key in [
        format!("{prefix}d1:a.redis.example"),
        format!("{prefix}c:{}", ids[0]),
        format!("{prefix}p:{}", ids[1]),
    ] {
        let ttl: i64 = cmd(&mut conn, &["TTL", &key]).await;
        assert!((590..=600).contains(&ttl), "{key} has TTL {ttl}");
    }

    let report = primer
        .publish_all(t.store.as_ref(), PrimeStyle::Two)
        .await
        .unwrap();
    assert_eq!(report.domain, 3);
    let (fullchain, key) = primer
        .read_style_two("c.redis.example")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        fullchain,
        single.certificate.pem(),
        "no chain, no chain in the fullchain"
    );
    assert_eq!(key, single.key.pem());
    let (fullchain, _) = primer
        .read_style_two("b.redis.example")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        fullchain,
        format!("{}{}", multi.certificate.pem(), pki.chain_pem())
    );
    let ttl: i64 = cmd(&mut conn, &["TTL", &format!("{prefix}d2:b.redis.example")]).await;
    assert!((590..=600).contains(&ttl));

    // One domain at a time; a domain whose certificate went inactive is not primed.
    t.store
        .mark_certificate_signed(s.certificate_signed.id, CertificateMark::Inactive)
        .await
        .unwrap();
    let primed = |name: &'static str| {
        let primer = primer.clone();
        let store = t.store.clone();
        async move {
            primer
                .publish_domains(store.as_ref(), &[name.parse().unwrap()], PrimeStyle::Two)
                .await
                .unwrap()
                .domain
        }
    };
    assert_eq!(primed("c.redis.example").await, 0);
    assert!(
        primer
            .read_style_two("c.redis.example")
            .await
            .unwrap()
            .is_none(),
        "a domain with nothing to serve is removed"
    );
    assert_eq!(primed("a.redis.example").await, 1);

    let keys: Vec<String> = cmd(&mut conn, &["KEYS", &format!("{prefix}*")]).await;
    if !keys.is_empty() {
        let mut del = redis::cmd("DEL");
        for k in &keys {
            del.arg(k);
        }
        let _: i64 = del.query_async(&mut conn).await.unwrap();
    }
    t.cleanup().await;
}

#[tokio::test]
async fn an_unreachable_redis_is_a_clear_error() {
    let err = RedisPrimer::connect("redis://127.0.0.1:1", "x:", None)
        .await
        .unwrap_err();
    assert!(err.to_string().starts_with("redis:"), "{err}");
}
