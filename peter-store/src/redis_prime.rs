//! Redis priming for OpenResty gateways (the lua-resty-peter_sslers module):
//! every active domain's certificate, key and chain written where the
//! gateway looks for them, in either of the original's two layouts, with a
//! TTL that is really applied.
//!
//! - Style 1: hash `d1:{domain}` with fields `c` (certificate id), `p` (key
//!   id), `i` (chain id), and the PEMs at `c:{id}`, `p:{id}`, `i:{id}`.
//! - Style 2: hash `d2:{domain}` with `f` (fullchain PEM) and `p` (key PEM).
//!
//! Writes are pipelined a page of domains at a time.

use peter_core::dns::DomainName;
use peter_core::model::DomainId;
use peter_core::ports::{DomainPublication, Store, StoreError};

pub use peter_core::ports::{PrimeReport, PrimeStyle};

/// Why priming failed.
#[derive(Debug, thiserror::Error)]
pub enum PrimeError {
    /// Redis refused a command or the connection failed.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// Redis did not answer in time.
    #[error("redis did not answer within 5 s")]
    Timeout,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl PrimeError {
    fn into_publish(self) -> peter_core::ports::PublishError {
        peter_core::ports::PublishError::caused_by(self.to_string(), self)
    }
}

/// Writes domain publications to Redis.
#[derive(Clone)]
pub struct RedisPrimer {
    client: redis::Client,
    connection: std::sync::Arc<tokio::sync::OnceCell<redis::aio::MultiplexedConnection>>,
    prefix: String,
    ttl_seconds: Option<u64>,
}

impl std::fmt::Debug for RedisPrimer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisPrimer")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

const PAGE: u64 = 1000;

impl RedisPrimer {
    /// Connects to `url` (`redis://host:port/db`). Keys are written under
    /// `prefix` (empty in production; tests use one per run) and expire
    /// after `ttl_seconds` when given.
    pub async fn connect(
        url: &str,
        prefix: &str,
        ttl_seconds: Option<u64>,
    ) -> Result<Self, PrimeError> {
        let primer = Self::lazy(url, prefix, ttl_seconds)?;
        primer.conn().await?;
        Ok(primer)
    }

    /// Like [`RedisPrimer::connect`], but connects at the first write, so
    /// that a command which never primes never waits for Redis.
    pub fn lazy(url: &str, prefix: &str, ttl_seconds: Option<u64>) -> Result<Self, PrimeError> {
        Ok(Self {
            client: redis::Client::open(url)?,
            connection: Default::default(),
            prefix: prefix.to_string(),
            ttl_seconds,
        })
    }

    /// The connection, made at the first use (within 5 s).
    async fn conn(&self) -> Result<redis::aio::MultiplexedConnection, PrimeError> {
        let connection = self
            .connection
            .get_or_try_init(|| async {
                tokio::time::timeout(
                    std::time::Duration::from_secs(5),
                    self.client.get_multiplexed_async_connection(),
                )
                .await
                .map_err(|_| PrimeError::Timeout)?
                .map_err(PrimeError::from)
            })
            .await?;
        Ok(connection.clone())
    }

    fn add(
        &self,
        pipe: &mut redis::Pipeline,
        p: &DomainPublication,
        style: PrimeStyle,
        report: &mut PrimeReport,
    ) {
        let pre = &self.prefix;
        let expire = |pipe: &mut redis::Pipeline, key: &str| {
            if let Some(ttl) = self.ttl_seconds {
                pipe.expire(key, ttl as i64).ignore();
            }
        };
        match style {
            PrimeStyle::One => {
                let d = format!("{pre}d1:{}", p.domain_name);
                let chain_id = p
                    .certificate_ca_chain_id
                    .map(|c| c.to_string())
                    .unwrap_or_default();
                pipe.hset_multiple(
                    &d,
                    &[
                        ("c", p.certificate_signed_id.to_string()),
                        ("p", p.private_key_id.to_string()),
                        ("i", chain_id),
                    ],
                )
                .ignore();
                expire(pipe, &d);
                let c = format!("{pre}c:{}", p.certificate_signed_id);
                pipe.set(&c, &p.cert_pem).ignore();
                expire(pipe, &c);
                let k = format!("{pre}p:{}", p.private_key_id);
                pipe.set(&k, &p.key_pem).ignore();
                expire(pipe, &k);
                report.cert = report.cert.saturating_add(1);
                report.pkey = report.pkey.saturating_add(1);
                if let Some(chain) = p.certificate_ca_chain_id {
                    let i = format!("{pre}i:{chain}");
                    pipe.set(&i, &p.chain_pem).ignore();
                    expire(pipe, &i);
                    report.certcachain = report.certcachain.saturating_add(1);
                }
            }
            PrimeStyle::Two => {
                let d = format!("{pre}d2:{}", p.domain_name);
                let fullchain = format!("{}{}", p.cert_pem, p.chain_pem);
                pipe.hset_multiple(&d, &[("f", fullchain.as_str()), ("p", p.key_pem.as_str())])
                    .ignore();
                expire(pipe, &d);
            }
        }
        report.domain = report.domain.saturating_add(1);
    }

    /// Primes one domain; false when it has nothing to serve (no active
    /// certificate, or the domain is inactive), in which case its domain
    /// entry is removed so that a gateway stops serving what the store no
    /// longer does.
    async fn prime_domain(
        &self,
        store: &dyn Store,
        name: &DomainName,
        style: PrimeStyle,
    ) -> Result<bool, PrimeError> {
        let found = store
            .domain_publications(DomainId(0), 1, Some(name))
            .await?;
        let Some(p) = found.first() else {
            let key = match style {
                PrimeStyle::One => format!("{}d1:{}", self.prefix, name.as_str()),
                PrimeStyle::Two => format!("{}d2:{}", self.prefix, name.as_str()),
            };
            let mut conn = self.conn().await?;
            redis::cmd("DEL")
                .arg(&key)
                .query_async::<()>(&mut conn)
                .await?;
            return Ok(false);
        };
        let mut pipe = redis::pipe();
        self.add(&mut pipe, p, style, &mut PrimeReport::default());
        let mut conn = self.conn().await?;
        pipe.query_async::<()>(&mut conn).await?;
        Ok(true)
    }

    /// Primes every active domain with an active certificate, a pipelined
    /// page at a time.
    async fn prime_all(
        &self,
        store: &dyn Store,
        style: PrimeStyle,
    ) -> Result<PrimeReport, PrimeError> {
        let mut report = PrimeReport::default();
        let mut conn = self.conn().await?;
        let mut page = store.domain_publications(DomainId(0), PAGE, None).await?;
        // Each page is written while the next one is read from the store.
        while let Some(last) = page.last() {
            let after = last.domain_id;
            let more = page.len() as u64 >= PAGE;
            let mut pipe = redis::pipe();
            for p in &page {
                self.add(&mut pipe, p, style, &mut report);
            }
            if !more {
                pipe.query_async::<()>(&mut conn).await?;
                break;
            }
            let (written, next) = tokio::join!(
                pipe.query_async::<()>(&mut conn),
                store.domain_publications(after, PAGE, None)
            );
            written?;
            page = next?;
        }
        Ok(report)
    }

    /// Reads back a style-2 entry (fullchain, key): for checks and tests.
    pub async fn read_style_two(&self, name: &str) -> Result<Option<(String, String)>, PrimeError> {
        let mut conn = self.conn().await?;
        let key = format!("{}d2:{name}", self.prefix);
        let values: Vec<Option<String>> = redis::cmd("HMGET")
            .arg(&key)
            .arg("f")
            .arg("p")
            .query_async(&mut conn)
            .await?;
        Ok(match values.as_slice() {
            [Some(f), Some(p)] => Some((f.clone(), p.clone())),
            _ => None,
        })
    }
}

#[async_trait::async_trait]
impl peter_core::ports::CachePublisher for RedisPrimer {
    async fn publish_all(
        &self,
        store: &dyn Store,
        style: PrimeStyle,
    ) -> Result<PrimeReport, peter_core::ports::PublishError> {
        self.prime_all(store, style)
            .await
            .map_err(PrimeError::into_publish)
    }

    async fn publish_domains(
        &self,
        store: &dyn Store,
        names: &[DomainName],
        style: PrimeStyle,
    ) -> Result<PrimeReport, peter_core::ports::PublishError> {
        let mut report = PrimeReport::default();
        for name in names {
            let primed = self
                .prime_domain(store, name, style)
                .await
                .map_err(PrimeError::into_publish)?;
            if primed {
                report.domain = report.domain.saturating_add(1);
                if style == PrimeStyle::One {
                    report.cert = report.cert.saturating_add(1);
                    report.pkey = report.pkey.saturating_add(1);
                    report.certcachain = report.certcachain.saturating_add(1);
                }
            }
        }
        Ok(report)
    }
}
