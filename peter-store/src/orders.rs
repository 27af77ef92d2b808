//! Orders, authorizations, challenges and polls: the ACME side of the store.

use peter_core::formats::{ParsedCsr, sha256_hex};
use peter_core::model::rules::{self, StoredChallenge};
use peter_core::model::*;
use peter_core::ports::*;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, NotSet, PaginatorTrait, QueryFilter, QueryOrder,
    Set,
};

use crate::convert;
use crate::entities::*;
use crate::sql_store::{DbResultExt, SqlStore, find_or_insert, paginate};

fn problem_json(p: &Problem) -> String {
    serde_json::to_string(p).unwrap_or_default()
}

impl SqlStore {
    pub(crate) async fn create_acme_order_impl(&self, new: NewAcmeOrder) -> StoreResult<AcmeOrder> {
        let (_write, txn) = self.begin_write().await?;
        acme_account::Entity::find_by_id(new.acme_account_id.0)
            .one(&txn)
            .await
            .db()?
            .ok_or_else(|| StoreError::not_found("AcmeAccount", new.acme_account_id))?;
        let now = self.now();
        let row = acme_order::ActiveModel {
            id: NotSet,
            acme_account_id: Set(new.acme_account_id.0),
            unique_fqdn_set_id: Set(new.unique_fqdn_set_id.0),
            order_url: Set(None),
            finalize_url: Set(None),
            certificate_url: Set(None),
            status: Set(AcmeOrderStatus::Discovered.as_str().into()),
            processing_status: Set(AcmeOrderProcessingStatus::CreatedLocal.as_str().into()),
            processing_strategy: Set(new.processing_strategy.as_str().into()),
            order_type: Set(new.order_type.as_str().into()),
            is_processing: Set(Some(true)),
            private_key_cycle_renewal: Set(new.private_key_cycle.as_str().into()),
            private_key_strategy_requested: Set(new.private_key_strategy.as_str().into()),
            private_key_id_requested: Set(new.private_key_id_requested.map(|k| k.0)),
            private_key_id: Set(None),
            certificate_request_id: Set(None),
            certificate_signed_id: Set(None),
            acme_order_id_retry_of: Set(new.acme_order_id_retry_of.map(|o| o.0)),
            certificate_signed_id_renewal_of: Set(new
                .certificate_signed_id_renewal_of
                .map(|c| c.0)),
            profile: Set(new.profile),
            replaces: Set(new.replaces),
            problem: Set(None),
            expires_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await
        .db()?;
        txn.commit().await.db()?;
        convert::order(row)
    }

    pub(crate) async fn acme_order_impl(&self, id: AcmeOrderId) -> StoreResult<AcmeOrder> {
        let row = acme_order::Entity::find_by_id(id.0)
            .one(self.connection())
            .await
            .db()?
            .ok_or_else(|| StoreError::not_found("AcmeOrder", id))?;
        convert::order(row)
    }

    pub(crate) async fn list_acme_orders_impl(
        &self,
        filter: OrderFilter,
        page: Page,
    ) -> StoreResult<Paged<AcmeOrder>> {
        let statuses: Option<&[AcmeOrderStatus]> = match filter {
            OrderFilter::All => None,
            OrderFilter::Active => Some(AcmeOrderStatus::ACTIVE),
            OrderFilter::Finished => Some(AcmeOrderStatus::FINISHED),
            OrderFilter::Domain(_) | OrderFilter::Account(_) => None,
        };
        let mut select = acme_order::Entity::find().order_by_desc(acme_order::Column::Id);
        match filter {
            OrderFilter::Domain(d) => {
                select = select.filter(
                    acme_order::Column::UniqueFqdnSetId
                        .in_subquery(crate::listings::sets_with_domain(d)),
                );
            }
            OrderFilter::Account(a) => {
                select = select.filter(acme_order::Column::AcmeAccountId.eq(a.0));
            }
            _ => {}
        }
        if let Some(s) = statuses {
            select = select.filter(acme_order::Column::Status.is_in(s.iter().map(|x| x.as_str())));
        }
        let (rows, total) = paginate(select, page, self.connection()).await?;
        let items = rows
            .into_iter()
            .map(convert::order)
            .collect::<Result<_, _>>()?;
        Ok(Paged {
            items,
            total_items: total,
            page,
        })
    }

    pub(crate) async fn update_acme_order_impl(
        &self,
        id: AcmeOrderId,
        u: AcmeOrderUpdate,
    ) -> StoreResult<AcmeOrder> {
        let (_write, txn) = self.begin_write().await?;
        let row = acme_order::Entity::find_by_id(id.0)
            .one(&txn)
            .await
            .db()?
            .ok_or_else(|| StoreError::not_found("AcmeOrder", id))?;
        let mut am: acme_order::ActiveModel = row.into();
        if let Some(s) = u.status {
            am.status = Set(s.as_str().into());
        }
        if let Some(s) = u.processing_status {
            am.processing_status = Set(s.as_str().into());
        }
        if let Some(p) = u.is_processing {
            am.is_processing = Set(p);
        }
        if let Some(k) = u.private_key_id {
            am.private_key_id = Set(Some(k.0));
        }
        if let Some(c) = u.certificate_request_id {
            am.certificate_request_id = Set(Some(c.0));
        }
        if let Some(p) = u.problem {
            am.problem = Set(Some(p));
        }
        am.updated_at = Set(self.now());
        let row = am.update(&txn).await.db()?;
        txn.commit().await.db()?;
        convert::order(row)
    }

    pub(crate) async fn sync_acme_order_impl(
        &self,
        id: AcmeOrderId,
        server: &ServerOrder,
    ) -> StoreResult<AcmeOrder> {
        let (_write, txn) = self.begin_write().await?;
        let row = acme_order::Entity::find_by_id(id.0)
            .one(&txn)
            .await
            .db()?
            .ok_or_else(|| StoreError::not_found("AcmeOrder", id))?;
        let now = self.now();
        let was_local = row.order_url.is_none();
        let mut am: acme_order::ActiveModel = row.into();
        am.order_url = Set(Some(server.url.clone()));
        am.finalize_url = Set(Some(server.finalize_url.clone()));
        am.certificate_url = Set(server.certificate_url.clone());
        am.status = Set(server.status.as_str().into());
        am.expires_at = Set(server.expires);
        if let Some(p) = &server.error {
            am.problem = Set(Some(problem_json(p)));
        }
        if was_local {
            am.processing_status = Set(AcmeOrderProcessingStatus::CreatedAcme.as_str().into());
        }
        am.updated_at = Set(now);
        let row = am.update(&txn).await.db()?;
        for url in &server.authorizations {
            let auth = find_or_insert(
                &txn,
                acme_authorization::Entity::find()
                    .filter(acme_authorization::Column::AuthorizationUrl.eq(url.clone())),
                acme_authorization::ActiveModel {
                    id: NotSet,
                    authorization_url: Set(url.clone()),
                    status: Set(AcmeAuthorizationStatus::Discovered.as_str().into()),
                    domain_id: Set(None),
                    expires_at: Set(None),
                    deactivated_at: Set(None),
                    acme_order_id_created: Set(id.0),
                    created_at: Set(now),
                    updated_at: Set(now),
                },
                [acme_authorization::Column::AuthorizationUrl],
            )
            .await?;
            acme_order_authorization::Entity::insert(acme_order_authorization::ActiveModel {
                acme_order_id: Set(id.0),
                acme_authorization_id: Set(auth.id.id),
                is_present_on_new_order: Set(was_local),
            })
            .on_conflict_do_nothing_on([
                acme_order_authorization::Column::AcmeOrderId,
                acme_order_authorization::Column::AcmeAuthorizationId,
            ])
            .exec_without_returning(&txn)
            .await
            .db()?;
        }
        txn.commit().await.db()?;
        convert::order(row)
    }

    pub(crate) async fn acme_authorizations_for_order_impl(
        &self,
        id: AcmeOrderId,
    ) -> StoreResult<Vec<AcmeAuthorization>> {
        let links = acme_order_authorization::Entity::find()
            .filter(acme_order_authorization::Column::AcmeOrderId.eq(id.0))
            .all(self.connection())
            .await
            .db()?;
        let rows = acme_authorization::Entity::find()
            .filter(
                acme_authorization::Column::Id.is_in(links.iter().map(|l| l.acme_authorization_id)),
            )
            .order_by_asc(acme_authorization::Column::Id)
            .all(self.connection())
            .await
            .db()?;
        rows.into_iter().map(convert::authorization).collect()
    }

    pub(crate) async fn acme_authorization_impl(
        &self,
        id: AcmeAuthorizationId,
    ) -> StoreResult<AcmeAuthorization> {
        let row = acme_authorization::Entity::find_by_id(id.0)
            .one(self.connection())
            .await
            .db()?
            .ok_or_else(|| StoreError::not_found("AcmeAuthorization", id))?;
        convert::authorization(row)
    }

    pub(crate) async fn sync_acme_authorization_impl(
        &self,
        id: AcmeAuthorizationId,
        server: &ServerAuthorization,
        challenges: &[ChallengeUpsert],
    ) -> StoreResult<AcmeAuthorization> {
        let (_write, txn) = self.begin_write().await?;
        let row = acme_authorization::Entity::find_by_id(id.0)
            .one(&txn)
            .await
            .db()?
            .ok_or_else(|| StoreError::not_found("AcmeAuthorization", id))?;
        let now = self.now();
        let domain = self
            .domain_in(&txn, &server.identifier.to_ascii_lowercase())
            .await?;
        let stored = acme_challenge::Entity::find()
            .filter(acme_challenge::Column::AcmeAuthorizationId.eq(id.0))
            .all(&txn)
            .await
            .db()?;
        let stored_view: Vec<StoredChallenge> = stored
            .iter()
            .map(|c| {
                Ok(StoredChallenge {
                    url: c.challenge_url.clone(),
                    status: convert::parse_enum(&c.status, "challenge status")?,
                })
            })
            .collect::<StoreResult<_>>()?;
        let listed: Vec<_> = challenges.iter().map(|c| c.challenge.clone()).collect();
        let sync = rules::sync_authorization(&stored_view, server.status, &listed);
        for up in challenges {
            let c = &up.challenge;
            match stored.iter().find(|s| s.challenge_url == c.url) {
                Some(existing) => {
                    let mut am: acme_challenge::ActiveModel = existing.clone().into();
                    am.status = Set(c.status.as_str().into());
                    if up.key_authorization.is_some() {
                        am.key_authorization = Set(up.key_authorization.clone());
                    }
                    am.updated_at = Set(now);
                    am.update(&txn).await.db()?;
                }
                None => {
                    find_or_insert(
                        &txn,
                        acme_challenge::Entity::find()
                            .filter(acme_challenge::Column::ChallengeUrl.eq(c.url.clone())),
                        acme_challenge::ActiveModel {
                            id: NotSet,
                            acme_authorization_id: Set(id.0),
                            domain_id: Set(domain.id.id),
                            challenge_type: Set(c.challenge_type.as_str().into()),
                            status: Set(c.status.as_str().into()),
                            challenge_url: Set(c.url.clone()),
                            token: Set(c.token.clone()),
                            key_authorization: Set(up.key_authorization.clone()),
                            created_at: Set(now),
                            updated_at: Set(now),
                        },
                        [acme_challenge::Column::ChallengeUrl],
                    )
                    .await?;
                }
            }
        }
        if !sync.gone.is_empty() {
            acme_challenge::Entity::update_many()
                .col_expr(
                    acme_challenge::Column::Status,
                    Expr::value(AcmeChallengeStatus::Gone.as_str()),
                )
                .col_expr(acme_challenge::Column::UpdatedAt, Expr::value(now))
                .filter(acme_challenge::Column::ChallengeUrl.is_in(sync.gone.clone()))
                .exec(&txn)
                .await
                .db()?;
        }
        let mut am: acme_authorization::ActiveModel = row.into();
        am.status = Set(sync.status.as_str().into());
        am.domain_id = Set(Some(domain.id.id));
        am.expires_at = Set(server.expires);
        if sync.status == AcmeAuthorizationStatus::Deactivated {
            am.deactivated_at = Set(Some(now));
        }
        am.updated_at = Set(now);
        let row = am.update(&txn).await.db()?;
        txn.commit().await.db()?;
        convert::authorization(row)
    }

    pub(crate) async fn acme_challenges_for_authorization_impl(
        &self,
        id: AcmeAuthorizationId,
    ) -> StoreResult<Vec<AcmeChallenge>> {
        acme_challenge::Entity::find()
            .filter(acme_challenge::Column::AcmeAuthorizationId.eq(id.0))
            .order_by_asc(acme_challenge::Column::Id)
            .all(self.connection())
            .await
            .db()?
            .into_iter()
            .map(convert::challenge)
            .collect()
    }

    pub(crate) async fn acme_challenge_impl(
        &self,
        id: AcmeChallengeId,
    ) -> StoreResult<AcmeChallenge> {
        let row = acme_challenge::Entity::find_by_id(id.0)
            .one(self.connection())
            .await
            .db()?
            .ok_or_else(|| StoreError::not_found("AcmeChallenge", id))?;
        convert::challenge(row)
    }

    pub(crate) async fn set_acme_challenge_status_impl(
        &self,
        id: AcmeChallengeId,
        status: AcmeChallengeStatus,
    ) -> StoreResult<AcmeChallenge> {
        let (_write, txn) = self.begin_write().await?;
        let row = acme_challenge::Entity::find_by_id(id.0)
            .one(&txn)
            .await
            .db()?
            .ok_or_else(|| StoreError::not_found("AcmeChallenge", id))?;
        let mut am: acme_challenge::ActiveModel = row.into();
        am.status = Set(status.as_str().into());
        am.updated_at = Set(self.now());
        let row = am.update(&txn).await.db()?;
        txn.commit().await.db()?;
        convert::challenge(row)
    }

    pub(crate) async fn challenge_answer_impl(
        &self,
        host: &str,
        token: &str,
    ) -> StoreResult<Option<(AcmeChallengeId, String)>> {
        let host = host.to_ascii_lowercase();
        let blocked = domain_blocklisted::Entity::find()
            .filter(domain_blocklisted::Column::DomainName.eq(host.clone()))
            .count(self.connection())
            .await
            .db()?
            > 0;
        if blocked {
            return Ok(None);
        }
        let Some(domain) = domain::Entity::find()
            .filter(domain::Column::DomainName.eq(host))
            .one(self.connection())
            .await
            .db()?
        else {
            return Ok(None);
        };
        let found = acme_challenge::Entity::find()
            .filter(acme_challenge::Column::Token.eq(token))
            .filter(acme_challenge::Column::DomainId.eq(domain.id))
            .filter(acme_challenge::Column::ChallengeType.eq(AcmeChallengeType::Http01.as_str()))
            .order_by_desc(acme_challenge::Column::Id)
            .one(self.connection())
            .await
            .db()?;
        Ok(found.and_then(|c| c.key_authorization.map(|k| (AcmeChallengeId(c.id), k))))
    }

    pub(crate) async fn record_challenge_poll_impl(
        &self,
        id: AcmeChallengeId,
        remote_ip: Option<String>,
    ) -> StoreResult<AcmeChallengePoll> {
        let (_write, txn) = self.begin_write().await?;
        let row = acme_challenge_poll::ActiveModel {
            id: NotSet,
            acme_challenge_id: Set(id.0),
            polled_at: Set(self.now()),
            remote_ip_address: Set(remote_ip),
        }
        .insert(&txn)
        .await
        .db()?;
        txn.commit().await.db()?;
        Ok(convert::poll(row))
    }

    pub(crate) async fn record_unknown_challenge_poll_impl(
        &self,
        host: &str,
        token: &str,
        remote_ip: Option<String>,
    ) -> StoreResult<AcmeChallengeUnknownPoll> {
        let truncate = |s: &str, n: usize| s.chars().take(n).collect::<String>();
        let (_write, txn) = self.begin_write().await?;
        let row = acme_challenge_unknown_poll::ActiveModel {
            id: NotSet,
            domain: Set(truncate(host, 255)),
            token: Set(truncate(token, 255)),
            polled_at: Set(self.now()),
            remote_ip_address: Set(remote_ip),
        }
        .insert(&txn)
        .await
        .db()?;
        txn.commit().await.db()?;
        Ok(convert::unknown_poll(row))
    }

    pub(crate) async fn challenge_polls_impl(
        &self,
        id: AcmeChallengeId,
    ) -> StoreResult<Vec<AcmeChallengePoll>> {
        Ok(acme_challenge_poll::Entity::find()
            .filter(acme_challenge_poll::Column::AcmeChallengeId.eq(id.0))
            .order_by_asc(acme_challenge_poll::Column::Id)
            .all(self.connection())
            .await
            .db()?
            .into_iter()
            .map(convert::poll)
            .collect())
    }

    pub(crate) async fn list_unknown_challenge_polls_impl(
        &self,
        page: Page,
    ) -> StoreResult<Paged<AcmeChallengeUnknownPoll>> {
        let (rows, total) = paginate(
            acme_challenge_unknown_poll::Entity::find()
                .order_by_desc(acme_challenge_unknown_poll::Column::Id),
            page,
            self.connection(),
        )
        .await?;
        Ok(Paged {
            items: rows.into_iter().map(convert::unknown_poll).collect(),
            total_items: total,
            page,
        })
    }

    pub(crate) async fn insert_certificate_request_impl(
        &self,
        csr: &ParsedCsr,
        source: CertificateRequestSource,
        private_key_id: Option<PrivateKeyId>,
        unique_fqdn_set_id: UniqueFqdnSetId,
    ) -> StoreResult<Created<CertificateRequest>> {
        let (_write, txn) = self.begin_write().await?;
        let digest = sha256_hex(csr.der());
        let row = find_or_insert(
            &txn,
            certificate_request::Entity::find()
                .filter(certificate_request::Column::CsrSha256.eq(digest.clone())),
            certificate_request::ActiveModel {
                id: NotSet,
                csr_pem: Set(csr.pem().to_string()),
                csr_sha256: Set(digest),
                spki_sha256: Set(csr.spki_sha256.clone()),
                source: Set(source.as_str().into()),
                private_key_id: Set(private_key_id.map(|k| k.0)),
                unique_fqdn_set_id: Set(unique_fqdn_set_id.0),
                created_at: Set(self.now()),
            },
            [certificate_request::Column::CsrSha256],
        )
        .await?;
        txn.commit().await.db()?;
        Ok(Created {
            id: convert::certificate_request(row.id)?,
            created: row.created,
        })
    }

    pub(crate) async fn certificate_request_impl(
        &self,
        id: CertificateRequestId,
    ) -> StoreResult<CertificateRequest> {
        let row = certificate_request::Entity::find_by_id(id.0)
            .one(self.connection())
            .await
            .db()?
            .ok_or_else(|| StoreError::not_found("CertificateRequest", id))?;
        convert::certificate_request(row)
    }
}

impl SqlStore {
    pub(crate) async fn deactivate_acme_account_impl(
        &self,
        id: AcmeAccountId,
    ) -> StoreResult<AcmeAccount> {
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
        self.account_in(self.connection(), id).await
    }

    pub(crate) async fn rotate_acme_account_key_impl(
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
        self.account_in(self.connection(), id).await
    }

    pub(crate) async fn set_acme_account_url_impl(
        &self,
        id: AcmeAccountId,
        url: &str,
    ) -> StoreResult<AcmeAccount> {
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
        self.account_in(self.connection(), id).await
    }
}

#[derive(Debug, sea_orm::FromQueryResult)]
struct PublicationRow {
    domain_id: i64,
    domain_name: String,
    certificate_signed_id: i64,
    cert_pem: String,
    private_key_id: i64,
    key_pem: String,
    certificate_ca_chain_id: Option<i64>,
    chain_pem: Option<String>,
    certificate_ca_ids: Option<String>,
    is_upstream_default: Option<bool>,
}

impl SqlStore {
    /// A page of publications: the served certificate of each active domain
    /// (latest multi, else latest single) with its key and the chain
    /// config.json serves (the CA preference list's choice among the chains
    /// it was offered, else the upstream default).
    pub(crate) async fn domain_publications_impl(
        &self,
        after: DomainId,
        limit: u64,
        name: Option<&peter_core::dns::DomainName>,
    ) -> StoreResult<Vec<DomainPublication>> {
        use sea_orm::{FromQueryResult, Statement};
        let backend = self.connection().get_database_backend();
        let postgres = backend == sea_orm::DbBackend::Postgres;
        let (p1, p2, p2b, p3) = if postgres {
            ("$1", "$2", "$2", "$3")
        } else {
            ("?", "?", "?", "?")
        };
        // The page is chosen on domains (one row each), then joined to every
        // chain offered, so a page never splits a domain's rows.
        let sql = format!(
            "SELECT d.id AS domain_id, d.domain_name, cs.id AS certificate_signed_id, cs.cert_pem, \
                    pk.id AS private_key_id, pk.key_pem, ch.id AS certificate_ca_chain_id, \
                    ch.chain_pem, ch.certificate_ca_ids, csc.is_upstream_default \
             FROM domain d \
             JOIN certificate_signed cs \
               ON cs.id = COALESCE(d.certificate_signed_id_latest_multi, d.certificate_signed_id_latest_single) \
             JOIN private_key pk ON pk.id = cs.private_key_id \
             LEFT JOIN certificate_signed_chain csc ON csc.certificate_signed_id = cs.id \
             LEFT JOIN certificate_ca_chain ch ON ch.id = csc.certificate_ca_chain_id \
             WHERE d.id IN (SELECT d2.id FROM domain d2 \
                            WHERE d2.is_active = TRUE \
                              AND COALESCE(d2.certificate_signed_id_latest_multi, d2.certificate_signed_id_latest_single) IS NOT NULL \
                              AND d2.id > {p1} AND ({p2} = '' OR d2.domain_name = {p2b}) \
                            ORDER BY d2.id LIMIT {p3}) \
             ORDER BY d.id"
        );
        let name = name.map(|n| n.as_str().to_string()).unwrap_or_default();
        let values: Vec<sea_orm::Value> = if postgres {
            vec![after.0.into(), name.into(), (limit as i64).into()]
        } else {
            // Positional `?` placeholders: the name is bound twice.
            vec![
                after.0.into(),
                name.clone().into(),
                name.into(),
                (limit as i64).into(),
            ]
        };
        let rows =
            PublicationRow::find_by_statement(Statement::from_sql_and_values(backend, sql, values))
                .all(self.connection())
                .await
                .db()?;
        let preferences: Vec<CertificateCaId> = self
            .ca_preferences_in(self.connection())
            .await?
            .iter()
            .map(|c| c.id)
            .collect();
        let mut out: Vec<DomainPublication> = Vec::new();
        let mut offers: Vec<CertificateChainOffer> = Vec::new();
        let mut flush = |rows: &[&PublicationRow], offers: &mut Vec<CertificateChainOffer>| {
            let Some(r) = rows.first() else { return };
            offers.sort_by_key(|o| (!o.is_upstream_default, o.chain.id));
            let chain = peter_core::services::downloads::choose_chain(offers, &preferences);
            out.push(DomainPublication {
                domain_id: DomainId(r.domain_id),
                domain_name: r.domain_name.clone(),
                certificate_signed_id: CertificateSignedId(r.certificate_signed_id),
                cert_pem: r.cert_pem.clone(),
                private_key_id: PrivateKeyId(r.private_key_id),
                key_pem: r.key_pem.clone(),
                certificate_ca_chain_id: chain.map(|c| c.id),
                chain_pem: chain.map(|c| c.chain_pem.clone()).unwrap_or_default(),
            });
            offers.clear();
        };
        let mut group: Vec<&PublicationRow> = Vec::new();
        for row in &rows {
            if group.first().is_some_and(|g| g.domain_id != row.domain_id) {
                flush(&group, &mut offers);
                group.clear();
            }
            if let (Some(id), Some(pem), Some(ids)) = (
                row.certificate_ca_chain_id,
                &row.chain_pem,
                &row.certificate_ca_ids,
            ) {
                offers.push(CertificateChainOffer {
                    chain: CertificateCaChain {
                        id: CertificateCaChainId(id),
                        chain_pem: pem.clone(),
                        certificate_ca_ids: convert::ca_ids(id, ids)?,
                        display_name: String::new(),
                        created_at: time::OffsetDateTime::UNIX_EPOCH,
                    },
                    is_upstream_default: row.is_upstream_default.unwrap_or(false),
                });
            }
            group.push(row);
        }
        flush(&group, &mut offers);
        Ok(out)
    }
}

impl SqlStore {
    async fn renewal_row<C: sea_orm::ConnectionTrait>(
        &self,
        c: &C,
        set: UniqueFqdnSetId,
    ) -> StoreResult<renewal_state::Model> {
        find_or_insert(
            c,
            renewal_state::Entity::find().filter(renewal_state::Column::UniqueFqdnSetId.eq(set.0)),
            renewal_state::ActiveModel {
                unique_fqdn_set_id: Set(set.0),
                lease_holder: Set(None),
                lease_expires_at: Set(None),
                failures: Set(0),
                next_attempt_at: Set(None),
                last_error: Set(None),
            },
            [renewal_state::Column::UniqueFqdnSetId],
        )
        .await
        .map(|c| c.id)
    }

    pub(crate) async fn try_acquire_renewal_lease_impl(
        &self,
        set: UniqueFqdnSetId,
        holder: &str,
        ttl: time::Duration,
    ) -> StoreResult<bool> {
        let (_write, txn) = self.begin_write().await?;
        self.renewal_row(&txn, set).await?;
        let now = self.now();
        // One conditional update: it succeeds for exactly one contender.
        let taken = renewal_state::Entity::update_many()
            .col_expr(
                renewal_state::Column::LeaseHolder,
                Expr::value(holder.to_string()),
            )
            .col_expr(
                renewal_state::Column::LeaseExpiresAt,
                Expr::value(now + ttl),
            )
            .filter(renewal_state::Column::UniqueFqdnSetId.eq(set.0))
            .filter(
                sea_orm::Condition::any()
                    .add(renewal_state::Column::LeaseExpiresAt.is_null())
                    .add(renewal_state::Column::LeaseExpiresAt.lt(now))
                    .add(renewal_state::Column::LeaseHolder.eq(holder.to_string())),
            )
            .exec(&txn)
            .await
            .db()?
            .rows_affected
            == 1;
        txn.commit().await.db()?;
        Ok(taken)
    }

    pub(crate) async fn release_renewal_lease_impl(
        &self,
        set: UniqueFqdnSetId,
        holder: &str,
    ) -> StoreResult<()> {
        let (_write, txn) = self.begin_write().await?;
        renewal_state::Entity::update_many()
            .col_expr(
                renewal_state::Column::LeaseHolder,
                Expr::value(Option::<String>::None),
            )
            .col_expr(
                renewal_state::Column::LeaseExpiresAt,
                Expr::value(Option::<time::OffsetDateTime>::None),
            )
            .filter(renewal_state::Column::UniqueFqdnSetId.eq(set.0))
            .filter(renewal_state::Column::LeaseHolder.eq(holder.to_string()))
            .exec(&txn)
            .await
            .db()?;
        txn.commit().await.db()?;
        Ok(())
    }

    pub(crate) async fn record_renewal_failure_impl(
        &self,
        set: UniqueFqdnSetId,
        next_attempt_at: time::OffsetDateTime,
        error: &str,
    ) -> StoreResult<()> {
        let (_write, txn) = self.begin_write().await?;
        let row = self.renewal_row(&txn, set).await?;
        let failures = row.failures + 1;
        let mut am: renewal_state::ActiveModel = row.into();
        am.failures = Set(failures);
        am.next_attempt_at = Set(Some(next_attempt_at));
        am.last_error = Set(Some(error.chars().take(2000).collect()));
        am.update(&txn).await.db()?;
        txn.commit().await.db()?;
        Ok(())
    }

    pub(crate) async fn clear_renewal_failures_impl(
        &self,
        set: UniqueFqdnSetId,
    ) -> StoreResult<()> {
        let (_write, txn) = self.begin_write().await?;
        renewal_state::Entity::update_many()
            .col_expr(renewal_state::Column::Failures, Expr::value(0))
            .col_expr(
                renewal_state::Column::NextAttemptAt,
                Expr::value(Option::<time::OffsetDateTime>::None),
            )
            .col_expr(
                renewal_state::Column::LastError,
                Expr::value(Option::<String>::None),
            )
            .filter(renewal_state::Column::UniqueFqdnSetId.eq(set.0))
            .exec(&txn)
            .await
            .db()?;
        txn.commit().await.db()?;
        Ok(())
    }

    pub(crate) async fn renewal_backoff_impl(
        &self,
        set: UniqueFqdnSetId,
    ) -> StoreResult<Option<(i32, time::OffsetDateTime)>> {
        let row = renewal_state::Entity::find_by_id(set.0)
            .one(self.connection())
            .await
            .db()?;
        Ok(row.and_then(|r| match (r.failures, r.next_attempt_at) {
            (f, Some(at)) if f > 0 => Some((f, at)),
            _ => None,
        }))
    }
}
