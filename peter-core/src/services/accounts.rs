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

/// Records an ACME server after checking what can be checked locally: a
/// name, an http(s) directory URL, and a CA bundle that parses.
pub async fn add_acme_server(store: &dyn Store, new: NewAcmeServer) -> Result<AcmeServer, Error> {
    if new.name.trim().is_empty() {
        return Err(Error::InvalidField {
            field: "name",
            message: "must not be empty".into(),
        });
    }
    if !(new.directory_url.starts_with("https://") || new.directory_url.starts_with("http://")) {
        return Err(Error::InvalidField {
            field: "directory_url",
            message: "must be an http(s) URL".into(),
        });
    }
    if let Some(bundle) = &new.ca_bundle_pem {
        crate::formats::parse_certificates_pem(bundle)?;
    }
    Ok(store.create_acme_server(new).await?)
}

/// The account named, or else the global default account.
pub async fn account_or_global_default(
    store: &dyn Store,
    id: Option<AcmeAccountId>,
) -> Result<AcmeAccountId, Error> {
    match id {
        Some(id) => Ok(id),
        None => Ok(store
            .global_default_acme_account()
            .await?
            .ok_or_else(|| Error::InvalidField {
                field: "acme_account_id",
                message: "no account given and no global default account".into(),
            })?
            .id),
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
    clock: &dyn Clock,
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
    let directory = super::retry_acme(clock, 5, || acme.directory(&server)).await?;
    let url = super::retry_acme(clock, 5, || {
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

/// Whether the server knows the account's key (newAccount with
/// onlyReturnExisting). A known account's URL is recorded.
pub async fn check_account(
    store: &dyn Store,
    acme: &dyn AcmeClient,
    clock: &dyn Clock,
    id: AcmeAccountId,
) -> Result<bool, Error> {
    let account = store.acme_account(id).await?;
    let server = store.acme_server(account.acme_server_id).await?;
    let key = ParsedPrivateKey::from_pem(&account.key.key_pem)?;
    let refs = EventRefs {
        acme_account_id: Some(id),
        ..Default::default()
    };
    match super::retry_acme(clock, 5, || {
        acme.register_account(&server, &key, None, true, refs)
    })
    .await
    {
        Ok(url) => {
            if account.account_url.as_deref() != Some(url.as_str()) {
                store.set_acme_account_url(id, &url).await?;
            }
            Ok(true)
        }
        Err(e) if e.problem_short_type() == Some("accountDoesNotExist") => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Deactivates the account upstream and locally (permanent).
pub async fn deactivate_account(
    store: &dyn Store,
    acme: &dyn AcmeClient,
    clock: &dyn Clock,
    id: AcmeAccountId,
) -> Result<AcmeAccount, Error> {
    let account = store.acme_account(id).await?;
    if account.deactivated_at.is_some() {
        return Err(crate::model::rules::TransitionError::AccountDeactivated.into());
    }
    let server = store.acme_server(account.acme_server_id).await?;
    let ctx = AccountContext { server, account };
    super::retry_acme(clock, 5, || acme.deactivate_account(&ctx)).await?;
    Ok(store.deactivate_acme_account(id).await?)
}

/// Rolls the account over to a new key generated for it.
pub async fn change_account_key(
    store: &dyn Store,
    acme: &dyn AcmeClient,
    clock: &dyn Clock,
    id: AcmeAccountId,
) -> Result<AcmeAccount, Error> {
    let account = store.acme_account(id).await?;
    if !account.is_active {
        return Err(crate::model::rules::TransitionError::AccountDeactivated.into());
    }
    let server = store.acme_server(account.acme_server_id).await?;
    let ctx = AccountContext { server, account };
    let key = super::retry_acme(clock, 5, || acme.change_account_key(&ctx)).await?;
    Ok(store
        .rotate_acme_account_key(id, &key, AcmeAccountKeySource::Generated)
        .await?)
}

/// Records an account that already exists upstream for `key` (looked up
/// with onlyReturnExisting, so nothing new is registered).
pub async fn import_account(
    store: &dyn Store,
    acme: &dyn AcmeClient,
    clock: &dyn Clock,
    server_id: Option<AcmeServerId>,
    key: ParsedPrivateKey,
    contact: Option<String>,
) -> Result<AcmeAccount, Error> {
    let server = resolve_server(store, server_id).await?;
    let url = match super::retry_acme(clock, 5, || {
        acme.register_account(&server, &key, None, true, EventRefs::default())
    })
    .await
    {
        Ok(url) => url,
        Err(e) if e.problem_short_type() == Some("accountDoesNotExist") => {
            return Err(Error::InvalidField {
                field: "key",
                message: format!("ACME server `{}` has no account for this key", server.name),
            });
        }
        Err(e) => return Err(e.into()),
    };
    Ok(store
        .create_acme_account(NewAcmeAccount {
            acme_server_id: server.id,
            contact,
            key,
            key_source: AcmeAccountKeySource::Imported,
            account_url: Some(url),
            terms_of_service: None,
            private_key_technology: KeyTechnology::EcP256,
            private_key_cycle: PrivateKeyCycle::SingleUse,
        })
        .await?)
}
