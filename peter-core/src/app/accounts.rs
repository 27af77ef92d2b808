//! ACME servers (directories) and the accounts registered with them.

use super::Peter;
use crate::error::Error;
use crate::formats::ParsedPrivateKey;
use crate::model::rules::AccountMark;
use crate::model::*;
use crate::ports::*;
use crate::services;
use crate::services::downloads::Download;

pub use crate::services::accounts::{AccountEdit, AccountRequest, DIRECTORY_SHORTCUTS, ServerEdit};

/// ACME server operations.
pub struct AcmeServers<'a> {
    pub(crate) peter: &'a Peter,
}

impl AcmeServers<'_> {
    /// Every server, by id.
    pub async fn list(&self) -> Result<Vec<AcmeServer>, Error> {
        Ok(self.peter.store().list_acme_servers().await?)
    }

    /// One server.
    pub async fn get(&self, id: AcmeServerId) -> Result<AcmeServer, Error> {
        Ok(self.peter.store().acme_server(id).await?)
    }

    /// The server a reference names: its id (all digits) or its name.
    pub async fn find(&self, reference: &str) -> Result<AcmeServer, Error> {
        services::accounts::find_acme_server(self.peter.store(), reference).await
    }

    /// Records a server: its name (never all digits), an http(s) directory
    /// URL or a public CA's shortcut (`letsencrypt`, `zerossl`, ...; see
    /// [`DIRECTORY_SHORTCUTS`]) and a CA bundle that parses are checked, then
    /// the directory is read at once (a refused connection, an untrusted TLS
    /// certificate and an answer that is not an ACME directory are distinct
    /// errors, and nothing is recorded); what it offers (terms, external
    /// account binding, profiles, ARI) is recorded with the server.
    pub async fn add(&self, new: NewAcmeServer) -> Result<AcmeServer, Error> {
        services::accounts::add_acme_server(
            self.peter.store(),
            self.peter.acme()?,
            self.peter.clock(),
            new,
        )
        .await
    }

    /// Renames a server or changes the CA bundle trusted for its TLS; a new
    /// bundle is tried against the directory first.
    pub async fn edit(&self, id: AcmeServerId, edit: ServerEdit) -> Result<AcmeServer, Error> {
        services::accounts::edit_acme_server(
            self.peter.store(),
            self.peter.acme()?,
            self.peter.clock(),
            id,
            edit,
        )
        .await
    }

    /// Reads the directory again and records what it offers now.
    pub async fn check(&self, id: AcmeServerId) -> Result<AcmeServer, Error> {
        services::accounts::check_acme_server(
            self.peter.store(),
            self.peter.acme()?,
            self.peter.clock(),
            id,
        )
        .await
    }

    /// Makes the server the default (enabling it).
    pub async fn set_default(&self, id: AcmeServerId) -> Result<AcmeServer, Error> {
        Ok(self.peter.store().set_default_acme_server(id).await?)
    }

    /// Removes a server that no account uses; the default server only when
    /// it is the last one.
    pub async fn remove(&self, id: AcmeServerId) -> Result<(), Error> {
        Ok(self.peter.store().remove_acme_server(id).await?)
    }
}

/// ACME account operations.
pub struct Accounts<'a> {
    pub(crate) peter: &'a Peter,
}

impl Accounts<'_> {
    /// A page of accounts.
    pub async fn list(&self, page: Page) -> Result<Paged<AcmeAccount>, Error> {
        Ok(self.peter.store().list_acme_accounts(page).await?)
    }

    /// One account, with its active key.
    pub async fn get(&self, id: AcmeAccountId) -> Result<AcmeAccount, Error> {
        Ok(self.peter.store().acme_account(id).await?)
    }

    /// The global default account, if any.
    pub async fn global_default(&self) -> Result<Option<AcmeAccount>, Error> {
        Ok(self.peter.store().global_default_acme_account().await?)
    }

    /// The account's orders, newest first.
    pub async fn orders(&self, id: AcmeAccountId, page: Page) -> Result<Paged<AcmeOrder>, Error> {
        self.get(id).await?;
        Ok(self
            .peter
            .store()
            .list_acme_orders(&OrderFilter::account(id), page)
            .await?)
    }

    /// Registers a new account (terms agreed) and records it.
    pub async fn create(&self, request: AccountRequest) -> Result<AcmeAccount, Error> {
        services::accounts::create_account(
            self.peter.store(),
            self.peter.acme()?,
            self.peter.clock(),
            request,
        )
        .await
    }

    /// Records the account that already exists upstream for `key` (nothing
    /// new is registered).
    pub async fn import(
        &self,
        server: Option<AcmeServerId>,
        key: ParsedPrivateKey,
        contact: Option<String>,
    ) -> Result<AcmeAccount, Error> {
        services::accounts::import_account(
            self.peter.store(),
            self.peter.acme()?,
            self.peter.clock(),
            server,
            key,
            contact,
        )
        .await
    }

    /// Registers `key` (P-256) as a new account and records it.
    pub async fn upload(
        &self,
        server: Option<AcmeServerId>,
        key_pem: &str,
        contact: Option<String>,
    ) -> Result<AcmeAccount, Error> {
        let key = ParsedPrivateKey::from_pem(key_pem).map_err(|e| Error::InvalidField {
            field: "account_key_file_pem",
            message: e.to_string(),
        })?;
        self.create(AccountRequest {
            acme_server_id: server,
            contact,
            key: Some(key),
            ..Default::default()
        })
        .await
    }

    /// Applies a local mark.
    pub async fn mark(&self, id: AcmeAccountId, mark: AccountMark) -> Result<AcmeAccount, Error> {
        let store = self.peter.store();
        match mark {
            AccountMark::GlobalDefault => Ok(store.set_global_default_acme_account(id).await?),
            AccountMark::Active => Ok(store.set_acme_account_active(id, true).await?),
            AccountMark::Inactive => Ok(store.set_acme_account_active(id, false).await?),
        }
    }

    /// Changes an account's contact (told to its CA first; an empty
    /// contact removes it) and the key policy its orders use by default.
    pub async fn edit(&self, id: AcmeAccountId, edit: AccountEdit) -> Result<AcmeAccount, Error> {
        services::accounts::edit_account(self.peter.store(), self.peter.acme()?, id, edit).await
    }

    /// Whether the server knows the account's key (its URL is recorded when it does).
    pub async fn check(&self, id: AcmeAccountId) -> Result<bool, Error> {
        services::accounts::check_account(
            self.peter.store(),
            self.peter.acme()?,
            self.peter.clock(),
            id,
        )
        .await
    }

    /// Deactivates the account at its server and locally (permanent).
    pub async fn deactivate(&self, id: AcmeAccountId) -> Result<AcmeAccount, Error> {
        services::accounts::deactivate_account(
            self.peter.store(),
            self.peter.acme()?,
            self.peter.clock(),
            id,
        )
        .await
    }

    /// Rolls the account over to a new key (RFC 8555 keyChange) of
    /// `technology` (`None`: the current key's; EC P-256 or RSA).
    pub async fn change_key(
        &self,
        id: AcmeAccountId,
        technology: Option<KeyTechnology>,
    ) -> Result<AcmeAccount, Error> {
        services::accounts::change_account_key(
            self.peter.store(),
            self.peter.acme()?,
            self.peter.clock(),
            id,
            technology,
        )
        .await
    }

    /// The account key's file (`key.key` is PKCS#8 DER).
    pub async fn key_download(&self, id: AcmeAccountId, file: KeyFile) -> Result<Download, Error> {
        let account = self.get(id).await?;
        services::downloads::key_file(&account.key.key_pem, file.format())
    }
}
