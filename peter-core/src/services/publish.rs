//! What a web server asks for a domain: the domain's `config.json` (the
//! original's shape, ids as strings) and a certificate's files.
//!
//! Nothing here is cached: every answer is read from the per-domain
//! pointers the store keeps current in the transaction of each change, so a
//! certificate issued, imported or marked by any process shows at the next
//! request.

use serde::Serialize;

use crate::dns::DomainName;
use crate::error::Error;
use crate::model::*;
use crate::ports::{DomainLookup, Store, StoreError};
use crate::services::downloads::{choose_chain, served_chain};

/// An id and, unless ids only were asked for, its PEM.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct PemRef {
    /// The id (a string, so a fullchain's `"34,7"` fits).
    pub id: String,
    /// The PEM text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pem: Option<String>,
}

impl std::fmt::Debug for PemRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PemRef")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// A certificate as a web server installs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertificateConfig {
    /// The certificate's id.
    pub id: String,
    /// Its private key.
    pub private_key: PemRef,
    /// The certificate.
    pub certificate: PemRef,
    /// The chain served with it (the preferred one), when it has one.
    pub chain: Option<PemRef>,
    /// Certificate then chain; the id is `"<cert>,<chain>"`.
    pub fullchain: PemRef,
}

/// The domain part of a `config.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DomainRef {
    /// The id, as a string.
    pub id: String,
    /// The name.
    pub domain_name: String,
    /// Whether peter serves it.
    pub is_active: bool,
}

/// A domain's `config.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DomainConfig {
    /// The domain.
    pub domain: DomainRef,
    /// The newest active certificate naming only this domain.
    #[serde(rename = "certificate_signed__latest_single")]
    pub latest_single: Option<CertificateConfig>,
    /// The newest active certificate naming it among others.
    #[serde(rename = "certificate_signed__latest_multi")]
    pub latest_multi: Option<CertificateConfig>,
}

/// How a request names a domain: all digits is an id, anything else a name
/// (any case, IDNA allowed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainIdentifier {
    /// By id.
    Id(DomainId),
    /// By name.
    Name(DomainName),
}

impl DomainIdentifier {
    /// Reads an identifier from a path segment.
    pub fn parse(identifier: &str) -> Result<Self, Error> {
        if !identifier.is_empty() && identifier.bytes().all(|b| b.is_ascii_digit()) {
            let id: i64 = identifier.parse().map_err(|_| Error::InvalidField {
                field: "domain",
                message: format!("`{identifier}` is not a valid id"),
            })?;
            return Ok(Self::Id(DomainId(id)));
        }
        Ok(Self::Name(DomainName::parse(identifier)?))
    }

    /// The store lookup for it.
    pub fn lookup(&self) -> DomainLookup<'_> {
        match self {
            Self::Id(id) => DomainLookup::Id(*id),
            Self::Name(name) => DomainLookup::Name(name),
        }
    }

    fn not_found(&self) -> Error {
        match self {
            Self::Id(id) => StoreError::not_found("Domain", id).into(),
            Self::Name(name) => StoreError::not_found("Domain", name.as_str()).into(),
        }
    }
}

/// Finds a domain by id (all digits) or by name (any case, IDNA allowed).
pub async fn domain_by_identifier(store: &dyn Store, identifier: &str) -> Result<Domain, Error> {
    let identifier = DomainIdentifier::parse(identifier)?;
    let found = match &identifier {
        DomainIdentifier::Id(id) => return Ok(store.domain(*id).await?),
        DomainIdentifier::Name(name) => store.domain_by_name(name).await?,
    };
    found.ok_or_else(|| identifier.not_found())
}

/// A certificate's configuration, through `chain` (one it was offered with)
/// or its preferred chain. With `id_only`, no PEM is included.
pub async fn certificate_config(
    store: &dyn Store,
    id: CertificateSignedId,
    chain: Option<CertificateCaChainId>,
    id_only: bool,
) -> Result<CertificateConfig, Error> {
    let cert = store.certificate_signed(id).await?;
    let key = store.private_key(cert.private_key_id).await?;
    let chain = served_chain(store, id, chain).await?;
    Ok(render_certificate(
        cert.id,
        &cert.cert_pem,
        key.id,
        &key.key_pem,
        chain.as_ref(),
        id_only,
    ))
}

/// A domain's `config.json`: its latest single-name and multi-name active
/// certificates. An inactive domain is answered with no certificates. Read
/// with one store query (plus the CA preference list).
pub async fn domain_config(
    store: &dyn Store,
    identifier: &str,
    id_only: bool,
) -> Result<DomainConfig, Error> {
    let identifier = DomainIdentifier::parse(identifier)?;
    let source = store
        .domain_config_source(identifier.lookup())
        .await?
        .ok_or_else(|| identifier.not_found())?;
    let domain = &source.domain;
    let render = |id: Option<CertificateSignedId>| {
        let id = id.filter(|_| domain.is_active)?;
        let c = source.certificates.iter().find(|c| c.id == id)?;
        let chain = choose_chain(&c.chains, &source.ca_preferences);
        Some(render_certificate(
            c.id,
            &c.cert_pem,
            c.private_key_id,
            &c.key_pem,
            chain,
            id_only,
        ))
    };
    Ok(DomainConfig {
        domain: DomainRef {
            id: domain.id.to_string(),
            domain_name: domain.domain_name.clone(),
            is_active: domain.is_active,
        },
        latest_single: render(domain.certificate_signed_id_latest_single),
        latest_multi: render(domain.certificate_signed_id_latest_multi),
    })
}

fn render_certificate(
    id: CertificateSignedId,
    cert_pem: &str,
    key_id: PrivateKeyId,
    key_pem: &str,
    chain: Option<&CertificateCaChain>,
    id_only: bool,
) -> CertificateConfig {
    let pem = |text: &str| (!id_only).then(|| text.to_string());
    CertificateConfig {
        id: id.to_string(),
        private_key: PemRef {
            id: key_id.to_string(),
            pem: pem(key_pem),
        },
        certificate: PemRef {
            id: id.to_string(),
            pem: pem(cert_pem),
        },
        chain: chain.map(|c| PemRef {
            id: c.id.to_string(),
            pem: pem(&c.chain_pem),
        }),
        fullchain: PemRef {
            id: match chain {
                Some(c) => format!("{id},{}", c.id),
                None => id.to_string(),
            },
            pem: (!id_only).then(|| {
                format!(
                    "{cert_pem}{}",
                    chain.map(|c| c.chain_pem.as_str()).unwrap_or("")
                )
            }),
        },
    }
}

/// The four files of a certificate's `config.zip`, named like certbot's
/// (`cert{ID}.pem`, `chain{ID}.pem`, `fullchain{ID}.pem`, `privkey{ID}.pem`).
pub async fn certificate_files(
    store: &dyn Store,
    id: CertificateSignedId,
    chain: Option<CertificateCaChainId>,
) -> Result<Vec<(String, String)>, Error> {
    let config = certificate_config(store, id, chain, false).await?;
    let text = |r: &PemRef| r.pem.clone().unwrap_or_default();
    Ok(vec![
        (format!("cert{id}.pem"), text(&config.certificate)),
        (
            format!("chain{id}.pem"),
            config.chain.as_ref().map(text).unwrap_or_default(),
        ),
        (format!("fullchain{id}.pem"), text(&config.fullchain)),
        (format!("privkey{id}.pem"), text(&config.private_key)),
    ])
}

/// The names a certificate covers (to refresh caches after it changed).
pub async fn certificate_domain_names(
    store: &dyn Store,
    id: CertificateSignedId,
) -> Result<Vec<DomainName>, Error> {
    let cert = store.certificate_signed(id).await?;
    let set = store.unique_fqdn_set(cert.unique_fqdn_set_id).await?;
    Ok(set.set.names().cloned().collect())
}
