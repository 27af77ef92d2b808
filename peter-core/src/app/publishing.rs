//! Publishing on demand: Redis priming, nginx/OpenResty cache expiry,
//! exports to disk, metrics; and the answers to HTTP-01 challenges that the
//! public route serves.

use serde::Serialize;

use super::Peter;
use crate::dns::DomainName;
use crate::error::Error;
use crate::model::*;
use crate::ports::*;
use crate::services;

/// Publishing operations.
pub struct Publishing<'a> {
    pub(crate) peter: &'a Peter,
}

/// A domain as a web server is configured for it: the set of names of the
/// certificate it is served with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServedDomain {
    /// The domain.
    pub domain_name: String,
    /// The certificate.
    pub certificate_signed_id: CertificateSignedId,
    /// Its set of names.
    pub unique_fqdn_set_id: UniqueFqdnSetId,
}

impl Publishing<'_> {
    /// Writes every active domain (or only `domain`) to Redis, in `style`
    /// (default: the configured one).
    pub async fn redis_prime(
        &self,
        style: Option<PrimeStyle>,
        domain: Option<&str>,
    ) -> Result<(PrimeStyle, PrimeReport), Error> {
        let redis = self
            .peter
            .inner
            .redis
            .as_ref()
            .ok_or(Error::Unconfigured("redis (redis.url / PETER_REDIS_URL)"))?;
        let style = style.unwrap_or(redis.style);
        let report = match domain {
            Some(name) => {
                let name = DomainName::parse(name)?;
                redis
                    .publisher
                    .publish_domains(self.peter.store(), &[name], style)
                    .await
            }
            None => redis.publisher.publish_all(self.peter.store(), style).await,
        }?;
        Ok((style, report))
    }

    fn nginx(&self) -> Result<&dyn CacheExpirer, Error> {
        self.peter.inner.nginx.as_deref().ok_or(Error::Unconfigured(
            "nginx servers (nginx.servers / PETER_NGINX_SERVERS)",
        ))
    }

    /// Expires the certificate cache of every configured nginx/OpenResty
    /// server: all of it, or the named domains' entries.
    pub async fn nginx_expire(&self, domains: Option<&[String]>) -> Result<ServersStatus, Error> {
        let nginx = self.nginx()?;
        Ok(match domains {
            Some(names) => {
                let names = names
                    .iter()
                    .map(|n| DomainName::parse(n).map_err(Error::from))
                    .collect::<Result<Vec<_>, _>>()?;
                nginx.expire(Some(&names)).await
            }
            None => nginx.expire(None).await,
        })
    }

    /// Expires the cache entries of a domain (by id or name).
    pub async fn nginx_expire_domain(&self, identifier: &str) -> Result<ServersStatus, Error> {
        let domain = self.peter.domains().get(identifier).await?;
        self.nginx_expire(Some(&[domain.domain_name])).await
    }

    /// Expires the cache entries of a certificate's names.
    pub async fn nginx_expire_certificate(
        &self,
        id: CertificateSignedId,
    ) -> Result<ServersStatus, Error> {
        let names = self.peter.certificates().names(id).await?;
        self.nginx_expire(Some(&names)).await
    }

    /// Each configured server's cache status.
    pub async fn nginx_status(&self) -> Result<ServersStatus, Error> {
        Ok(self.nginx()?.status().await)
    }

    /// Writes the newest active certificate of every set of names to
    /// `target` (certbot's layout on disk, say).
    pub async fn export(&self, target: &dyn ExportTarget) -> Result<ExportReport, Error> {
        let store = self.peter.store();
        let mut items = Vec::new();
        for cert in services::renewals::newest_active_certificates(store).await? {
            let set = store.unique_fqdn_set(cert.unique_fqdn_set_id).await?;
            let key = store.private_key(cert.private_key_id).await?;
            let chain_pem = services::downloads::preferred_chain(store, cert.id)
                .await?
                .map(|c| c.chain_pem)
                .unwrap_or_default();
            items.push(ExportItem {
                unique_fqdn_set_id: cert.unique_fqdn_set_id,
                names: set.set.names().map(|n| n.to_string()).collect(),
                certificate_signed_id: cert.id,
                cert_pem: cert.cert_pem,
                chain_pem,
                key_pem: key.key_pem,
            });
        }
        Ok(target.export(&items).await?)
    }

    /// Every active domain with the certificate it is served with.
    pub async fn served_domains(&self) -> Result<Vec<ServedDomain>, Error> {
        let store = self.peter.store();
        let mut out = Vec::new();
        let mut after = DomainId(0);
        loop {
            let page = store.domain_publications(after, 500, None).await?;
            let Some(last) = page.last() else { break };
            after = last.domain_id;
            for publication in &page {
                let cert = store
                    .certificate_signed(publication.certificate_signed_id)
                    .await?;
                out.push(ServedDomain {
                    domain_name: publication.domain_name.clone(),
                    certificate_signed_id: cert.id,
                    unique_fqdn_set_id: cert.unique_fqdn_set_id,
                });
            }
            if page.len() < 500 {
                break;
            }
        }
        Ok(out)
    }

    /// Monitoring in the Prometheus text format: a bounded set of series
    /// whatever the store's size, plus one expiry series per active
    /// certificate when `per_certificate` is set.
    pub async fn metrics(&self, per_certificate: bool) -> Result<String, Error> {
        let polls = self.peter.inner.polls.counters();
        services::metrics::render_prometheus(
            self.peter.store(),
            polls,
            self.peter.now(),
            per_certificate,
        )
        .await
    }
}

/// The public route's side: answers to HTTP-01 challenges.
pub struct Challenges<'a> {
    pub(crate) peter: &'a Peter,
}

/// A request for a challenge answer, as the public route saw it.
#[derive(Debug, Clone)]
pub struct ChallengeRequest<'r> {
    /// The Host the request was made for (no port, lowercase).
    pub host: &'r str,
    /// The token in the path.
    pub token: &'r str,
    /// Who asked.
    pub remote_ip: Option<String>,
}

/// What the public route answers, and how to record the request.
#[derive(Debug, Clone)]
pub struct ChallengeAnswer {
    /// The key authorization to send, or `None` (404).
    pub key_authorization: Option<String>,
    poll: Poll,
}

#[derive(Debug, Clone)]
enum Poll {
    Known(AcmeChallengeId, Option<String>),
    Unknown(String, String, Option<String>),
}

impl Challenges<'_> {
    /// The answer for `token` on `host` (never for a blocklisted host).
    /// Count the request with [`Challenges::tally`] (memory only: a busy
    /// store never delays the CA's validation fetch).
    pub async fn answer(&self, request: ChallengeRequest<'_>) -> Result<ChallengeAnswer, Error> {
        let found = if valid_token(request.token) {
            self.peter
                .serving(async {
                    Ok(self
                        .peter
                        .store()
                        .challenge_answer(request.host, request.token)
                        .await?)
                })
                .await?
        } else {
            None
        };
        Ok(match found {
            Some((id, key_authorization)) => ChallengeAnswer {
                key_authorization: Some(key_authorization),
                poll: Poll::Known(id, request.remote_ip),
            },
            None => ChallengeAnswer {
                key_authorization: None,
                poll: Poll::Unknown(
                    request.host.to_string(),
                    request.token.to_string(),
                    request.remote_ip,
                ),
            },
        })
    }

    /// Counts the request an answer was given for, in memory (see
    /// [`PollSettings`](super::PollSettings) for the bounds). A request for
    /// an unknown token over the rate is `limited` (answer 429). When
    /// `flush_due`, call [`Challenges::flush_polls`] (off the request's
    /// path: it writes to the store).
    pub fn tally(&self, answer: ChallengeAnswer) -> super::Tallied {
        let ledger = &self.peter.inner.polls;
        let now = self.peter.now();
        match answer.poll {
            Poll::Known(id, remote) => ledger.known(id, remote, now),
            Poll::Unknown(host, token, remote) => ledger.unknown(&host, &token, remote, now),
        }
    }

    /// Writes the tallies counted so far to the store (nothing when another
    /// write is running). `claimed`: the caller was told `flush_due` by
    /// [`Challenges::tally`]. Returns how many tallies were written; a
    /// failed write drops them (memory stays bounded) and is reported.
    pub async fn flush_polls(&self, claimed: bool) -> Result<usize, Error> {
        let ledger = &self.peter.inner.polls;
        let Some(tallies) = ledger.take(claimed, self.peter.now()) else {
            return Ok(0);
        };
        if tallies.is_empty() {
            ledger.done(0);
            return Ok(0);
        }
        let result = self.peter.store().record_polls(&tallies).await;
        let written = tallies.len();
        match result {
            Ok(()) => {
                ledger.done(0);
                Ok(written)
            }
            Err(e) => {
                ledger.done(written as u64);
                Err(e.into())
            }
        }
    }

    /// Counters of the poll limits since this process started.
    pub fn poll_counters(&self) -> super::PollCounters {
        self.peter.inner.polls.counters()
    }

    /// How often tallies are due to be written.
    pub fn flush_interval(&self) -> std::time::Duration {
        let every = self.peter.inner.polls.settings().flush_every;
        std::time::Duration::try_from(every).unwrap_or(std::time::Duration::from_secs(5))
    }
}

/// ACME tokens are base64url: anything else is answered 404 without a lookup.
fn valid_token(token: &str) -> bool {
    !token.is_empty()
        && token.len() <= 256
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_are_base64url_only() {
        assert!(super::valid_token("abc-DEF_123"));
        assert!(!super::valid_token("../etc/passwd"));
        assert!(!super::valid_token(""));
        assert!(!super::valid_token(&"a".repeat(300)));
    }
}
