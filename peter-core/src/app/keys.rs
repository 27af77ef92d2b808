//! Private keys: generated or uploaded, marked, and compromised (which
//! takes their certificates out of service and revokes them at the CA).

use super::{Affected, Changed, Peter};
use crate::error::Error;
use crate::formats::ParsedPrivateKey;
use crate::model::rules::PrivateKeyMark;
use crate::model::*;
use crate::ports::*;
use crate::services;
use crate::services::downloads::Download;

/// Private key operations.
pub struct PrivateKeys<'a> {
    pub(crate) peter: &'a Peter,
}

/// What marking a key did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivateKeyMarked {
    /// The key, after the change.
    pub private_key: PrivateKey,
    /// Its certificates revoked at their CA (when it was marked compromised).
    pub revoked_certificates: Vec<CertificateSignedId>,
}

impl PrivateKeys<'_> {
    /// A page of keys.
    pub async fn list(&self, page: Page) -> Result<Paged<PrivateKey>, Error> {
        Ok(self.peter.store().list_private_keys(page).await?)
    }

    /// One key (its PEM is in the record: never log it).
    pub async fn get(&self, id: PrivateKeyId) -> Result<PrivateKey, Error> {
        Ok(self.peter.store().private_key(id).await?)
    }

    /// The certificates that use the key, newest first.
    pub async fn certificates(
        &self,
        id: PrivateKeyId,
        page: Page,
    ) -> Result<Paged<super::CertificateSummary>, Error> {
        let key = self.get(id).await?;
        self.peter
            .certificates()
            .list(CertificateFilter::private_key(key.id), page)
            .await
    }

    /// Generates and records a key.
    pub async fn generate(&self, technology: KeyTechnology) -> Result<Created<PrivateKey>, Error> {
        let key = crate::offload::generate_key(technology).await?;
        self.record(key, PrivateKeySource::Generated).await
    }

    /// Records an uploaded key (PKCS#8, PKCS#1 or SEC1 PEM; idempotent).
    pub async fn upload(&self, pem: &str) -> Result<Created<PrivateKey>, Error> {
        let key = ParsedPrivateKey::from_pem(pem).map_err(|e| Error::InvalidField {
            field: "private_key_file_pem",
            message: e.to_string(),
        })?;
        self.record(key, PrivateKeySource::Imported).await
    }

    async fn record(
        &self,
        key: ParsedPrivateKey,
        source: PrivateKeySource,
    ) -> Result<Created<PrivateKey>, Error> {
        Ok(self
            .peter
            .store()
            .insert_private_key(NewPrivateKey {
                key,
                source,
                cycle: PrivateKeyCycle::SingleUse,
                acme_account_id_owner: None,
            })
            .await?)
    }

    /// Marks a key active, inactive or compromised. Compromised is
    /// permanent: its certificates leave service at once and each one peter
    /// ordered is revoked at its CA with reason keyCompromise.
    pub async fn mark(
        &self,
        id: PrivateKeyId,
        mark: PrivateKeyMark,
    ) -> Result<Changed<PrivateKeyMarked>, Error> {
        let store = self.peter.store();
        match mark {
            PrivateKeyMark::Active | PrivateKeyMark::Inactive => {
                let key = store
                    .set_private_key_active(id, mark == PrivateKeyMark::Active)
                    .await?;
                let marked = PrivateKeyMarked {
                    private_key: key,
                    revoked_certificates: Vec::new(),
                };
                // Which key a certificate uses does not change what is served.
                Ok(self
                    .peter
                    .changed(marked, Affected::Domains(Vec::new()))
                    .await)
            }
            PrivateKeyMark::Compromised => {
                let outcome = store.mark_private_key_compromised(id).await?;
                // Its certificates are out of service now, whatever the CA says next.
                let mut revoked = Vec::new();
                if let Ok(orders) = self.peter.order_services() {
                    revoked = orders
                        .revoke_compromised(&outcome.deactivated_certificates)
                        .await?;
                }
                let marked = PrivateKeyMarked {
                    private_key: store.private_key(id).await?,
                    revoked_certificates: revoked,
                };
                Ok(self
                    .peter
                    .changed(
                        marked,
                        Affected::Certificates(outcome.deactivated_certificates),
                    )
                    .await)
            }
        }
    }

    /// A key's file (`key.key` is PKCS#8 DER).
    pub async fn download(&self, id: PrivateKeyId, file: KeyFile) -> Result<Download, Error> {
        let key = self.get(id).await?;
        services::downloads::key_file(&key.key_pem, file.format())
    }
}
