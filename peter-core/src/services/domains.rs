//! Domain-level operations of the admin API: enable and disable names in
//! bulk, make sure one name has a certificate, and retire expired
//! certificates.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::dns::DomainName;
use crate::error::Error;
use crate::model::rules::CertificateMark;
use crate::model::*;
use crate::ports::{CertificateFilter, Page, Store};
use crate::services::orders::{OrderRequest, Orders};

/// Splits a comma (or whitespace) separated list of names.
pub fn split_names(list: &str) -> Vec<String> {
    list.split(|c: char| c == ',' || c.is_whitespace())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn parse_names(list: &str) -> Result<Vec<DomainName>, Error> {
    let names = split_names(list);
    if names.is_empty() {
        return Err(Error::InvalidField {
            field: "domain_names",
            message: "found no domain names".into(),
        });
    }
    names
        .iter()
        .map(|n| DomainName::parse(n).map_err(Error::from))
        .collect()
}

/// Records a domain (idempotent): a valid name, not blocklisted, not a
/// wildcard (a wildcard needs DNS-01, which peter does not do; wildcard
/// domains only arrive with imported certificates).
pub async fn add_domain(
    store: &dyn Store,
    name: &str,
) -> Result<crate::ports::Created<Domain>, Error> {
    let name = DomainName::parse(name)?;
    if name.is_wildcard() {
        return Err(Error::InvalidField {
            field: "domain_name",
            message: "a wildcard is not a domain peter can order or serve (it needs DNS-01)".into(),
        });
    }
    if store.is_domain_blocklisted(&name).await? {
        return Err(Error::Blocklisted(name.as_str().to_string()));
    }
    Ok(store.get_or_create_domain(&name).await?)
}

/// Enables each name: `blocklisted`, `exists` (already active), `activated`
/// (was inactive) or `new` (recorded now). Names are checked before any is
/// changed.
pub async fn enable_domains(
    store: &dyn Store,
    list: &str,
) -> Result<BTreeMap<String, String>, Error> {
    let names = parse_names(list)?;
    let mut results = BTreeMap::new();
    for name in names {
        let status = if store.is_domain_blocklisted(&name).await? {
            "blocklisted"
        } else {
            match store.domain_by_name(&name).await? {
                Some(d) if d.is_active => "exists",
                Some(d) => {
                    store.set_domain_active(d.id, true).await?;
                    "activated"
                }
                None => {
                    store.get_or_create_domain(&name).await?;
                    "new"
                }
            }
        };
        results.insert(name.as_str().to_string(), status.to_string());
    }
    Ok(results)
}

/// Disables each name: `deactivated`, `already deactivated` or `unknown`.
pub async fn disable_domains(
    store: &dyn Store,
    list: &str,
) -> Result<BTreeMap<String, String>, Error> {
    let names = parse_names(list)?;
    let mut results = BTreeMap::new();
    for name in names {
        let status = match store.domain_by_name(&name).await? {
            Some(d) if d.is_active => {
                store.set_domain_active(d.id, false).await?;
                "deactivated"
            }
            Some(_) => "already deactivated",
            None => "unknown",
        };
        results.insert(name.as_str().to_string(), status.to_string());
    }
    Ok(results)
}

/// What `certificate_if_needed` did for its name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertificateIfNeeded {
    /// The name, normalised.
    #[serde(skip)]
    pub domain_name: String,
    /// `new`, `existing.active` or `existing.activated`.
    #[serde(rename = "domain.status")]
    pub domain_status: String,
    /// The domain.
    #[serde(rename = "domain.id")]
    pub domain_id: i64,
    /// `exists` (an active certificate covers it), `new` (issued now) or
    /// `fail` (the order did not end with a certificate).
    #[serde(rename = "certificate_signed.status")]
    pub certificate_status: String,
    /// The certificate, when there is one.
    #[serde(rename = "certificate_signed.id")]
    pub certificate_signed_id: Option<i64>,
    /// The order placed, when one was.
    #[serde(rename = "acme_order.id")]
    pub acme_order_id: Option<i64>,
    /// Why the order failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Makes sure one name has an active certificate: one covering it is
/// returned without ordering; otherwise the name is enabled and a
/// `process_single` order is placed with `account` (the global default when
/// `None`). A blocklisted name is refused.
pub async fn certificate_if_needed(
    orders: &Orders<'_>,
    domain_name: &str,
    account: Option<AcmeAccountId>,
    private_key_cycle: Option<PrivateKeyCycle>,
) -> Result<CertificateIfNeeded, Error> {
    let store = orders.store;
    let names = split_names(domain_name);
    let [name] = names.as_slice() else {
        return Err(Error::InvalidField {
            field: "domain_name",
            message: "exactly one domain name is supported".into(),
        });
    };
    let name = DomainName::parse(name)?;
    if store.is_domain_blocklisted(&name).await? {
        return Err(Error::Blocklisted(name.as_str().to_string()));
    }
    let (domain, domain_status) = match store.domain_by_name(&name).await? {
        Some(d) if d.is_active => (d, "existing.active"),
        Some(d) => (
            store.set_domain_active(d.id, true).await?,
            "existing.activated",
        ),
        None => {
            let created = store.get_or_create_domain(&name).await?;
            (created.id, "new")
        }
    };
    if let Some(cert) = store.latest_active_certificate_for_domain(&name).await? {
        return Ok(CertificateIfNeeded {
            domain_name: name.as_str().to_string(),
            domain_status: domain_status.into(),
            domain_id: domain.id.0,
            certificate_status: "exists".into(),
            certificate_signed_id: Some(cert.id.0),
            acme_order_id: None,
            error: None,
        });
    }
    let account = crate::services::accounts::account_or_global_default(store, account).await?;
    let mut request = OrderRequest::new(
        account,
        vec![name.as_str().to_string()],
        AcmeOrderProcessingStrategy::ProcessSingle,
    );
    request.order_type = AcmeOrderType::CertificateIfNeeded;
    request.private_key_cycle = private_key_cycle;
    let order = orders.create(request).await?;
    Ok(CertificateIfNeeded {
        domain_name: name.as_str().to_string(),
        domain_status: domain_status.into(),
        domain_id: domain.id.0,
        certificate_status: if order.certificate_signed_id.is_some() {
            "new"
        } else {
            "fail"
        }
        .into(),
        certificate_signed_id: order.certificate_signed_id.map(|c| c.0),
        acme_order_id: Some(order.id.0),
        error: order.problem.clone(),
    })
}

/// Whether autocert may order `name`: it equals one of `suffixes` or ends
/// in `.` and one of them (so `example.com` allows `www.example.com`, never
/// `badexample.com`). Suffixes are compared in their normalised form.
pub fn autocert_allows(name: &DomainName, suffixes: &[String]) -> bool {
    suffixes.iter().any(|suffix| {
        let suffix = suffix
            .trim()
            .trim_start_matches("*.")
            .trim_start_matches('.');
        let Ok(suffix) = DomainName::parse(suffix) else {
            return false;
        };
        let suffix = suffix.as_str();
        name.as_str() == suffix
            || name
                .as_str()
                .strip_suffix(suffix)
                .is_some_and(|head| head.ends_with('.'))
    })
}

/// Marks inactive every active certificate that has expired, except one that
/// is still the certificate a domain is served with (so a domain whose
/// renewal is late keeps being served). Returns the certificates marked.
pub async fn deactivate_expired(
    store: &dyn Store,
    now: time::OffsetDateTime,
) -> Result<Vec<CertificateSignedId>, Error> {
    let mut expired = Vec::new();
    let mut page = 1;
    loop {
        let batch = store
            .list_certificates_signed(
                CertificateFilter::expiring_before(now),
                Page::new(page, 500),
            )
            .await?;
        expired.extend(batch.items.iter().map(|c| (c.id, c.unique_fqdn_set_id)));
        match batch.page_next() {
            Some(next) => page = next,
            None => break,
        }
    }
    let mut marked = Vec::new();
    for (id, set) in expired {
        let record = store.unique_fqdn_set(set).await?;
        let mut still_served = false;
        for domain_id in &record.domain_ids {
            let domain = store.domain(*domain_id).await?;
            if domain.certificate_signed_id_latest_single == Some(id)
                || domain.certificate_signed_id_latest_multi == Some(id)
            {
                still_served = true;
                break;
            }
        }
        if !still_served {
            store
                .mark_certificate_signed(id, CertificateMark::Inactive)
                .await?;
            marked.push(id);
        }
    }
    Ok(marked)
}

#[cfg(test)]
mod autocert_tests {
    use super::*;

    #[test]
    fn the_allowlist_matches_whole_labels_only() {
        let allow = vec!["example.com".to_string(), ".Example.NET".to_string()];
        let ok = |n: &str| autocert_allows(&DomainName::parse(n).unwrap(), &allow);
        assert!(ok("example.com"));
        assert!(ok("www.example.com"));
        assert!(ok("a.b.example.net"));
        assert!(!ok("badexample.com"));
        assert!(!ok("example.org"));
        assert!(!ok("example.com.evil.org"));
        assert!(!autocert_allows(
            &DomainName::parse("example.com").unwrap(),
            &[]
        ));
    }
}
