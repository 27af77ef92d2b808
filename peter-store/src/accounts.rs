//! ACME servers and accounts.

use async_trait::async_trait;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, NotSet, PaginatorTrait, QueryFilter, QueryOrder,
    Set,
};

use peter_core::model::rules::{self};
use peter_core::model::*;
use peter_core::ports::*;

use crate::convert;
use crate::entities::*;
use crate::sql_store::{DbResultExt, SqlStore, db_err, paginate, strip_mailto};

#[async_trait]
impl AccountStore for SqlStore {
    async fn create_acme_server(&self, new: NewAcmeServer) -> StoreResult<AcmeServer> {
        let (_write, txn) = self.begin_write().await?;
        let has_default = self.default_server_id(&txn).await?.is_some();
        let is_default = new.is_default || !has_default;
        if is_default {
            acme_server::Entity::update_many()
                .col_expr(acme_server::Column::IsDefault, Expr::value(false))
                .exec(&txn)
                .await
                .db()?;
        }
        let row = acme_server::ActiveModel {
            id: NotSet,
            name: Set(new.name.trim().to_string()),
            directory_url: Set(new.directory_url.trim().to_string()),
            ca_bundle_pem: Set(new.ca_bundle_pem),
            is_default: Set(is_default),
            is_enabled: Set(true),
            created_at: Set(self.now()),
            terms_of_service: Set(None),
            external_account_required: Set(false),
            profiles: Set(None),
            supports_ari: Set(false),
            directory_checked_at: Set(None),
            ip_identifiers: Set(new.ip_identifiers),
        }
        .insert(&txn)
        .await
        .map_err(|e| match db_err(e) {
            StoreError::Conflict(_) => StoreError::Conflict(format!(
                "an ACME server named `{}` or with that directory URL already exists",
                new.name
            )),
            other => other,
        })?;
        self.operations_event_in(
            &txn,
            OperationsEventType::AcmeServerInsert,
            serde_json::json!({"acme_server.id": row.id, "name": row.name}),
            None,
        )
        .await?;
        txn.commit().await.db()?;
        Ok(convert::server(row))
    }

    async fn acme_server(&self, id: AcmeServerId) -> StoreResult<AcmeServer> {
        acme_server::Entity::find_by_id(id.0)
            .one(&self.db)
            .await
            .db()?
            .map(convert::server)
            .ok_or_else(|| StoreError::not_found("AcmeServer", id))
    }

    async fn acme_server_by_name(&self, name: &str) -> StoreResult<Option<AcmeServer>> {
        Ok(acme_server::Entity::find()
            .filter(acme_server::Column::Name.eq(name))
            .one(&self.db)
            .await
            .db()?
            .map(convert::server))
    }

    async fn list_acme_servers(&self) -> StoreResult<Vec<AcmeServer>> {
        Ok(acme_server::Entity::find()
            .order_by_asc(acme_server::Column::Id)
            .all(&self.db)
            .await
            .db()?
            .into_iter()
            .map(convert::server)
            .collect())
    }

    async fn set_default_acme_server(&self, id: AcmeServerId) -> StoreResult<AcmeServer> {
        let (_write, txn) = self.begin_write().await?;
        let row = acme_server::Entity::find_by_id(id.0)
            .one(&txn)
            .await
            .db()?
            .ok_or_else(|| StoreError::not_found("AcmeServer", id))?;
        acme_server::Entity::update_many()
            .col_expr(acme_server::Column::IsDefault, Expr::value(false))
            .exec(&txn)
            .await
            .db()?;
        let mut am: acme_server::ActiveModel = row.into();
        am.is_default = Set(true);
        am.is_enabled = Set(true);
        let row = am.update(&txn).await.db()?;
        self.operations_event_in(
            &txn,
            OperationsEventType::AcmeServerMarkDefault,
            serde_json::json!({"acme_server.id": row.id}),
            None,
        )
        .await?;
        txn.commit().await.db()?;
        Ok(convert::server(row))
    }

    async fn edit_acme_server(
        &self,
        id: AcmeServerId,
        name: Option<String>,
        ca_bundle_pem: Option<Option<String>>,
        ip_identifiers: Option<bool>,
    ) -> StoreResult<AcmeServer> {
        let (_write, txn) = self.begin_write().await?;
        let row = acme_server::Entity::find_by_id(id.0)
            .one(&txn)
            .await
            .db()?
            .ok_or_else(|| StoreError::not_found("AcmeServer", id))?;
        let mut am: acme_server::ActiveModel = row.into();
        if let Some(name) = &name {
            am.name = Set(name.trim().to_string());
        }
        if let Some(bundle) = ca_bundle_pem {
            am.ca_bundle_pem = Set(bundle);
        }
        if let Some(ip) = ip_identifiers {
            am.ip_identifiers = Set(ip);
        }
        let row = am.update(&txn).await.map_err(|e| match db_err(e) {
            StoreError::Conflict(_) => StoreError::Conflict(format!(
                "an ACME server named `{}` already exists",
                name.as_deref().unwrap_or_default()
            )),
            other => other,
        })?;
        self.operations_event_in(
            &txn,
            OperationsEventType::AcmeServerEdit,
            serde_json::json!({"acme_server.id": row.id, "name": row.name, "ip_identifiers": row.ip_identifiers}),
            None,
        )
        .await?;
        txn.commit().await.db()?;
        Ok(convert::server(row))
    }

    async fn record_acme_server_directory(
        &self,
        id: AcmeServerId,
        directory: &ServerDirectory,
    ) -> StoreResult<AcmeServer> {
        let (_write, txn) = self.begin_write().await?;
        let row = acme_server::Entity::find_by_id(id.0)
            .one(&txn)
            .await
            .db()?
            .ok_or_else(|| StoreError::not_found("AcmeServer", id))?;
        let mut am: acme_server::ActiveModel = row.into();
        am.terms_of_service = Set(directory.terms_of_service.clone());
        am.external_account_required = Set(directory.external_account_required);
        am.profiles = Set(Some(directory.profiles.join(",")));
        am.supports_ari = Set(directory.supports_ari);
        am.directory_checked_at = Set(Some(directory.checked_at));
        let row = am.update(&txn).await.db()?;
        txn.commit().await.db()?;
        Ok(convert::server(row))
    }

    async fn remove_acme_server(&self, id: AcmeServerId) -> StoreResult<()> {
        let (_write, txn) = self.begin_write().await?;
        let row = acme_server::Entity::find_by_id(id.0)
            .one(&txn)
            .await
            .db()?
            .ok_or_else(|| StoreError::not_found("AcmeServer", id))?;
        let accounts = acme_account::Entity::find()
            .filter(acme_account::Column::AcmeServerId.eq(id.0))
            .count(&txn)
            .await
            .db()?;
        if accounts > 0 {
            return Err(StoreError::Conflict(format!(
                "the ACME server `{}` has {accounts} account(s); it cannot be removed while they exist (disable it instead)",
                row.name
            )));
        }
        let others = acme_server::Entity::find()
            .filter(acme_server::Column::Id.ne(id.0))
            .count(&txn)
            .await
            .db()?;
        if row.is_default && others > 0 {
            return Err(StoreError::Conflict(format!(
                "the ACME server `{}` is the default: make another server the default first",
                row.name
            )));
        }
        acme_server::Entity::delete_by_id(id.0)
            .exec(&txn)
            .await
            .db()?;
        self.operations_event_in(
            &txn,
            OperationsEventType::AcmeServerRemove,
            serde_json::json!({"acme_server.id": row.id, "name": row.name}),
            None,
        )
        .await?;
        txn.commit().await.db()?;
        Ok(())
    }

    async fn set_acme_server_enabled(
        &self,
        id: AcmeServerId,
        enabled: bool,
    ) -> StoreResult<AcmeServer> {
        let (_write, txn) = self.begin_write().await?;
        let row = acme_server::Entity::find_by_id(id.0)
            .one(&txn)
            .await
            .db()?
            .ok_or_else(|| StoreError::not_found("AcmeServer", id))?;
        if row.is_enabled == enabled {
            return Err(if enabled {
                rules::TransitionError::AlreadyActive
            } else {
                rules::TransitionError::AlreadyInactive
            }
            .into());
        }
        let mut am: acme_server::ActiveModel = row.into();
        am.is_enabled = Set(enabled);
        let row = am.update(&txn).await.db()?;
        txn.commit().await.db()?;
        Ok(convert::server(row))
    }

    async fn create_acme_account(&self, new: NewAcmeAccount) -> StoreResult<AcmeAccount> {
        let (_write, txn) = self.begin_write().await?;
        acme_server::Entity::find_by_id(new.acme_server_id.0)
            .one(&txn)
            .await
            .db()?
            .ok_or_else(|| StoreError::not_found("AcmeServer", new.acme_server_id))?;
        let now = self.now();
        let account = acme_account::ActiveModel {
            id: NotSet,
            acme_server_id: Set(new.acme_server_id.0),
            contact: Set(strip_mailto(new.contact)),
            account_url: Set(new.account_url),
            terms_of_service: Set(new.terms_of_service),
            is_active: Set(true),
            is_global_default: Set(false),
            private_key_technology: Set(new.private_key_technology.as_str().to_string()),
            private_key_cycle: Set(new.private_key_cycle.as_str().to_string()),
            deactivated_at: Set(None),
            created_at: Set(now),
        }
        .insert(&txn)
        .await
        .map_err(|e| match db_err(e) {
            StoreError::Conflict(_) => {
                StoreError::Conflict("an account with that URL already exists".into())
            }
            other => other,
        })?;
        let key = acme_account_key::ActiveModel {
            id: NotSet,
            acme_account_id: Set(account.id),
            is_active: Set(true),
            key_technology: Set(new.key.technology.as_str().to_string()),
            key_pem: Set(new.key.pem().to_string()),
            spki_sha256: Set(new.key.spki_sha256.clone()),
            source: Set(new.key_source.as_str().to_string()),
            created_at: Set(now),
            deactivated_at: Set(None),
        }
        .insert(&txn)
        .await
        .map_err(|e| match db_err(e) {
            StoreError::Conflict(_) => {
                StoreError::Conflict("this account key already belongs to an account".into())
            }
            other => other,
        })?;
        self.operations_event_in(
            &txn,
            OperationsEventType::AcmeAccountInsert,
            serde_json::json!({"acme_account.id": account.id, "acme_server.id": account.acme_server_id}),
            None,
        )
        .await?;
        txn.commit().await.db()?;
        convert::account(account, key)
    }

    async fn acme_account(&self, id: AcmeAccountId) -> StoreResult<AcmeAccount> {
        self.account_in(&self.db, id).await
    }

    async fn list_acme_accounts(&self, page: Page) -> StoreResult<Paged<AcmeAccount>> {
        let (rows, total) = paginate(
            acme_account::Entity::find().order_by_asc(acme_account::Column::Id),
            page,
            &self.db,
        )
        .await?;
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let keys = acme_account_key::Entity::find()
            .filter(acme_account_key::Column::AcmeAccountId.is_in(ids))
            .filter(acme_account_key::Column::IsActive.eq(true))
            .all(&self.db)
            .await
            .db()?;
        let mut items = Vec::with_capacity(rows.len());
        for row in rows {
            let key = keys
                .iter()
                .find(|k| k.acme_account_id == row.id)
                .cloned()
                .ok_or_else(|| {
                    StoreError::Corrupt(format!("AcmeAccount {} has no active key", row.id))
                })?;
            items.push(convert::account(row, key)?);
        }
        Ok(Paged {
            items,
            total_items: total,
            page,
        })
    }

    async fn set_acme_account_active(
        &self,
        id: AcmeAccountId,
        active: bool,
    ) -> StoreResult<AcmeAccount> {
        let (_write, txn) = self.begin_write().await?;
        let account = self.account_in(&txn, id).await?;
        rules::ensure_account_markable(&account, active)?;
        acme_account::Entity::update_many()
            .col_expr(acme_account::Column::IsActive, Expr::value(active))
            .col_expr(
                acme_account::Column::IsGlobalDefault,
                Expr::value(active && account.is_global_default),
            )
            .filter(acme_account::Column::Id.eq(id.0))
            .exec(&txn)
            .await
            .db()?;
        if !active && account.is_global_default {
            self.operations_event_in(
                &txn,
                OperationsEventType::AcmeAccountMarkNotDefault,
                serde_json::json!({"acme_account.id": id.0}),
                None,
            )
            .await?;
        }
        self.operations_event_in(
            &txn,
            if active {
                OperationsEventType::AcmeAccountMarkActive
            } else {
                OperationsEventType::AcmeAccountMarkInactive
            },
            serde_json::json!({"acme_account.id": id.0}),
            None,
        )
        .await?;
        let account = self.account_in(&txn, id).await?;
        txn.commit().await.db()?;
        Ok(account)
    }

    async fn edit_acme_account(
        &self,
        id: AcmeAccountId,
        contact: Option<Option<String>>,
        private_key_technology: Option<KeyTechnology>,
        private_key_cycle: Option<PrivateKeyCycle>,
    ) -> StoreResult<AcmeAccount> {
        let (_write, txn) = self.begin_write().await?;
        let row = acme_account::Entity::find_by_id(id.0)
            .one(&txn)
            .await
            .db()?
            .ok_or_else(|| StoreError::not_found("AcmeAccount", id))?;
        let mut am: acme_account::ActiveModel = row.into();
        if let Some(contact) = contact {
            am.contact = Set(strip_mailto(contact).filter(|c| !c.is_empty()));
        }
        if let Some(t) = private_key_technology {
            am.private_key_technology = Set(t.as_str().to_string());
        }
        if let Some(c) = private_key_cycle {
            am.private_key_cycle = Set(c.as_str().to_string());
        }
        am.update(&txn).await.db()?;
        self.operations_event_in(
            &txn,
            OperationsEventType::AcmeAccountEdit,
            serde_json::json!({"acme_account.id": id.0}),
            None,
        )
        .await?;
        let account = self.account_in(&txn, id).await?;
        txn.commit().await.db()?;
        Ok(account)
    }

    async fn set_global_default_acme_account(&self, id: AcmeAccountId) -> StoreResult<AcmeAccount> {
        let (_write, txn) = self.begin_write().await?;
        let account = self.account_in(&txn, id).await?;
        if account.is_global_default {
            return Ok(account);
        }
        let default_server = self.default_server_id(&txn).await?;
        rules::ensure_can_be_global_default(&account, default_server)?;
        let previous = acme_account::Entity::find()
            .filter(acme_account::Column::IsGlobalDefault.eq(true))
            .all(&txn)
            .await
            .db()?;
        for p in previous {
            let pid = p.id;
            let mut am: acme_account::ActiveModel = p.into();
            am.is_global_default = Set(false);
            am.update(&txn).await.db()?;
            self.operations_event_in(
                &txn,
                OperationsEventType::AcmeAccountMarkNotDefault,
                serde_json::json!({"acme_account.id": pid}),
                None,
            )
            .await?;
        }
        acme_account::Entity::update_many()
            .col_expr(acme_account::Column::IsGlobalDefault, Expr::value(true))
            .filter(acme_account::Column::Id.eq(id.0))
            .exec(&txn)
            .await
            .db()?;
        self.operations_event_in(
            &txn,
            OperationsEventType::AcmeAccountMarkDefault,
            serde_json::json!({"acme_account.id": id.0}),
            None,
        )
        .await?;
        let account = self.account_in(&txn, id).await?;
        txn.commit().await.db()?;
        Ok(account)
    }

    async fn global_default_acme_account(&self) -> StoreResult<Option<AcmeAccount>> {
        let row = acme_account::Entity::find()
            .filter(acme_account::Column::IsGlobalDefault.eq(true))
            .one(&self.db)
            .await
            .db()?;
        match row {
            Some(r) => Ok(Some(self.account_in(&self.db, AcmeAccountId(r.id)).await?)),
            None => Ok(None),
        }
    }

    async fn deactivate_acme_account(&self, id: AcmeAccountId) -> StoreResult<AcmeAccount> {
        let (_write, txn) = self.begin_write().await?;
        let row = acme_account::Entity::find_by_id(id.0)
            .one(&txn)
            .await
            .db()?
            .ok_or_else(|| StoreError::not_found("AcmeAccount", id))?;
        if row.deactivated_at.is_some() {
            return Err(StoreError::Transition(
                rules::TransitionError::AccountDeactivated,
            ));
        }
        let mut am: acme_account::ActiveModel = row.into();
        am.is_active = Set(false);
        am.is_global_default = Set(false);
        am.deactivated_at = Set(Some(self.now()));
        am.update(&txn).await.db()?;
        txn.commit().await.db()?;
        self.account_in(&self.db, id).await
    }

    async fn rotate_acme_account_key(
        &self,
        id: AcmeAccountId,
        key: &peter_core::formats::ParsedPrivateKey,
        source: AcmeAccountKeySource,
    ) -> StoreResult<AcmeAccount> {
        let (_write, txn) = self.begin_write().await?;
        acme_account::Entity::find_by_id(id.0)
            .one(&txn)
            .await
            .db()?
            .ok_or_else(|| StoreError::not_found("AcmeAccount", id))?;
        let now = self.now();
        acme_account_key::Entity::update_many()
            .col_expr(acme_account_key::Column::IsActive, Expr::value(false))
            .col_expr(acme_account_key::Column::DeactivatedAt, Expr::value(now))
            .filter(acme_account_key::Column::AcmeAccountId.eq(id.0))
            .filter(acme_account_key::Column::IsActive.eq(true))
            .exec(&txn)
            .await
            .db()?;
        acme_account_key::ActiveModel {
            id: NotSet,
            acme_account_id: Set(id.0),
            is_active: Set(true),
            key_technology: Set(key.technology.as_str().to_string()),
            key_pem: Set(key.pem().to_string()),
            spki_sha256: Set(key.spki_sha256.clone()),
            source: Set(source.as_str().to_string()),
            created_at: Set(now),
            deactivated_at: Set(None),
        }
        .insert(&txn)
        .await
        .db()?;
        txn.commit().await.db()?;
        self.account_in(&self.db, id).await
    }

    async fn set_acme_account_url(&self, id: AcmeAccountId, url: &str) -> StoreResult<AcmeAccount> {
        let (_write, txn) = self.begin_write().await?;
        let row = acme_account::Entity::find_by_id(id.0)
            .one(&txn)
            .await
            .db()?
            .ok_or_else(|| StoreError::not_found("AcmeAccount", id))?;
        let mut am: acme_account::ActiveModel = row.into();
        am.account_url = Set(Some(url.to_string()));
        am.update(&txn).await.db()?;
        txn.commit().await.db()?;
        self.account_in(&self.db, id).await
    }

    async fn apply_startup_rules(&self) -> StoreResult<StartupReport> {
        let (_write, txn) = self.begin_write().await?;
        let default_server = self.default_server_id(&txn).await?;
        let rows = acme_account::Entity::find()
            .filter(acme_account::Column::IsGlobalDefault.eq(true))
            .all(&txn)
            .await
            .db()?;
        let mut accounts = Vec::new();
        for r in rows {
            accounts.push(self.account_in(&txn, AcmeAccountId(r.id)).await?);
        }
        let unset = rules::global_defaults_to_unset(&accounts, default_server);
        for id in &unset {
            acme_account::Entity::update_many()
                .col_expr(acme_account::Column::IsGlobalDefault, Expr::value(false))
                .filter(acme_account::Column::Id.eq(id.0))
                .exec(&txn)
                .await
                .db()?;
            self.operations_event_in(
                &txn,
                OperationsEventType::AcmeAccountMarkNotDefault,
                serde_json::json!({"acme_account.id": id.0, "reason": "not on the default ACME server"}),
                None,
            )
            .await?;
        }
        txn.commit().await.db()?;
        Ok(StartupReport {
            unset_global_defaults: unset,
        })
    }
}
