//! Orders, authorizations, challenges and polls: the ACME side of the store.

use async_trait::async_trait;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, NotSet, PaginatorTrait, QueryFilter, QueryOrder,
    Set,
};

use peter_core::formats::{ParsedCsr, sha256_hex};
use peter_core::model::rules::{self, StoredChallenge};
use peter_core::model::*;
use peter_core::ports::*;

use crate::convert;
use crate::entities::*;
use crate::sql_store::{DbResultExt, SqlStore, find_or_insert, paginate};

fn problem_json(p: &Problem) -> String {
    serde_json::to_string(p).unwrap_or_default()
}

#[async_trait]
impl OrderStore for SqlStore {
    async fn create_acme_order(&self, new: NewAcmeOrder) -> StoreResult<AcmeOrder> {
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
            challenge_types: Set(crate::convert::challenge_types_text(&new.challenge_types)),
        }
        .insert(&txn)
        .await
        .db()?;
        txn.commit().await.db()?;
        convert::order(row)
    }

    async fn acme_order(&self, id: AcmeOrderId) -> StoreResult<AcmeOrder> {
        let row = acme_order::Entity::find_by_id(id.0)
            .one(&self.db)
            .await
            .db()?
            .ok_or_else(|| StoreError::not_found("AcmeOrder", id))?;
        convert::order(row)
    }

    async fn list_acme_orders(
        &self,
        filter: &OrderFilter,
        page: Page,
    ) -> StoreResult<Paged<AcmeOrder>> {
        use acme_order::Column as C;
        let mut select = acme_order::Entity::find().order_by_desc(C::Id);
        if let Some(d) = filter.domain {
            select =
                select.filter(C::UniqueFqdnSetId.in_subquery(crate::listings::sets_with_domain(d)));
        }
        if let Some(a) = filter.acme_account {
            select = select.filter(C::AcmeAccountId.eq(a.0));
        }
        if !filter.statuses.is_empty() {
            select = select.filter(C::Status.is_in(filter.statuses.iter().map(|x| x.as_str())));
        }
        let (rows, total) = paginate(select, page, &self.db).await?;
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

    async fn update_acme_order(
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

    async fn sync_acme_order(
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

    async fn acme_authorizations_for_order(
        &self,
        id: AcmeOrderId,
    ) -> StoreResult<Vec<AcmeAuthorization>> {
        let links = acme_order_authorization::Entity::find()
            .filter(acme_order_authorization::Column::AcmeOrderId.eq(id.0))
            .all(&self.db)
            .await
            .db()?;
        let rows = acme_authorization::Entity::find()
            .filter(
                acme_authorization::Column::Id.is_in(links.iter().map(|l| l.acme_authorization_id)),
            )
            .order_by_asc(acme_authorization::Column::Id)
            .all(&self.db)
            .await
            .db()?;
        rows.into_iter().map(convert::authorization).collect()
    }

    async fn acme_authorization(&self, id: AcmeAuthorizationId) -> StoreResult<AcmeAuthorization> {
        let row = acme_authorization::Entity::find_by_id(id.0)
            .one(&self.db)
            .await
            .db()?
            .ok_or_else(|| StoreError::not_found("AcmeAuthorization", id))?;
        convert::authorization(row)
    }

    async fn sync_acme_authorization(
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
        // A wildcard's authorization names the base domain with
        // `wildcard: true`; it belongs to the `*.` name the order holds.
        let identifier = server.identifier.to_ascii_lowercase();
        let name = if server.wildcard {
            format!("*.{identifier}")
        } else {
            identifier
        };
        let domain = self.domain_in(&txn, &name).await?;
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

    async fn acme_challenges_for_authorization(
        &self,
        id: AcmeAuthorizationId,
    ) -> StoreResult<Vec<AcmeChallenge>> {
        acme_challenge::Entity::find()
            .filter(acme_challenge::Column::AcmeAuthorizationId.eq(id.0))
            .order_by_asc(acme_challenge::Column::Id)
            .all(&self.db)
            .await
            .db()?
            .into_iter()
            .map(convert::challenge)
            .collect()
    }

    async fn acme_challenge(&self, id: AcmeChallengeId) -> StoreResult<AcmeChallenge> {
        let row = acme_challenge::Entity::find_by_id(id.0)
            .one(&self.db)
            .await
            .db()?
            .ok_or_else(|| StoreError::not_found("AcmeChallenge", id))?;
        convert::challenge(row)
    }

    async fn set_acme_challenge_status(
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

    async fn challenge_answer(
        &self,
        host: &str,
        token: &str,
    ) -> StoreResult<Option<(AcmeChallengeId, String)>> {
        let host = host.to_ascii_lowercase();
        let blocked = domain_blocklisted::Entity::find()
            .filter(domain_blocklisted::Column::DomainName.eq(host.clone()))
            .count(&self.db)
            .await
            .db()?
            > 0;
        if blocked {
            return Ok(None);
        }
        let Some(domain) = domain::Entity::find()
            .filter(domain::Column::DomainName.eq(host))
            .one(&self.db)
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
            .one(&self.db)
            .await
            .db()?;
        Ok(found.and_then(|c| c.key_authorization.map(|k| (AcmeChallengeId(c.id), k))))
    }

    async fn record_polls(&self, tallies: &PollTallies) -> StoreResult<()> {
        if tallies.is_empty() {
            return Ok(());
        }
        let (_write, txn) = self.begin_write().await?;
        record_known_polls(&txn, &tallies.known).await?;
        record_unknown_polls(&txn, &tallies.unknown).await?;
        prune_unknown_polls(&txn, tallies.unknown_rows).await?;
        txn.commit().await.db()
    }

    async fn challenge_polls(&self, id: AcmeChallengeId) -> StoreResult<Vec<AcmeChallengePoll>> {
        Ok(acme_challenge_poll::Entity::find()
            .filter(acme_challenge_poll::Column::AcmeChallengeId.eq(id.0))
            .order_by_asc(acme_challenge_poll::Column::Id)
            .all(&self.db)
            .await
            .db()?
            .into_iter()
            .map(convert::poll)
            .collect())
    }

    async fn list_unknown_challenge_polls(
        &self,
        page: Page,
    ) -> StoreResult<Paged<AcmeChallengeUnknownPoll>> {
        let (rows, total) = paginate(
            acme_challenge_unknown_poll::Entity::find()
                .order_by_desc(acme_challenge_unknown_poll::Column::LastPolledAt)
                .order_by_desc(acme_challenge_unknown_poll::Column::Id),
            page,
            &self.db,
        )
        .await?;
        Ok(Paged {
            items: rows.into_iter().map(convert::unknown_poll).collect(),
            total_items: total,
            page,
        })
    }

    async fn insert_certificate_request(
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

    async fn certificate_request(
        &self,
        id: CertificateRequestId,
    ) -> StoreResult<CertificateRequest> {
        let row = certificate_request::Entity::find_by_id(id.0)
            .one(&self.db)
            .await
            .db()?
            .ok_or_else(|| StoreError::not_found("CertificateRequest", id))?;
        convert::certificate_request(row)
    }
}

fn count_of(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Adds known-challenge tallies to their rows (one per challenge and
/// address, at most [`POLL_ADDRESSES_PER_CHALLENGE`] addresses each).
async fn record_known_polls(
    txn: &sea_orm::DatabaseTransaction,
    known: &[KnownPollTally],
) -> StoreResult<()> {
    let mut by_challenge: std::collections::BTreeMap<i64, Vec<&KnownPollTally>> =
        std::collections::BTreeMap::new();
    for t in known {
        by_challenge.entry(t.challenge.0).or_default().push(t);
    }
    for (challenge, list) in by_challenge {
        let mut rows: std::collections::HashMap<Option<String>, acme_challenge_poll::Model> =
            acme_challenge_poll::Entity::find()
                .filter(acme_challenge_poll::Column::AcmeChallengeId.eq(challenge))
                .order_by_asc(acme_challenge_poll::Column::Id)
                .all(txn)
                .await
                .db()?
                .into_iter()
                .map(|r| (r.remote_ip_address.clone(), r))
                .collect();
        for t in list {
            let room = (rows.len() as u64) < POLL_ADDRESSES_PER_CHALLENGE;
            let key = if rows.contains_key(&t.remote_ip) || room {
                t.remote_ip.clone()
            } else {
                None
            };
            let saved = match rows.remove(&key) {
                Some(row) => {
                    let last = row.last_polled_at.unwrap_or(row.polled_at).max(t.last);
                    let mut active: acme_challenge_poll::ActiveModel = row.clone().into();
                    active.poll_count = Set(row.poll_count.saturating_add(count_of(t.count)));
                    active.last_polled_at = Set(Some(last));
                    active.polled_at = Set(row.polled_at.min(t.first));
                    active.update(txn).await.db()?
                }
                None => acme_challenge_poll::ActiveModel {
                    id: NotSet,
                    acme_challenge_id: Set(challenge),
                    polled_at: Set(t.first),
                    last_polled_at: Set(Some(t.last)),
                    poll_count: Set(count_of(t.count)),
                    remote_ip_address: Set(key.clone()),
                }
                .insert(txn)
                .await
                .db()?,
            };
            rows.insert(key, saved);
        }
    }
    Ok(())
}

/// Adds unknown-request tallies to their rows (one per host and token).
async fn record_unknown_polls(
    txn: &sea_orm::DatabaseTransaction,
    unknown: &[UnknownPollTally],
) -> StoreResult<()> {
    if unknown.is_empty() {
        return Ok(());
    }
    let mut rows: std::collections::HashMap<(String, String), acme_challenge_unknown_poll::Model> =
        std::collections::HashMap::new();
    for chunk in unknown.chunks(500) {
        let tokens: Vec<&str> = chunk.iter().map(|t| t.token.as_str()).collect();
        for row in acme_challenge_unknown_poll::Entity::find()
            .filter(acme_challenge_unknown_poll::Column::Token.is_in(tokens))
            .all(txn)
            .await
            .db()?
        {
            rows.insert((row.domain.clone(), row.token.clone()), row);
        }
    }
    for t in unknown {
        match rows.get(&(t.host.clone(), t.token.clone())) {
            Some(row) => {
                let last = row.last_polled_at.unwrap_or(row.polled_at).max(t.last);
                let mut active: acme_challenge_unknown_poll::ActiveModel = row.clone().into();
                active.poll_count = Set(row.poll_count.saturating_add(count_of(t.count)));
                active.last_polled_at = Set(Some(last));
                active.remote_ip_address = Set(t.remote_ip.clone());
                active.update(txn).await.db()?;
            }
            None => {
                acme_challenge_unknown_poll::ActiveModel {
                    id: NotSet,
                    domain: Set(t.host.clone()),
                    token: Set(t.token.clone()),
                    polled_at: Set(t.first),
                    last_polled_at: Set(Some(t.last)),
                    poll_count: Set(count_of(t.count)),
                    remote_ip_address: Set(t.remote_ip.clone()),
                }
                .insert(txn)
                .await
                .db()?;
            }
        }
    }
    Ok(())
}

/// Keeps the `keep` most recently seen unknown-poll rows.
async fn prune_unknown_polls(txn: &sea_orm::DatabaseTransaction, keep: u64) -> StoreResult<()> {
    use sea_orm::QuerySelect;
    let stale: Vec<i64> = acme_challenge_unknown_poll::Entity::find()
        .select_only()
        .column(acme_challenge_unknown_poll::Column::Id)
        .order_by_desc(acme_challenge_unknown_poll::Column::LastPolledAt)
        .order_by_desc(acme_challenge_unknown_poll::Column::Id)
        // SQLite takes an OFFSET only after a LIMIT.
        .limit(i64::MAX as u64)
        .offset(keep)
        .into_tuple()
        .all(txn)
        .await
        .db()?;
    for chunk in stale.chunks(500) {
        acme_challenge_unknown_poll::Entity::delete_many()
            .filter(acme_challenge_unknown_poll::Column::Id.is_in(chunk.to_vec()))
            .exec(txn)
            .await
            .db()?;
    }
    Ok(())
}
