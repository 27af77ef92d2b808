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
    /// An existing key to register (`None`: a new key of
    /// `account_key_technology`).
    pub key: Option<ParsedPrivateKey>,
    /// The technology of the account key generated when `key` is `None`:
    /// EC P-256 (the default) or RSA.
    pub account_key_technology: KeyTechnology,
    /// Technology of the certificate keys the account generates.
    pub private_key_technology: KeyTechnology,
    /// Cycle of the certificate keys the account uses.
    pub private_key_cycle: PrivateKeyCycle,
    /// Make it the global default account.
    pub global_default: bool,
    /// Bind it to an account held with the CA (required by some CAs).
    pub external_account: Option<ExternalAccountBinding>,
}

impl Default for AccountRequest {
    fn default() -> Self {
        Self {
            acme_server_id: None,
            contact: None,
            key: None,
            account_key_technology: KeyTechnology::EcP256,
            private_key_technology: KeyTechnology::EcP256,
            private_key_cycle: PrivateKeyCycle::SingleUse,
            global_default: false,
            external_account: None,
        }
    }
}

/// Directory URLs of public CAs, by the short name `acme-server add` accepts
/// in place of a URL.
pub const DIRECTORY_SHORTCUTS: &[(&str, &str)] = &[
    (
        "letsencrypt",
        "https://acme-v02.api.letsencrypt.org/directory",
    ),
    (
        "letsencrypt-staging",
        "https://acme-staging-v02.api.letsencrypt.org/directory",
    ),
    ("zerossl", "https://acme.zerossl.com/v2/DV90"),
    ("google", "https://dv.acme-v02.api.pki.goog/directory"),
    (
        "google-staging",
        "https://dv.acme-v02.test-api.pki.goog/directory",
    ),
    ("buypass", "https://api.buypass.com/acme/directory"),
    (
        "buypass-staging",
        "https://api.test4.buypass.no/acme/directory",
    ),
];

/// The directory URL a shortcut names, or `given` itself.
pub fn directory_url_for(given: &str) -> String {
    let given = given.trim();
    DIRECTORY_SHORTCUTS
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(given))
        .map(|(_, url)| (*url).to_string())
        .unwrap_or_else(|| given.to_string())
}

/// Checks an ACME server's name: 1 to 64 of `A-Z a-z 0-9 . _ -`, not all
/// digits (so that a name never reads as an id).
pub fn check_server_name(name: &str) -> Result<(), Error> {
    let name = name.trim();
    let fail = |message: &str| {
        Err(Error::InvalidField {
            field: "name",
            message: message.into(),
        })
    };
    if name.is_empty() || name.len() > 64 {
        return fail("give 1 to 64 characters");
    }
    if name.bytes().all(|b| b.is_ascii_digit()) {
        return fail(
            "must not be all digits (names and ids are both accepted where a server is named)",
        );
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    {
        return fail("use letters, digits, `.`, `_` and `-` only");
    }
    Ok(())
}

fn check_directory_url(url: &str) -> Result<(), Error> {
    if !(url.starts_with("https://") || url.starts_with("http://")) || url.len() > 2048 {
        return Err(Error::InvalidField {
            field: "directory_url",
            message: "must be an http(s) URL (or a shortcut: letsencrypt, letsencrypt-staging, zerossl, google, google-staging, buypass, buypass-staging)".into(),
        });
    }
    Ok(())
}

fn recorded_directory(info: DirectoryInfo, now: time::OffsetDateTime) -> ServerDirectory {
    ServerDirectory {
        terms_of_service: info.terms_of_service,
        external_account_required: info.external_account_required,
        profiles: info.profiles,
        supports_ari: info.supports_ari,
        checked_at: now,
    }
}

/// Records a server after checking its name, its URL (a shortcut names a
/// public CA's), its CA bundle, and that the directory answers as an ACME
/// directory; what the directory offers is recorded with it.
pub async fn add_acme_server(
    store: &dyn Store,
    acme: &dyn AcmeClient,
    clock: &dyn Clock,
    mut new: NewAcmeServer,
) -> Result<AcmeServer, Error> {
    check_server_name(&new.name)?;
    new.name = new.name.trim().to_string();
    new.directory_url = directory_url_for(&new.directory_url);
    check_directory_url(&new.directory_url)?;
    if let Some(bundle) = &new.ca_bundle_pem {
        crate::formats::parse_certificates_pem(bundle)?;
    }
    if store.acme_server_by_name(&new.name).await?.is_some() {
        return Err(crate::ports::StoreError::Conflict(format!(
            "an ACME server named `{}` already exists",
            new.name
        ))
        .into());
    }
    let info = acme
        .probe_directory(&new.directory_url, new.ca_bundle_pem.as_deref())
        .await?;
    let server = store.create_acme_server(new).await?;
    Ok(store
        .record_acme_server_directory(server.id, &recorded_directory(info, clock.now()))
        .await?)
}

/// What can change on a recorded ACME server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerEdit {
    /// A new name.
    pub name: Option<String>,
    /// A new CA bundle (`Some(None)`: trust the public roots again).
    pub ca_bundle_pem: Option<Option<String>>,
    /// Whether orders may name IP addresses (RFC 8738).
    pub ip_identifiers: Option<bool>,
}

/// Renames a server or changes the CA bundle trusted for it. A new bundle
/// is tried against the directory before it is recorded.
pub async fn edit_acme_server(
    store: &dyn Store,
    acme: &dyn AcmeClient,
    clock: &dyn Clock,
    id: AcmeServerId,
    edit: ServerEdit,
) -> Result<AcmeServer, Error> {
    let server = store.acme_server(id).await?;
    if edit.name.is_none() && edit.ca_bundle_pem.is_none() && edit.ip_identifiers.is_none() {
        return Err(Error::InvalidField {
            field: "name",
            message: "nothing to change: give a new name, CA bundle or IP identifier setting"
                .into(),
        });
    }
    if let Some(name) = &edit.name {
        check_server_name(name)?;
    }
    let mut info = None;
    if let Some(bundle) = &edit.ca_bundle_pem {
        if let Some(pem) = bundle {
            crate::formats::parse_certificates_pem(pem)?;
        }
        info = Some(
            acme.probe_directory(&server.directory_url, bundle.as_deref())
                .await?,
        );
    }
    let edited = store
        .edit_acme_server(
            id,
            edit.name.map(|n| n.trim().to_string()),
            edit.ca_bundle_pem,
            edit.ip_identifiers,
        )
        .await?;
    match info {
        Some(info) => Ok(store
            .record_acme_server_directory(id, &recorded_directory(info, clock.now()))
            .await?),
        None => Ok(edited),
    }
}

/// Reads the server's directory again and records what it offers.
pub async fn check_acme_server(
    store: &dyn Store,
    acme: &dyn AcmeClient,
    clock: &dyn Clock,
    id: AcmeServerId,
) -> Result<AcmeServer, Error> {
    let server = store.acme_server(id).await?;
    let info = acme
        .probe_directory(&server.directory_url, server.ca_bundle_pem.as_deref())
        .await?;
    Ok(store
        .record_acme_server_directory(id, &recorded_directory(info, clock.now()))
        .await?)
}

/// What can change on an account.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountEdit {
    /// A new contact e-mail (`Some("")` removes it); told to the CA.
    pub contact: Option<String>,
    /// Technology of the certificate keys it generates.
    pub private_key_technology: Option<KeyTechnology>,
    /// Cycle of the certificate keys it uses.
    pub private_key_cycle: Option<PrivateKeyCycle>,
}

/// Changes an account: a new contact is sent to the CA first (so the CA
/// and the store agree), then recorded with the key policy.
pub async fn edit_account(
    store: &dyn Store,
    acme: &dyn AcmeClient,
    id: AcmeAccountId,
    edit: AccountEdit,
) -> Result<AcmeAccount, Error> {
    if edit == AccountEdit::default() {
        return Err(Error::InvalidField {
            field: "contact",
            message: "nothing to change: give a contact or a key policy".into(),
        });
    }
    let account = store.acme_account(id).await?;
    let contact = edit.contact.map(|c| c.trim().to_string());
    if let Some(c) = contact.as_deref().filter(|c| !c.is_empty())
        && (c.len() > 254
            || !c.trim_start_matches("mailto:").contains('@')
            || c.contains(char::is_whitespace))
    {
        return Err(Error::InvalidField {
            field: "contact",
            message: "give an e-mail address".into(),
        });
    }
    if let Some(c) = &contact {
        if account.deactivated_at.is_some() {
            return Err(crate::model::rules::TransitionError::AccountDeactivated.into());
        }
        let server = store.acme_server(account.acme_server_id).await?;
        let ctx = AccountContext {
            server,
            account: account.clone(),
        };
        acme.update_account_contact(&ctx, Some(c.as_str()).filter(|c| !c.is_empty()))
            .await?;
    }
    Ok(store
        .edit_acme_account(
            id,
            contact.map(|c| Some(c).filter(|c| !c.is_empty())),
            edit.private_key_technology,
            edit.private_key_cycle,
        )
        .await?)
}

/// The server a reference names: an id (all digits) or a name.
pub async fn find_acme_server(store: &dyn Store, reference: &str) -> Result<AcmeServer, Error> {
    let reference = reference.trim();
    if !reference.is_empty() && reference.bytes().all(|b| b.is_ascii_digit()) {
        let id = reference.parse::<i64>().map_err(|_| Error::InvalidField {
            field: "acme_server",
            message: format!("`{reference}` is not an id"),
        })?;
        return Ok(store.acme_server(AcmeServerId(id)).await?);
    }
    store
        .acme_server_by_name(reference)
        .await?
        .ok_or_else(|| crate::ports::StoreError::not_found("AcmeServer", reference).into())
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

/// Refuses a technology peter does not sign ACME requests with.
fn check_account_key_technology(
    field: &'static str,
    technology: KeyTechnology,
) -> Result<(), Error> {
    if technology.signs_acme_accounts() {
        return Ok(());
    }
    Err(Error::InvalidField {
        field,
        message: format!(
            "ACME account keys must be EC P-256 or RSA (2048, 3072 or 4096 bits); this key is {technology}"
        ),
    })
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
        None => {
            check_account_key_technology("account_key_technology", request.account_key_technology)?;
            (
                ParsedPrivateKey::generate(request.account_key_technology)?,
                AcmeAccountKeySource::Generated,
            )
        }
    };
    check_account_key_technology("key", key.technology)?;
    let directory = super::retry_acme(clock, 5, || acme.directory(&server)).await?;
    if directory.external_account_required && request.external_account.is_none() {
        return Err(Error::InvalidField {
            field: "eab_kid",
            message: format!(
                "the ACME server `{}` requires external account binding: give the key id and HMAC key the CA issued (--eab-kid, --eab-hmac-key)",
                server.name
            ),
        });
    }
    let url = super::retry_acme(clock, 5, || {
        acme.register_account(
            &server,
            &key,
            request.contact.as_deref(),
            false,
            request.external_account.as_ref(),
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
        acme.register_account(&server, &key, None, true, None, refs)
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

/// Rolls the account over to a new key generated for it, of `technology`
/// (`None`: the technology of the current key), so an RSA account can move
/// to EC P-256 and back.
pub async fn change_account_key(
    store: &dyn Store,
    acme: &dyn AcmeClient,
    _clock: &dyn Clock,
    id: AcmeAccountId,
    technology: Option<KeyTechnology>,
) -> Result<AcmeAccount, Error> {
    let account = store.acme_account(id).await?;
    if !account.is_active {
        return Err(crate::model::rules::TransitionError::AccountDeactivated.into());
    }
    let technology = technology.unwrap_or(account.key.key_technology);
    check_account_key_technology("key_technology", technology)?;
    let key = ParsedPrivateKey::generate(technology)?;
    let server = store.acme_server(account.acme_server_id).await?;
    let ctx = AccountContext { server, account };
    // Sent once: a retry after an answer lost on the way back would be
    // signed with the old key, which the CA no longer takes. Instead, ask
    // the CA (with the new key) whether the rollover happened.
    if let Err(e) = acme.change_account_key(&ctx, &key).await {
        let refs = EventRefs {
            acme_account_id: Some(id),
            ..Default::default()
        };
        let rolled = acme
            .register_account(&ctx.server, &key, None, true, None, refs)
            .await
            .is_ok_and(|url| ctx.account.account_url.as_deref() == Some(url.as_str()));
        if !rolled {
            return Err(e.into());
        }
    }
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
    check_account_key_technology("key", key.technology)?;
    let server = resolve_server(store, server_id).await?;
    let url = match super::retry_acme(clock, 5, || {
        acme.register_account(&server, &key, None, true, None, EventRefs::default())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortcuts_name_public_directories_and_urls_pass_through() {
        assert_eq!(
            directory_url_for("letsencrypt"),
            "https://acme-v02.api.letsencrypt.org/directory"
        );
        assert_eq!(
            directory_url_for(" ZeroSSL "),
            "https://acme.zerossl.com/v2/DV90"
        );
        assert_eq!(
            directory_url_for("https://ca.example/dir"),
            "https://ca.example/dir"
        );
        for (_, url) in DIRECTORY_SHORTCUTS {
            assert!(check_directory_url(url).is_ok());
        }
    }

    #[test]
    fn server_names_are_never_all_digits() {
        for good in ["pebble", "le-staging", "ca_2.example", "1a"] {
            assert!(check_server_name(good).is_ok(), "{good}");
        }
        for bad in ["", "12", "a b", "ü", &"x".repeat(65)] {
            assert!(check_server_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_binding_key_is_base64url_and_never_shown() {
        let b = ExternalAccountBinding::parse("kid-1", "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajV").unwrap();
        assert_eq!(b.key_id(), "kid-1");
        assert_eq!(b.hmac_key().len(), 24);
        assert!(!format!("{b:?}").contains("zWND"));
        // Padding and the standard alphabet are accepted.
        assert_eq!(
            ExternalAccountBinding::parse("k", "+/+/+/+/+/+/+/+/+/+/+w==")
                .unwrap()
                .hmac_key(),
            ExternalAccountBinding::parse("k", "-_-_-_-_-_-_-_-_-_-_-w")
                .unwrap()
                .hmac_key()
        );
        assert!(ExternalAccountBinding::parse("", "zWNDZM6eQGHWpSRTPal5eIUY").is_err());
        assert!(ExternalAccountBinding::parse("k", "short").is_err());
        assert!(ExternalAccountBinding::parse("k", "not base64 at all!!").is_err());
    }
}
