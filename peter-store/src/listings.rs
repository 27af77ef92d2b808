//! Read models across aggregates: the admin listings, the one-query source
//! of a domain's config.json, what gateways are sent, and monitoring
//! aggregates.

use async_trait::async_trait;
use sea_orm::sea_query::{Query, SelectStatement};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use peter_core::model::*;
use peter_core::ports::*;

use crate::convert;
use crate::entities::*;
use crate::sql_store::{DbResultExt, SqlStore, paginate};

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

/// The ids of the name sets that include a domain, as a subquery.
pub(crate) fn sets_with_domain(domain: DomainId) -> SelectStatement {
    Query::select()
        .column(unique_fqdn_set_domain::Column::UniqueFqdnSetId)
        .from(unique_fqdn_set_domain::Entity)
        .and_where(unique_fqdn_set_domain::Column::DomainId.eq(domain.0))
        .to_owned()
}

#[derive(Debug, sea_orm::FromQueryResult)]
struct ConfigRow {
    domain_id: i64,
    domain_name: String,
    is_active: bool,
    latest_single: Option<i64>,
    latest_multi: Option<i64>,
    challenge_type: String,
    identifier_type: String,
    domain_created_at: sea_orm::prelude::TimeDateTimeWithTimeZone,
    cert_id: Option<i64>,
    cert_pem: Option<String>,
    key_id: Option<i64>,
    key_pem: Option<String>,
    chain_id: Option<i64>,
    chain_pem: Option<String>,
    chain_ca_ids: Option<String>,
    chain_display_name: Option<String>,
    chain_created_at: Option<sea_orm::prelude::TimeDateTimeWithTimeZone>,
    is_upstream_default: Option<bool>,
    preferences: Option<String>,
}

#[async_trait]
impl ListingStore for SqlStore {
    async fn list_acme_authorizations(
        &self,
        domain: Option<DomainId>,
        page: Page,
    ) -> StoreResult<Paged<AcmeAuthorization>> {
        let mut select =
            acme_authorization::Entity::find().order_by_desc(acme_authorization::Column::Id);
        if let Some(d) = domain {
            select = select.filter(acme_authorization::Column::DomainId.eq(d.0));
        }
        let (rows, total) = paginate(select, page, &self.db).await?;
        Ok(Paged {
            items: rows
                .into_iter()
                .map(convert::authorization)
                .collect::<Result<_, _>>()?,
            total_items: total,
            page,
        })
    }

    async fn list_acme_challenges(
        &self,
        domain: Option<DomainId>,
        page: Page,
    ) -> StoreResult<Paged<AcmeChallenge>> {
        let mut select = acme_challenge::Entity::find().order_by_desc(acme_challenge::Column::Id);
        if let Some(d) = domain {
            select = select.filter(acme_challenge::Column::DomainId.eq(d.0));
        }
        let (rows, total) = paginate(select, page, &self.db).await?;
        Ok(Paged {
            items: rows
                .into_iter()
                .map(convert::challenge)
                .collect::<Result<_, _>>()?,
            total_items: total,
            page,
        })
    }

    async fn list_acme_challenge_polls(&self, page: Page) -> StoreResult<Paged<AcmeChallengePoll>> {
        let select =
            acme_challenge_poll::Entity::find().order_by_desc(acme_challenge_poll::Column::Id);
        let (rows, total) = paginate(select, page, &self.db).await?;
        Ok(Paged {
            items: rows.into_iter().map(convert::poll).collect(),
            total_items: total,
            page,
        })
    }

    async fn list_unique_fqdn_sets(
        &self,
        domain: Option<DomainId>,
        page: Page,
    ) -> StoreResult<Paged<UniqueFqdnSetRecord>> {
        let mut select = unique_fqdn_set::Entity::find().order_by_desc(unique_fqdn_set::Column::Id);
        if let Some(d) = domain {
            select = select.filter(unique_fqdn_set::Column::Id.in_subquery(sets_with_domain(d)));
        }
        let (rows, total) = paginate(select, page, &self.db).await?;
        let mut items = Vec::with_capacity(rows.len());
        for row in rows {
            items.push(self.fqdn_set_record_in(&self.db, row).await?);
        }
        Ok(Paged {
            items,
            total_items: total,
            page,
        })
    }

    async fn list_certificate_requests(
        &self,
        page: Page,
    ) -> StoreResult<Paged<CertificateRequest>> {
        let select =
            certificate_request::Entity::find().order_by_desc(certificate_request::Column::Id);
        let (rows, total) = paginate(select, page, &self.db).await?;
        Ok(Paged {
            items: rows
                .into_iter()
                .map(convert::certificate_request)
                .collect::<Result<_, _>>()?,
            total_items: total,
            page,
        })
    }

    /// One query for the domain, its latest certificates, their keys, their
    /// offered chains and the CA preference list (`string_agg`: SQLite 3.44+
    /// and PostgreSQL both have it).
    async fn domain_config_source(
        &self,
        lookup: DomainLookup<'_>,
    ) -> StoreResult<Option<DomainConfigSource>> {
        use sea_orm::{FromQueryResult, Statement};
        let backend = self.db.get_database_backend();
        let p1 = if backend == sea_orm::DbBackend::Postgres {
            "$1"
        } else {
            "?"
        };
        let (condition, value): (&str, sea_orm::Value) = match lookup {
            DomainLookup::Id(id) => ("d.id", id.0.into()),
            DomainLookup::Name(name) => ("d.domain_name", name.as_str().to_string().into()),
        };
        let sql = format!(
            "SELECT d.id AS domain_id, d.domain_name, d.is_active, \
                    d.certificate_signed_id_latest_single AS latest_single, \
                    d.certificate_signed_id_latest_multi AS latest_multi, \
                    d.challenge_type, d.identifier_type, d.created_at AS domain_created_at, \
                    cs.id AS cert_id, cs.cert_pem, pk.id AS key_id, pk.key_pem, \
                    ch.id AS chain_id, ch.chain_pem, ch.certificate_ca_ids AS chain_ca_ids, \
                    ch.display_name AS chain_display_name, ch.created_at AS chain_created_at, \
                    csc.is_upstream_default, \
                    (SELECT string_agg(CAST(p.certificate_ca_id AS TEXT), ',' ORDER BY p.slot) \
                     FROM certificate_ca_preference p) AS preferences \
             FROM domain d \
             LEFT JOIN certificate_signed cs ON d.is_active = TRUE \
                  AND (cs.id = d.certificate_signed_id_latest_single \
                       OR cs.id = d.certificate_signed_id_latest_multi) \
             LEFT JOIN private_key pk ON pk.id = cs.private_key_id \
             LEFT JOIN certificate_signed_chain csc ON csc.certificate_signed_id = cs.id \
             LEFT JOIN certificate_ca_chain ch ON ch.id = csc.certificate_ca_chain_id \
             WHERE {condition} = {p1}"
        );
        let rows =
            ConfigRow::find_by_statement(Statement::from_sql_and_values(backend, sql, vec![value]))
                .all(&self.db)
                .await
                .db()?;
        let Some(first) = rows.first() else {
            return Ok(None);
        };
        let domain = Domain {
            id: DomainId(first.domain_id),
            identifier_type: convert::identifier_type(&first.identifier_type),
            domain_name: first.domain_name.clone(),
            is_active: first.is_active,
            certificate_signed_id_latest_single: first.latest_single.map(CertificateSignedId),
            certificate_signed_id_latest_multi: first.latest_multi.map(CertificateSignedId),
            challenge_type: first
                .challenge_type
                .parse()
                .unwrap_or(AcmeChallengeType::Http01),
            created_at: first.domain_created_at,
        };
        let mut certificates: Vec<ConfigCertificate> = Vec::new();
        for row in &rows {
            let (Some(id), Some(cert_pem), Some(key_id), Some(key_pem)) =
                (row.cert_id, &row.cert_pem, row.key_id, &row.key_pem)
            else {
                continue;
            };
            let index = match certificates.iter().position(|c| c.id.0 == id) {
                Some(i) => i,
                None => {
                    certificates.push(ConfigCertificate {
                        id: CertificateSignedId(id),
                        cert_pem: cert_pem.clone(),
                        private_key_id: PrivateKeyId(key_id),
                        key_pem: key_pem.clone(),
                        chains: Vec::new(),
                    });
                    certificates.len().saturating_sub(1)
                }
            };
            if let (Some(chain_id), Some(pem), Some(ids)) =
                (row.chain_id, &row.chain_pem, &row.chain_ca_ids)
            {
                let chain = CertificateCaChain {
                    id: CertificateCaChainId(chain_id),
                    chain_pem: pem.clone(),
                    certificate_ca_ids: crate::convert::ca_ids(chain_id, ids)?,
                    display_name: row.chain_display_name.clone().unwrap_or_default(),
                    created_at: row.chain_created_at.unwrap_or(row.domain_created_at),
                };
                if let Some(certificate) = certificates.get_mut(index) {
                    certificate.chains.push(CertificateChainOffer {
                        chain,
                        is_upstream_default: row.is_upstream_default.unwrap_or(false),
                    });
                }
            }
        }
        for c in &mut certificates {
            c.chains
                .sort_by_key(|o| (!o.is_upstream_default, o.chain.id));
        }
        let ca_preferences = first
            .preferences
            .as_deref()
            .unwrap_or_default()
            .split(',')
            .filter(|p| !p.is_empty())
            .map(|p| {
                p.parse::<i64>()
                    .map(CertificateCaId)
                    .map_err(|_| StoreError::Corrupt(format!("CA preference id `{p}`")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(DomainConfigSource {
            domain,
            certificates,
            ca_preferences,
        }))
    }

    async fn metrics(&self) -> StoreResult<StoreMetrics> {
        use sea_orm::sea_query::Expr;
        use sea_orm::{ExprTrait, QuerySelect};
        let c = &self.db;
        let certs: Vec<(bool, bool, i64)> = certificate_signed::Entity::find()
            .select_only()
            .column(certificate_signed::Column::IsActive)
            .column(certificate_signed::Column::IsRevoked)
            .column_as(Expr::col(certificate_signed::Column::Id).count(), "n")
            .group_by(certificate_signed::Column::IsActive)
            .group_by(certificate_signed::Column::IsRevoked)
            .into_tuple()
            .all(c)
            .await
            .db()?;
        let mut by_state = std::collections::BTreeMap::<String, u64>::new();
        for state in ["active", "inactive", "revoked"] {
            by_state.insert(state.into(), 0);
        }
        for (active, revoked, n) in certs {
            let state = if revoked {
                "revoked"
            } else if active {
                "active"
            } else {
                "inactive"
            };
            let counted = by_state.entry(state.into()).or_default();
            *counted = counted.saturating_add(u64::try_from(n).unwrap_or(0));
        }
        let orders: Vec<(String, i64)> = acme_order::Entity::find()
            .select_only()
            .column(acme_order::Column::Status)
            .column_as(Expr::col(acme_order::Column::Id).count(), "n")
            .group_by(acme_order::Column::Status)
            .into_tuple()
            .all(c)
            .await
            .db()?;
        let requests: Vec<(String, Option<i32>, i64)> = acme_event_log::Entity::find()
            .select_only()
            .column(acme_event_log::Column::Event)
            .column(acme_event_log::Column::HttpStatus)
            .column_as(Expr::col(acme_event_log::Column::Id).count(), "n")
            .group_by(acme_event_log::Column::Event)
            .group_by(acme_event_log::Column::HttpStatus)
            .into_tuple()
            .all(c)
            .await
            .db()?;
        let failing: Vec<(i64, Option<i64>)> = renewal_state::Entity::find()
            .select_only()
            .column_as(
                Expr::col(renewal_state::Column::UniqueFqdnSetId).count(),
                "n",
            )
            .column_as(Expr::col(renewal_state::Column::Failures).sum(), "f")
            .filter(renewal_state::Column::Failures.gt(0))
            .into_tuple()
            .all(c)
            .await
            .db()?;
        let domains: Vec<(bool, i64)> = domain::Entity::find()
            .select_only()
            .column(domain::Column::IsActive)
            .column_as(Expr::col(domain::Column::Id).count(), "n")
            .group_by(domain::Column::IsActive)
            .into_tuple()
            .all(c)
            .await
            .db()?;
        let (sets, failures) = failing.first().copied().unwrap_or((0, None));
        Ok(StoreMetrics {
            certificates_by_state: by_state.into_iter().collect(),
            orders_by_status: orders.into_iter().map(|(s, n)| (s, n as u64)).collect(),
            acme_requests: requests
                .into_iter()
                .map(|(e, s, n)| (e, s.unwrap_or(0), n as u64))
                .collect(),
            renewal_sets_failing: sets as u64,
            renewal_failures: failures.unwrap_or(0) as u64,
            domains_by_active: domains.into_iter().map(|(a, n)| (a, n as u64)).collect(),
        })
    }

    async fn active_certificate_expirations(
        &self,
        after: CertificateSignedId,
        limit: u64,
    ) -> StoreResult<Vec<CertificateExpiration>> {
        use sea_orm::QuerySelect;
        let certs: Vec<(i64, sea_orm::prelude::TimeDateTimeWithTimeZone, i64)> =
            certificate_signed::Entity::find()
                .select_only()
                .column(certificate_signed::Column::Id)
                .column(certificate_signed::Column::NotAfter)
                .column(certificate_signed::Column::UniqueFqdnSetId)
                // `<> false` rather than `= true`: SQLite would otherwise
                // walk the (is_active, not_after) index and sort every
                // active certificate for each page.
                .filter(certificate_signed::Column::IsActive.ne(false))
                .filter(certificate_signed::Column::Id.gt(after.0))
                .order_by_asc(certificate_signed::Column::Id)
                .limit(limit)
                .into_tuple()
                .all(&self.db)
                .await
                .db()?;
        let set_ids: Vec<i64> = certs.iter().map(|c| c.2).collect();
        let names: std::collections::HashMap<i64, String> = unique_fqdn_set::Entity::find()
            .select_only()
            .column(unique_fqdn_set::Column::Id)
            .column(unique_fqdn_set::Column::DomainNames)
            .filter(unique_fqdn_set::Column::Id.is_in(set_ids))
            .into_tuple::<(i64, String)>()
            .all(&self.db)
            .await
            .db()?
            .into_iter()
            .collect();
        Ok(certs
            .into_iter()
            .map(|(id, not_after, set)| CertificateExpiration {
                id: CertificateSignedId(id),
                first_domain: names
                    .get(&set)
                    .and_then(|n| n.split(',').next())
                    .unwrap_or_default()
                    .to_string(),
                not_after,
            })
            .collect())
    }

    async fn active_expiry_summary(
        &self,
        horizons: &[time::OffsetDateTime],
    ) -> StoreResult<(Vec<u64>, Option<time::OffsetDateTime>)> {
        use sea_orm::{PaginatorTrait, QuerySelect};
        let active = || {
            certificate_signed::Entity::find().filter(certificate_signed::Column::IsActive.eq(true))
        };
        let mut counts = Vec::with_capacity(horizons.len());
        for horizon in horizons {
            let n = active()
                .filter(certificate_signed::Column::NotAfter.lt(*horizon))
                .count(&self.db)
                .await
                .db()?;
            counts.push(n);
        }
        let earliest: Option<time::OffsetDateTime> = active()
            .select_only()
            .column(certificate_signed::Column::NotAfter)
            .order_by_asc(certificate_signed::Column::NotAfter)
            .limit(1)
            .into_tuple()
            .one(&self.db)
            .await
            .db()?;
        Ok((counts, earliest))
    }

    async fn renewal_candidates(
        &self,
        after: CertificateSignedId,
        limit: u64,
    ) -> StoreResult<Vec<RenewalCandidate>> {
        use sea_orm::{FromQueryResult, Statement};
        #[derive(Debug, FromQueryResult)]
        struct Row {
            id: i64,
            unique_fqdn_set_id: i64,
            domain_names: String,
            not_before: sea_orm::prelude::TimeDateTimeWithTimeZone,
            not_after: sea_orm::prelude::TimeDateTimeWithTimeZone,
            ari_window_start: Option<sea_orm::prelude::TimeDateTimeWithTimeZone>,
            ari_window_end: Option<sea_orm::prelude::TimeDateTimeWithTimeZone>,
            ari_retry_after: Option<sea_orm::prelude::TimeDateTimeWithTimeZone>,
            acme_server_id: Option<i64>,
        }
        let backend = self.db.get_database_backend();
        let (p1, p2) = if backend == sea_orm::DbBackend::Postgres {
            ("$1", "$2")
        } else {
            ("?", "?")
        };
        // One page of certificates with their names. `<> FALSE` rather
        // than `= TRUE` keeps SQLite on the primary key: with the
        // (is_active, not_after) index it sorts every active certificate
        // for each page. The issuing server comes from the order that
        // produced the certificate (indexed by certificate), when peter ordered it.
        let sql = format!(
            "SELECT cs.id, cs.unique_fqdn_set_id, s.domain_names, cs.not_before, cs.not_after, \
                    cs.ari_window_start, cs.ari_window_end, cs.ari_retry_after, \
                    (SELECT a.acme_server_id FROM acme_order o \
                       JOIN acme_account a ON a.id = o.acme_account_id \
                      WHERE o.certificate_signed_id = cs.id \
                      ORDER BY o.id LIMIT 1) AS acme_server_id \
             FROM certificate_signed cs \
             JOIN unique_fqdn_set s ON s.id = cs.unique_fqdn_set_id \
             WHERE cs.is_active <> FALSE AND cs.id > {p1} \
             ORDER BY cs.id LIMIT {p2}"
        );
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = Row::find_by_statement(Statement::from_sql_and_values(
            backend,
            sql,
            [after.0.into(), limit.into()],
        ))
        .all(&self.db)
        .await
        .db()?;
        Ok(rows
            .into_iter()
            .map(|r| RenewalCandidate {
                id: CertificateSignedId(r.id),
                unique_fqdn_set_id: UniqueFqdnSetId(r.unique_fqdn_set_id),
                domain_names: r.domain_names,
                not_before: r.not_before,
                not_after: r.not_after,
                ari_window_start: r.ari_window_start,
                ari_window_end: r.ari_window_end,
                ari_retry_after: r.ari_retry_after,
                acme_server_id: r.acme_server_id.map(AcmeServerId),
            })
            .collect())
    }

    async fn sets_with_inactive_domains(&self) -> StoreResult<Vec<UniqueFqdnSetId>> {
        use sea_orm::{FromQueryResult, Statement};
        #[derive(Debug, FromQueryResult)]
        struct Row {
            unique_fqdn_set_id: i64,
        }
        // Inactive domains are few: one pass over them, then the sets they
        // belong to through the domain_id index (once per run, where a
        // per-certificate subquery costs a plan per page).
        let rows = Row::find_by_statement(Statement::from_string(
            self.db.get_database_backend(),
            "SELECT DISTINCT sd.unique_fqdn_set_id FROM domain d \
             JOIN unique_fqdn_set_domain sd ON sd.domain_id = d.id \
             WHERE d.is_active = FALSE ORDER BY sd.unique_fqdn_set_id",
        ))
        .all(&self.db)
        .await
        .db()?;
        Ok(rows
            .into_iter()
            .map(|r| UniqueFqdnSetId(r.unique_fqdn_set_id))
            .collect())
    }

    async fn domains_without_certificate(
        &self,
        after: DomainId,
        limit: u64,
    ) -> StoreResult<Vec<Domain>> {
        use sea_orm::QuerySelect;
        Ok(domain::Entity::find()
            .filter(domain::Column::IsActive.eq(true))
            .filter(domain::Column::CertificateSignedIdLatestSingle.is_null())
            .filter(domain::Column::CertificateSignedIdLatestMulti.is_null())
            .filter(domain::Column::DomainName.not_like("*.%"))
            .filter(domain::Column::Id.gt(after.0))
            .order_by_asc(domain::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await
            .db()?
            .into_iter()
            .map(convert::domain)
            .collect())
    }

    /// A page of publications: the served certificate of each active domain
    /// (latest multi, else latest single) with its key and the chain
    /// config.json serves (the CA preference list's choice among the chains
    /// it was offered, else the upstream default).
    async fn domain_publications(
        &self,
        after: DomainId,
        limit: u64,
        name: Option<&peter_core::dns::DomainName>,
    ) -> StoreResult<Vec<DomainPublication>> {
        use sea_orm::{FromQueryResult, Statement};
        let backend = self.db.get_database_backend();
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
                .all(&self.db)
                .await
                .db()?;
        let preferences: Vec<CertificateCaId> = self
            .ca_preferences_in(&self.db)
            .await?
            .iter()
            .map(|c| c.id)
            .collect();
        let mut out: Vec<DomainPublication> = Vec::new();
        let mut offers: Vec<CertificateChainOffer> = Vec::new();
        let mut flush = |rows: &[&PublicationRow], offers: &mut Vec<CertificateChainOffer>| {
            let Some(r) = rows.first() else { return };
            offers.sort_by_key(|o| (!o.is_upstream_default, o.chain.id));
            let chain = peter_core::model::rules::choose_chain(offers, &preferences);
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
