//! ACME servers and the accounts registered with them.

use async_trait::async_trait;

use super::{Page, Paged, StoreResult};
use crate::model::*;

/// What the startup reconciliation changed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StartupReport {
    /// Accounts that stopped being the global default.
    pub unset_global_defaults: Vec<AcmeAccountId>,
}

/// ACME servers and the accounts registered with them.
#[async_trait]
pub trait AccountStore: Send + Sync {
    /// Records an ACME server; a taken name or URL is a conflict. When
    /// `is_default` is set, the previous default stops being it.
    async fn create_acme_server(&self, new: NewAcmeServer) -> StoreResult<AcmeServer>;
    /// One server.
    async fn acme_server(&self, id: AcmeServerId) -> StoreResult<AcmeServer>;
    /// A server by name.
    async fn acme_server_by_name(&self, name: &str) -> StoreResult<Option<AcmeServer>>;
    /// Every server, by id.
    async fn list_acme_servers(&self) -> StoreResult<Vec<AcmeServer>>;
    /// Makes a server the only default.
    async fn set_default_acme_server(&self, id: AcmeServerId) -> StoreResult<AcmeServer>;
    /// Renames a server, replaces the CA bundle trusted for its TLS
    /// (`Some(None)` trusts the public roots again) and/or turns IP
    /// identifiers on or off. A taken name is a conflict.
    async fn edit_acme_server(
        &self,
        id: AcmeServerId,
        name: Option<String>,
        ca_bundle_pem: Option<Option<String>>,
        ip_identifiers: Option<bool>,
    ) -> StoreResult<AcmeServer>;
    /// Records what the server's directory offers now.
    async fn record_acme_server_directory(
        &self,
        id: AcmeServerId,
        directory: &ServerDirectory,
    ) -> StoreResult<AcmeServer>;
    /// Removes a server no account uses (a conflict otherwise). The default
    /// server is removed only when it is the last one.
    async fn remove_acme_server(&self, id: AcmeServerId) -> StoreResult<()>;
    /// Enables or disables a server.
    async fn set_acme_server_enabled(
        &self,
        id: AcmeServerId,
        enabled: bool,
    ) -> StoreResult<AcmeServer>;
    /// Marks an account active or inactive locally (rules:
    /// [`rules::ensure_account_markable`](crate::model::rules::ensure_account_markable));
    /// an inactive account stops being the global default.
    async fn set_acme_account_active(
        &self,
        id: AcmeAccountId,
        active: bool,
    ) -> StoreResult<AcmeAccount>;
    /// Changes an account's contact (`Some(None)` removes it) and the
    /// technology and cycle of the certificate keys it uses by default.
    async fn edit_acme_account(
        &self,
        id: AcmeAccountId,
        contact: Option<Option<String>>,
        private_key_technology: Option<KeyTechnology>,
        private_key_cycle: Option<PrivateKeyCycle>,
    ) -> StoreResult<AcmeAccount>;
    /// Records an account with its key. A key already used by an account is a conflict.
    async fn create_acme_account(&self, new: NewAcmeAccount) -> StoreResult<AcmeAccount>;
    /// One account, with its active key.
    async fn acme_account(&self, id: AcmeAccountId) -> StoreResult<AcmeAccount>;
    /// A page of accounts.
    async fn list_acme_accounts(&self, page: Page) -> StoreResult<Paged<AcmeAccount>>;
    /// Makes the account the global default (it must be on the default server).
    async fn set_global_default_acme_account(&self, id: AcmeAccountId) -> StoreResult<AcmeAccount>;
    /// The global default account, if any.
    async fn global_default_acme_account(&self) -> StoreResult<Option<AcmeAccount>>;
    /// Records that the account was deactivated upstream (permanent); it
    /// stops being the global default.
    async fn deactivate_acme_account(&self, id: AcmeAccountId) -> StoreResult<AcmeAccount>;
    /// Makes `key` the account's active key; the previous one is kept, inactive.
    async fn rotate_acme_account_key(
        &self,
        id: AcmeAccountId,
        key: &crate::formats::ParsedPrivateKey,
        source: AcmeAccountKeySource,
    ) -> StoreResult<AcmeAccount>;
    /// Records the account URL the server reports for the account's key.
    async fn set_acme_account_url(&self, id: AcmeAccountId, url: &str) -> StoreResult<AcmeAccount>;
    /// Applies the startup rules (a global default on a non-default server is unset).
    async fn apply_startup_rules(&self) -> StoreResult<StartupReport>;
}
