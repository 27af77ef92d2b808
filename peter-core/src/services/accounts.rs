//! ACME servers and accounts.

use crate::error::Error;
use crate::formats::ParsedPrivateKey;
use crate::model::*;
use crate::ports::*;

/// What a new account needs.
#[derive(Debug, Clone)]
pub struct AccountRequest {
    /// The server (`None`: the default server).
    pub acme_server_id: Option<AcmeServerId>,
    /// Contact e-mail.
    pub contact: Option<String>,
    /// An existing key to register (`None`: a new EC P-256 key).
    pub key: Option<ParsedPrivateKey>,
    /// Technology of the certificate keys the account generates.
    pub private_key_technology: KeyTechnology,
    /// Cycle of the certificate keys the account uses.
    pub private_key_cycle: PrivateKeyCycle,
    /// Make it the global default account.
    pub global_default: bool,
}

impl Default for AccountRequest {
    fn default() -> Self {
        Self {
            acme_server_id: None,
            contact: None,
            key: None,
            private_key_technology: KeyTechnology::EcP256,
            private_key_cycle: PrivateKeyCycle::SingleUse,
            global_default: false,
        }
    }
}

/// The server an account request names, or the default server.
pub async fn resolve_server(
    store: &dyn Store,
    id: Option<AcmeServerId>,
) -> Result<AcmeServer, Error> {
    match id {
        Some(id) => Ok(store.acme_server(id).await?),
        None => store
            .list_acme_servers()
            .await?
            .into_iter()
            .find(|s| s.is_default)
            .ok_or_else(|| Error::InvalidField {
                field: "acme_server",
                message: "no ACME server is registered; add one first".into(),
            }),
    }
}

/// Registers an account with the server (terms agreed) and records it.
pub async fn create_account(
    store: &dyn Store,
    acme: &dyn AcmeClient,
    request: AccountRequest,
) -> Result<AcmeAccount, Error> {
    let server = resolve_server(store, request.acme_server_id).await?;
    let (key, source) = match request.key {
        Some(k) => (k, AcmeAccountKeySource::Imported),
        None => (
            ParsedPrivateKey::generate(KeyTechnology::EcP256)?,
            AcmeAccountKeySource::Generated,
        ),
    };
    if key.technology != KeyTechnology::EcP256 {
        return Err(AcmeError::Key(format!(
            "ACME account keys must be EC P-256; this key is {}",
            key.technology
        ))
        .into());
    }
    let directory = super::retry_acme(5, || acme.directory(&server)).await?;
    let url = super::retry_acme(5, || {
        acme.register_account(
            &server,
            &key,
            request.contact.as_deref(),
            false,
            EventRefs::default(),
        )
    })
    .await?;
    let account = store
        .create_acme_account(NewAcmeAccount {
            acme_server_id: server.id,
            contact: request.contact,
            key,
            key_source: source,
            account_url: Some(url),
            terms_of_service: directory.terms_of_service,
            private_key_technology: request.private_key_technology,
            private_key_cycle: request.private_key_cycle,
        })
        .await?;
    if request.global_default {
        return Ok(store.set_global_default_acme_account(account.id).await?);
    }
    Ok(account)
}
