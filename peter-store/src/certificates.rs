//! Certificates and the private keys they use: imports, marks, key compromise.

use async_trait::async_trait;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DbBackend, EntityTrait, NotSet, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};

use peter_core::dns::DomainName;
use peter_core::model::rules::{self, CertificateFlags, CertificateMark, PrivateKeyFlags};
use peter_core::model::*;
use peter_core::ports::*;

use crate::convert;
use crate::entities::*;
use crate::sql_store::{DbResultExt, SqlStore, find_or_insert, paginate};

#[async_trait]
impl CertificateStore for SqlStore {
    async fn insert_private_key(&self, new: NewPrivateKey) -> StoreResult<Created<PrivateKey>> {
        let (_write, txn) = self.begin_write().await?;
        let row = self.private_key_in(&txn, &new).await?;
        txn.commit().await.db()?;
        Ok(Created {
            id: convert::private_key(row.id)?,
            created: row.created,
        })
    }

    async fn private_key(&self, id: PrivateKeyId) -> StoreResult<PrivateKey> {
        let row = private_key::Entity::find_by_id(id.0)
            .one(&self.db)
            .await
            .db()?
            .ok_or_else(|| StoreError::not_found("PrivateKey", id))?;
        convert::private_key(row)
    }

    async fn list_private_keys(&self, page: Page) -> StoreResult<Paged<PrivateKey>> {
        let (rows, total) = paginate(
            private_key::Entity::find().order_by_desc(private_key::Column::Id),
            page,
            &self.db,
        )
        .await?;
        let items = rows
            .into_iter()
            .map(convert::private_key)
            .collect::<Result<_, _>>()?;
        Ok(Paged {
            items,
            total_items: total,
            page,
        })
    }

    async fn set_private_key_active(
        &self,
        id: PrivateKeyId,
        active: bool,
    ) -> StoreResult<PrivateKey> {
        let (_write, txn) = self.begin_write().await?;
        let row = private_key::Entity::find_by_id(id.0)
            .one(&txn)
            .await
            .db()?
            .ok_or_else(|| StoreError::not_found("PrivateKey", id))?;
        let current = convert::private_key(row.clone())?;
        let next = PrivateKeyFlags::from(&current).set_active(active)?;
        let mut am: private_key::ActiveModel = row.into();
        am.is_active = Set(next.is_active);
        let row = am.update(&txn).await.db()?;
        self.operations_event_in(
            &txn,
            OperationsEventType::PrivateKeyMark,
            serde_json::json!({"private_key.id": id.0, "is_active": active}),
            None,
        )
        .await?;
        txn.commit().await.db()?;
        convert::private_key(row)
    }

    async fn private_key_by_spki(&self, spki_sha256: &str) -> StoreResult<Option<PrivateKey>> {
        let row = private_key::Entity::find()
            .filter(private_key::Column::SpkiSha256.eq(spki_sha256))
            .one(&self.db)
            .await
            .db()?;
        row.map(convert::private_key).transpose()
    }

    async fn latest_private_key_for_cycle(
        &self,
        cycle: PrivateKeyCycle,
        owner: Option<AcmeAccountId>,
    ) -> StoreResult<Option<PrivateKey>> {
        let mut select = private_key::Entity::find()
            .filter(private_key::Column::Cycle.eq(cycle.as_str()))
            .filter(private_key::Column::IsActive.eq(true))
            .filter(private_key::Column::IsCompromised.eq(false));
        select = match owner {
            Some(a) => select.filter(private_key::Column::AcmeAccountIdOwner.eq(a.0)),
            None => select.filter(private_key::Column::AcmeAccountIdOwner.is_null()),
        };
        let row = select
            .order_by_desc(private_key::Column::CreatedAt)
            .order_by_desc(private_key::Column::Id)
            .one(&self.db)
            .await
            .db()?;
        row.map(convert::private_key).transpose()
    }

    async fn mark_private_key_compromised(
        &self,
        id: PrivateKeyId,
    ) -> StoreResult<CompromiseOutcome> {
        let (_write, txn) = self.begin_write().await?;
        let row = private_key::Entity::find_by_id(id.0)
            .one(&txn)
            .await
            .db()?
            .ok_or_else(|| StoreError::not_found("PrivateKey", id))?;
        let current = convert::private_key(row.clone())?;
        let next = PrivateKeyFlags::from(&current).compromise()?;
        let mut am: private_key::ActiveModel = row.into();
        am.is_active = Set(next.is_active);
        am.is_compromised = Set(next.is_compromised);
        let row = am.update(&txn).await.db()?;
        self.check_fault("compromise:after_key")?;
        let certs = certificate_signed::Entity::find()
            .filter(certificate_signed::Column::PrivateKeyId.eq(id.0))
            .all(&txn)
            .await
            .db()?;
        let mut deactivated = Vec::new();
        let mut domains = Vec::new();
        for cert in certs {
            let flags = convert::certificate(cert.clone())?
                .flags()
                .key_compromised();
            if cert.is_active {
                deactivated.push(CertificateSignedId(cert.id));
            }
            domains.extend(self.domains_of_set(&txn, cert.unique_fqdn_set_id).await?);
            let mut am: certificate_signed::ActiveModel = cert.into();
            am.is_active = Set(flags.is_active);
            am.is_deactivated = Set(flags.is_deactivated);
            am.is_compromised_private_key = Set(flags.is_compromised_private_key);
            am.update(&txn).await.db()?;
        }
        domains.sort_unstable();
        domains.dedup();
        self.refresh_latest_in(&txn, &domains).await?;
        self.operations_event_in(
            &txn,
            OperationsEventType::PrivateKeyMarkCompromised,
            serde_json::json!({
                "private_key.id": id.0,
                "certificate_signed.ids": deactivated.iter().map(|c| c.0).collect::<Vec<_>>(),
            }),
            None,
        )
        .await?;
        txn.commit().await.db()?;
        Ok(CompromiseOutcome {
            private_key: convert::private_key(row)?,
            deactivated_certificates: deactivated,
        })
    }

    async fn import_certificate(&self, import: &CertificateImport) -> StoreResult<ImportOutcome> {
        let (_write, txn) = self.begin_write().await?;
        let (set, domains) = self.fqdn_set_in(&txn, &import.unique_fqdn_set).await?;
        let key = self
            .private_key_in(
                &txn,
                &NewPrivateKey {
                    key: import.private_key.clone(),
                    source: PrivateKeySource::Imported,
                    cycle: PrivateKeyCycle::SingleUse,
                    acme_account_id_owner: None,
                },
            )
            .await?;
        self.check_fault("import:after_key")?;
        let mut cas = Vec::new();
        let mut chain_models = Vec::new();
        for ca in &import.chain.intermediates {
            let row = self.certificate_ca_in(&txn, ca).await?;
            chain_models.push(row.id.clone());
            cas.push(Created {
                id: CertificateCaId(row.id.id),
                created: row.created,
            });
        }
        if let Some(root) = &import.chain.root {
            let row = self.certificate_ca_in(&txn, root).await?;
            cas.push(Created {
                id: CertificateCaId(row.id.id),
                created: row.created,
            });
        }
        let chain = if chain_models.is_empty() {
            None
        } else {
            Some(
                self.chain_in(&txn, &chain_models, &import.chain_display_name)
                    .await?,
            )
        };
        let cert = &import.certificate;
        let flags = if key.id.is_compromised {
            CertificateFlags::NEW.key_compromised()
        } else {
            CertificateFlags::NEW
        };
        let technology = cert.key_technology.unwrap_or(import.private_key.technology);
        let cert_row = find_or_insert(
            &txn,
            certificate_signed::Entity::find().filter(
                certificate_signed::Column::FingerprintSha1.eq(cert.fingerprint_sha1.clone()),
            ),
            certificate_signed::ActiveModel {
                id: NotSet,
                cert_pem: Set(cert.pem().to_string()),
                fingerprint_sha1: Set(cert.fingerprint_sha1.clone()),
                spki_sha256: Set(cert.spki_sha256.clone()),
                serial: Set(cert.serial.clone()),
                cert_subject: Set(cert.subject.clone()),
                cert_issuer: Set(cert.issuer.clone()),
                not_before: Set(cert.not_before),
                not_after: Set(cert.not_after),
                is_single_domain_cert: Set(import.unique_fqdn_set.is_single_domain()),
                key_technology: Set(technology.as_str().to_string()),
                is_active: Set(flags.is_active),
                is_deactivated: Set(flags.is_deactivated),
                is_revoked: Set(flags.is_revoked),
                is_compromised_private_key: Set(flags.is_compromised_private_key),
                revoked_upstream_at: Set(None),
                ari_window_start: Set(None),
                ari_window_end: Set(None),
                ari_retry_after: Set(None),
                ari_explanation_url: Set(None),
                ari_checked_at: Set(None),
                private_key_id: Set(key.id.id),
                unique_fqdn_set_id: Set(set.id.id),
                certificate_request_id: Set(None),
                created_at: Set(self.now()),
            },
            [certificate_signed::Column::FingerprintSha1],
        )
        .await?;
        let cert_created = cert_row.created;
        let cert_row = cert_row.id;
        self.check_fault("import:after_certificate")?;
        let mut offered = Vec::new();
        if let Some(chain) = &chain {
            offered.push(chain.id.id);
        }
        for alternate in &import.alternate_chains {
            if alternate.intermediates.is_empty() {
                continue;
            }
            let mut models = Vec::new();
            for ca in &alternate.intermediates {
                let row = self.certificate_ca_in(&txn, ca).await?;
                models.push(row.id);
            }
            if let Some(root) = &alternate.root {
                self.certificate_ca_in(&txn, root).await?;
            }
            let alt = self
                .chain_in(&txn, &models, "ACME Server Response (alternate)")
                .await?;
            offered.push(alt.id.id);
        }
        if !offered.is_empty() {
            let has_chain = certificate_signed_chain::Entity::find()
                .filter(certificate_signed_chain::Column::CertificateSignedId.eq(cert_row.id))
                .count(&txn)
                .await
                .db()?
                > 0;
            for (index, chain_id) in offered.iter().enumerate() {
                certificate_signed_chain::Entity::insert(certificate_signed_chain::ActiveModel {
                    certificate_signed_id: Set(cert_row.id),
                    certificate_ca_chain_id: Set(*chain_id),
                    is_upstream_default: Set(!has_chain && index == 0),
                })
                .on_conflict_do_nothing_on([
                    certificate_signed_chain::Column::CertificateSignedId,
                    certificate_signed_chain::Column::CertificateCaChainId,
                ])
                .exec_without_returning(&txn)
                .await
                .db()?;
            }
        }
        if let Some(order_id) = import.acme_order_id {
            let order = acme_order::Entity::find_by_id(order_id.0)
                .one(&txn)
                .await
                .db()?
                .ok_or_else(|| StoreError::not_found("AcmeOrder", order_id))?;
            let mut am: acme_order::ActiveModel = order.into();
            am.certificate_signed_id = Set(Some(cert_row.id));
            am.private_key_id = Set(Some(key.id.id));
            am.processing_status = Set(AcmeOrderProcessingStatus::CertificateDownloaded
                .as_str()
                .into());
            am.is_processing = Set(None);
            am.updated_at = Set(self.now());
            am.update(&txn).await.db()?;
            if let Some(csr_id) = import.certificate_request_id {
                certificate_signed::Entity::update_many()
                    .col_expr(
                        certificate_signed::Column::CertificateRequestId,
                        Expr::value(csr_id.0),
                    )
                    .filter(certificate_signed::Column::Id.eq(cert_row.id))
                    .exec(&txn)
                    .await
                    .db()?;
            }
        }
        if cert_created {
            let domain_ids: Vec<i64> = domains.iter().map(|d| d.id.0).collect();
            self.refresh_latest_in(&txn, &domain_ids).await?;
            self.operations_event_in(
                &txn,
                OperationsEventType::CertificateSignedInsert,
                serde_json::json!({
                    "certificate_signed.id": cert_row.id,
                    "unique_fqdn_set.id": set.id.id,
                    "is_expired": import.is_expired,
                }),
                None,
            )
            .await?;
        }
        txn.commit().await.db()?;
        Ok(ImportOutcome {
            certificate_signed: Created {
                id: CertificateSignedId(cert_row.id),
                created: cert_created,
            },
            private_key: Created {
                id: PrivateKeyId(key.id.id),
                created: key.created,
            },
            certificate_ca_chain: chain.map(|c| Created {
                id: CertificateCaChainId(c.id.id),
                created: c.created,
            }),
            certificate_cas: cas,
            unique_fqdn_set: Created {
                id: UniqueFqdnSetId(set.id.id),
                created: set.created,
            },
            domains,
            is_expired: import.is_expired,
        })
    }

    async fn certificate_signed(&self, id: CertificateSignedId) -> StoreResult<CertificateSigned> {
        convert::certificate(self.certificate_model(&self.db, id).await?)
    }

    async fn list_certificates_signed(
        &self,
        filter: CertificateFilter,
        page: Page,
    ) -> StoreResult<Paged<CertificateSigned>> {
        use certificate_signed::Column as C;
        let mut select = certificate_signed::Entity::find();
        let now = self.now();
        if let Some(status) = filter.status {
            use sea_orm::sea_query::ExprTrait;
            let revoked = C::IsRevoked.eq(true).or(C::RevokedUpstreamAt.is_not_null());
            select = match status {
                CertificateStatus::Revoked => select.filter(revoked),
                CertificateStatus::Expired => {
                    select.filter(revoked.not()).filter(C::NotAfter.lte(now))
                }
                CertificateStatus::Active | CertificateStatus::Inactive => select
                    .filter(revoked.not())
                    .filter(C::NotAfter.gt(now))
                    .filter(C::IsActive.eq(status == CertificateStatus::Active)),
            };
        }
        if let Some(active) = filter.is_active {
            select = select.filter(C::IsActive.eq(active));
        }
        if let Some(at) = filter.expiring_before {
            select = select
                .filter(C::IsActive.eq(true))
                .filter(C::NotAfter.lt(at));
        }
        if let Some(d) = filter.domain {
            select =
                select.filter(C::UniqueFqdnSetId.in_subquery(crate::listings::sets_with_domain(d)));
        }
        if let Some(set) = filter.unique_fqdn_set {
            select = select.filter(C::UniqueFqdnSetId.eq(set.0));
        }
        if let Some(k) = filter.private_key {
            select = select.filter(C::PrivateKeyId.eq(k.0));
        }
        if let Some(a) = filter.acme_account {
            select = select.filter(
                C::Id.in_subquery(
                    sea_orm::sea_query::Query::select()
                        .column(acme_order::Column::CertificateSignedId)
                        .from(acme_order::Entity)
                        .and_where(acme_order::Column::AcmeAccountId.eq(a.0))
                        .and_where(acme_order::Column::CertificateSignedId.is_not_null())
                        .to_owned(),
                ),
            );
        }
        let select = if filter.expiring_before.is_some() {
            select.order_by_asc(C::NotAfter).order_by_asc(C::Id)
        } else {
            select.order_by_desc(C::Id)
        };
        let (rows, total) = paginate(select, page, &self.db).await?;
        let items = rows
            .into_iter()
            .map(convert::certificate)
            .collect::<Result<_, _>>()?;
        Ok(Paged {
            items,
            total_items: total,
            page,
        })
    }

    async fn mark_certificate_signed(
        &self,
        id: CertificateSignedId,
        mark: CertificateMark,
    ) -> StoreResult<CertificateSigned> {
        let (_write, txn) = self.begin_write().await?;
        let row = self.certificate_model(&txn, id).await?;
        let next = convert::certificate(row.clone())?.flags().mark(mark)?;
        let set_id = row.unique_fqdn_set_id;
        let mut am: certificate_signed::ActiveModel = row.into();
        am.is_active = Set(next.is_active);
        am.is_deactivated = Set(next.is_deactivated);
        am.is_revoked = Set(next.is_revoked);
        let row = am.update(&txn).await.db()?;
        let domains = self.domains_of_set(&txn, set_id).await?;
        self.refresh_latest_in(&txn, &domains).await?;
        self.operations_event_in(
            &txn,
            OperationsEventType::CertificateSignedMark,
            serde_json::json!({"certificate_signed.id": id.0, "mark": format!("{mark:?}").to_lowercase()}),
            None,
        )
        .await?;
        txn.commit().await.db()?;
        convert::certificate(row)
    }

    async fn latest_active_certificate_for_domain(
        &self,
        name: &DomainName,
    ) -> StoreResult<Option<CertificateSigned>> {
        // One round trip: the domain row's pointers are kept current by every
        // change, so the answer is the later-expiring of the two it names.
        let backend = self.db.get_database_backend();
        let placeholder = match backend {
            DbBackend::Postgres => "$1",
            _ => "?",
        };
        let sql = format!(
            "SELECT cs.* FROM certificate_signed cs \
             JOIN domain d ON cs.id = d.certificate_signed_id_latest_single \
                           OR cs.id = d.certificate_signed_id_latest_multi \
             WHERE d.domain_name = {placeholder} \
             ORDER BY cs.not_after DESC, cs.id DESC LIMIT 1"
        );
        let row = certificate_signed::Entity::find()
            .from_raw_sql(sea_orm::Statement::from_sql_and_values(
                backend,
                sql,
                [name.as_str().into()],
            ))
            .one(&self.db)
            .await
            .db()?;
        row.map(convert::certificate).transpose()
    }

    async fn set_certificate_renewal_window(
        &self,
        id: CertificateSignedId,
        window: &RenewalWindow,
    ) -> StoreResult<CertificateSigned> {
        let (_write, txn) = self.begin_write().await?;
        let row = self.certificate_model(&txn, id).await?;
        let mut am: certificate_signed::ActiveModel = row.into();
        am.ari_window_start = Set(Some(window.start));
        am.ari_window_end = Set(Some(window.end));
        am.ari_retry_after = Set(Some(window.retry_after));
        am.ari_explanation_url = Set(window.explanation_url.clone());
        am.ari_checked_at = Set(Some(window.fetched_at));
        let row = am.update(&txn).await.db()?;
        txn.commit().await.db()?;
        convert::certificate(row)
    }

    async fn set_certificate_revoked_upstream(
        &self,
        id: CertificateSignedId,
    ) -> StoreResult<CertificateSigned> {
        let (_write, txn) = self.begin_write().await?;
        let row = self.certificate_model(&txn, id).await?;
        if row.revoked_upstream_at.is_some() {
            return Err(StoreError::Transition(
                rules::TransitionError::AlreadyRevokedUpstream,
            ));
        }
        // Revoked at the CA means never served again: the local mark follows
        // in the same transaction, and the domains' pointers move off it.
        let next = convert::certificate(row.clone())?
            .flags()
            .revoked_upstream();
        let set_id = row.unique_fqdn_set_id;
        let mut am: certificate_signed::ActiveModel = row.into();
        am.revoked_upstream_at = Set(Some(self.now()));
        am.is_active = Set(next.is_active);
        am.is_deactivated = Set(next.is_deactivated);
        am.is_revoked = Set(next.is_revoked);
        let row = am.update(&txn).await.db()?;
        let domains = self.domains_of_set(&txn, set_id).await?;
        self.refresh_latest_in(&txn, &domains).await?;
        self.operations_event_in(
            &txn,
            OperationsEventType::CertificateSignedMark,
            serde_json::json!({"certificate_signed.id": id.0, "mark": "revoked", "upstream": true}),
            None,
        )
        .await?;
        txn.commit().await.db()?;
        convert::certificate(row)
    }

    async fn acme_order_for_certificate(
        &self,
        id: CertificateSignedId,
    ) -> StoreResult<Option<AcmeOrder>> {
        let row = acme_order::Entity::find()
            .filter(acme_order::Column::CertificateSignedId.eq(id.0))
            .order_by_desc(acme_order::Column::Id)
            .one(&self.db)
            .await
            .db()?;
        row.map(convert::order).transpose()
    }

    async fn certificate_chains(
        &self,
        id: CertificateSignedId,
    ) -> StoreResult<Vec<CertificateChainOffer>> {
        self.certificate_model(&self.db, id).await?;
        let links = certificate_signed_chain::Entity::find()
            .filter(certificate_signed_chain::Column::CertificateSignedId.eq(id.0))
            .all(&self.db)
            .await
            .db()?;
        let chains = certificate_ca_chain::Entity::find()
            .filter(
                certificate_ca_chain::Column::Id
                    .is_in(links.iter().map(|l| l.certificate_ca_chain_id)),
            )
            .all(&self.db)
            .await
            .db()?;
        let mut offers = Vec::new();
        for link in &links {
            if let Some(chain) = chains.iter().find(|c| c.id == link.certificate_ca_chain_id) {
                offers.push(CertificateChainOffer {
                    chain: convert::chain(chain.clone())?,
                    is_upstream_default: link.is_upstream_default,
                });
            }
        }
        offers.sort_by_key(|o| (!o.is_upstream_default, o.chain.id));
        Ok(offers)
    }
}
