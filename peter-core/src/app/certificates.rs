//! Certificates (imports, marks, upstream revocation, their files) and the
//! CA certificates, chains and preference list that decide which chain is
//! served with them.

use super::{Affected, Changed, Peter};
use crate::error::Error;
use crate::formats::ParsedCertificate;
use crate::model::rules::CertificateMark;
use crate::model::*;
use crate::ports::*;
use crate::services;
use crate::services::downloads::Download;
use crate::services::publish::CertificateConfig;

pub use crate::services::import::CertificateUpload;

crate::model::closed_set!(
    /// Which way a CA moves in the preference list.
    PreferenceMove, "preference move" {
        /// One place earlier (more preferred).
        Increase => "increase",
        /// One place later.
        Decrease => "decrease",
    }
);

/// A certificate as lists show it: with its names and its status now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateSummary {
    /// The certificate.
    pub certificate: CertificateSigned,
    /// Its names, in name order.
    pub domain_names: Vec<String>,
    /// Revoked, expired, active or inactive.
    pub status: CertificateStatus,
}

/// Certificate operations.
pub struct Certificates<'a> {
    pub(crate) peter: &'a Peter,
}

impl Certificates<'_> {
    /// A page of certificates meeting `filter`, with their names and status.
    pub async fn list(
        &self,
        filter: CertificateFilter,
        page: Page,
    ) -> Result<Paged<CertificateSummary>, Error> {
        let paged = self
            .peter
            .store()
            .list_certificates_signed(filter, page)
            .await?;
        self.summarize(paged).await
    }

    /// Like [`list`](Self::list), keeping only certificates that cover
    /// `domain` (an id or a name) when it is given; a domain peter does not
    /// know is covered by nothing.
    pub async fn list_covering(
        &self,
        mut filter: CertificateFilter,
        domain: Option<&str>,
        page: Page,
    ) -> Result<Paged<CertificateSummary>, Error> {
        if let Some(identifier) = domain {
            match self.peter.domains().find(identifier).await? {
                Some(found) => filter.domain = Some(found.id),
                None => return Ok(Paged::empty(page)),
            }
        }
        self.list(filter, page).await
    }

    /// Names and status for a page of certificates (one store read for the names).
    pub(crate) async fn summarize(
        &self,
        paged: Paged<CertificateSigned>,
    ) -> Result<Paged<CertificateSummary>, Error> {
        let sets: Vec<UniqueFqdnSetId> = paged.items.iter().map(|c| c.unique_fqdn_set_id).collect();
        let names = self.peter.store().names_of_sets(&sets).await?;
        let now = self.peter.now();
        Ok(Paged {
            items: paged
                .items
                .into_iter()
                .map(|certificate| CertificateSummary {
                    domain_names: names
                        .get(&certificate.unique_fqdn_set_id)
                        .cloned()
                        .unwrap_or_default(),
                    status: CertificateStatus::of(&certificate, now),
                    certificate,
                })
                .collect(),
            total_items: paged.total_items,
            page: paged.page,
        })
    }

    /// One certificate.
    pub async fn get(&self, id: CertificateSignedId) -> Result<CertificateSigned, Error> {
        Ok(self.peter.store().certificate_signed(id).await?)
    }

    /// A certificate's names.
    pub async fn names(&self, id: CertificateSignedId) -> Result<Vec<String>, Error> {
        Ok(
            services::publish::certificate_domain_names(self.peter.store(), id)
                .await?
                .into_iter()
                .map(|n| n.to_string())
                .collect(),
        )
    }

    /// Its status now (revoked, expired, active, inactive).
    pub fn status(&self, cert: &CertificateSigned) -> CertificateStatus {
        CertificateStatus::of(cert, self.peter.now())
    }

    /// The chains it was offered with, upstream default first.
    pub async fn chains(
        &self,
        id: CertificateSignedId,
    ) -> Result<Vec<CertificateChainOffer>, Error> {
        self.get(id).await?;
        Ok(self.peter.store().certificate_chains(id).await?)
    }

    /// Imports a certificate with its key and chain (idempotent: the same
    /// certificate again reports `created: false`). Blocklisted names are refused.
    pub async fn import(
        &self,
        upload: CertificateUpload<'_>,
    ) -> Result<Changed<ImportOutcome>, Error> {
        let outcome = services::import::import_certificate_with(
            self.peter.store(),
            self.peter.clock(),
            upload,
            self.peter.inner.settings.max_chain_certificates,
        )
        .await?;
        let affected = Affected::Certificates(vec![outcome.certificate_signed.id]);
        Ok(self.peter.changed(outcome, affected).await)
    }

    /// Marks a certificate active, inactive or revoked (revoked is
    /// permanent; it revokes nothing at the CA).
    pub async fn mark(
        &self,
        id: CertificateSignedId,
        mark: CertificateMark,
    ) -> Result<Changed<CertificateSigned>, Error> {
        let cert = self.peter.store().mark_certificate_signed(id, mark).await?;
        Ok(self
            .peter
            .changed(cert, Affected::Certificates(vec![id]))
            .await)
    }

    /// Revokes a certificate at its CA, signed by the account that ordered
    /// it (or `account`), and applies the permanent local `revoked` mark:
    /// a certificate revoked at the CA is never served again.
    pub async fn revoke(
        &self,
        id: CertificateSignedId,
        reason: RevocationReason,
        account: Option<AcmeAccountId>,
    ) -> Result<Changed<CertificateSigned>, Error> {
        let orders = self.peter.order_services()?;
        let cert = orders.revoke_upstream(id, reason, account).await?;
        Ok(self
            .peter
            .changed(cert, Affected::Certificates(vec![id]))
            .await)
    }

    /// Marks inactive every expired certificate that no domain is still
    /// served with. Returns those marked.
    pub async fn deactivate_expired(&self) -> Result<Changed<Vec<CertificateSignedId>>, Error> {
        let ids =
            services::domains::deactivate_expired(self.peter.store(), self.peter.now()).await?;
        let affected = Affected::Certificates(ids.clone());
        Ok(self.peter.changed(ids, affected).await)
    }

    /// A certificate's file, through `chain` (one it was offered with) or
    /// its preferred chain.
    pub async fn download(
        &self,
        id: CertificateSignedId,
        file: CertificateFile,
        chain: Option<CertificateCaChainId>,
    ) -> Result<Download, Error> {
        services::downloads::certificate_download(self.peter.store(), id, file.format(), chain)
            .await
    }

    /// A certificate's `config.json`, through `chain` or its preferred chain.
    pub async fn config(
        &self,
        id: CertificateSignedId,
        chain: Option<CertificateCaChainId>,
        id_only: bool,
    ) -> Result<CertificateConfig, Error> {
        self.peter
            .serving(services::publish::certificate_config(
                self.peter.store(),
                id,
                chain,
                id_only,
            ))
            .await
    }

    /// The four files of a certificate's `config.zip`, named like certbot's.
    pub async fn config_files(
        &self,
        id: CertificateSignedId,
        chain: Option<CertificateCaChainId>,
    ) -> Result<Vec<(String, String)>, Error> {
        services::publish::certificate_files(self.peter.store(), id, chain).await
    }

    /// The order that obtained it, when peter ordered it.
    pub async fn order(&self, id: CertificateSignedId) -> Result<Option<AcmeOrder>, Error> {
        Ok(self.peter.store().acme_order_for_certificate(id).await?)
    }
}

/// CA certificates, chains and the CA preference list.
pub struct CertificateAuthorities<'a> {
    pub(crate) peter: &'a Peter,
}

impl CertificateAuthorities<'_> {
    /// A page of CA certificates.
    pub async fn list(&self, page: Page) -> Result<Paged<CertificateCa>, Error> {
        Ok(self.peter.store().list_certificate_cas(page).await?)
    }

    /// One CA certificate.
    pub async fn get(&self, id: CertificateCaId) -> Result<CertificateCa, Error> {
        Ok(self.peter.store().certificate_ca(id).await?)
    }

    /// Records a CA certificate (idempotent).
    pub async fn upload(&self, pem: &str) -> Result<Created<CertificateCa>, Error> {
        let parsed = ParsedCertificate::from_pem(pem)?;
        Ok(self.peter.store().insert_certificate_ca(&parsed).await?)
    }

    /// A CA certificate's file.
    pub async fn download(&self, id: CertificateCaId, file: CaFile) -> Result<Download, Error> {
        services::downloads::ca_download(self.peter.store(), id, file.format()).await
    }

    /// A page of chains.
    pub async fn chains(&self, page: Page) -> Result<Paged<CertificateCaChain>, Error> {
        Ok(self.peter.store().list_certificate_ca_chains(page).await?)
    }

    /// One chain.
    pub async fn chain(&self, id: CertificateCaChainId) -> Result<CertificateCaChain, Error> {
        Ok(self.peter.store().certificate_ca_chain(id).await?)
    }

    /// A chain's file.
    pub async fn chain_download(
        &self,
        id: CertificateCaChainId,
        file: ChainFile,
    ) -> Result<Download, Error> {
        services::downloads::chain_download(self.peter.store(), id, file.format()).await
    }

    /// A CA by id, or by SHA-1 fingerprint (at least its first 8 hex characters).
    pub async fn find(
        &self,
        id: Option<CertificateCaId>,
        fingerprint_sha1: Option<&str>,
    ) -> Result<CertificateCaId, Error> {
        services::ca_preferences::find_ca(self.peter.store(), id, fingerprint_sha1).await
    }

    /// The CA preference list, most preferred first.
    pub async fn preferences(&self) -> Result<Vec<CertificateCa>, Error> {
        Ok(self.peter.store().ca_preferences().await?)
    }

    /// Puts a CA at the end of the preference list (no change if present).
    /// Every domain may now be served another chain, so all are re-published.
    pub async fn add_preference(
        &self,
        id: CertificateCaId,
    ) -> Result<Changed<Vec<CertificateCa>>, Error> {
        let list = self.peter.store().add_ca_preference(id).await?;
        Ok(self.peter.changed(list, Affected::Everything).await)
    }

    /// Removes a CA from the preference list.
    pub async fn remove_preference(
        &self,
        id: CertificateCaId,
    ) -> Result<Changed<Vec<CertificateCa>>, Error> {
        let list = self.peter.store().remove_ca_preference(id).await?;
        Ok(self.peter.changed(list, Affected::Everything).await)
    }

    /// Moves a CA one place earlier or later in the preference list.
    pub async fn prioritize(
        &self,
        id: CertificateCaId,
        direction: PreferenceMove,
    ) -> Result<Changed<Vec<CertificateCa>>, Error> {
        let earlier = direction == PreferenceMove::Increase;
        let list =
            services::ca_preferences::move_preference(self.peter.store(), id, earlier).await?;
        Ok(self.peter.changed(list, Affected::Everything).await)
    }
}
