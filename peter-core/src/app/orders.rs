//! ACME orders and what hangs off them: authorizations, challenges and
//! their polls, certificate requests and sets of names. An operation that
//! ends with a new certificate re-publishes its domains.

use super::{Affected, Changed, Peter};
use crate::error::Error;
use crate::model::rules::OrderMark;
use crate::model::*;
use crate::ports::*;
use crate::services;
use crate::services::downloads::Download;

pub use crate::services::orders::{OrderRequest, Step};

crate::model::closed_set!(
    /// How far one processing call goes.
    ProcessSteps, "processing steps" {
        /// To the end: the certificate is recorded, or the order failed.
        All => "all",
        /// One step (load an authorization, answer a challenge, finalize, download).
        One => "one",
    }
);

/// Order operations.
pub struct Orders<'a> {
    pub(crate) peter: &'a Peter,
}

impl Orders<'_> {
    /// A page of orders meeting `filter`, newest first.
    pub async fn list(&self, filter: OrderFilter, page: Page) -> Result<Paged<AcmeOrder>, Error> {
        Ok(self.peter.store().list_acme_orders(&filter, page).await?)
    }

    /// Like [`list`](Self::list), keeping only orders for `domain` (an id
    /// or a name) when it is given; a domain peter does not know has none.
    pub async fn list_for_domain(
        &self,
        mut filter: OrderFilter,
        domain: Option<&str>,
        page: Page,
    ) -> Result<Paged<AcmeOrder>, Error> {
        if let Some(identifier) = domain {
            match self.peter.domains().find(identifier).await? {
                Some(found) => filter.domain = Some(found.id),
                None => return Ok(Paged::empty(page)),
            }
        }
        self.list(filter, page).await
    }

    /// One order.
    pub async fn get(&self, id: AcmeOrderId) -> Result<AcmeOrder, Error> {
        Ok(self.peter.store().acme_order(id).await?)
    }

    /// An order's authorizations, in the order the server listed them.
    pub async fn authorizations(&self, id: AcmeOrderId) -> Result<Vec<AcmeAuthorization>, Error> {
        self.get(id).await?;
        Ok(self.peter.store().acme_authorizations_for_order(id).await?)
    }

    /// The ACME exchanges of an order, oldest first.
    pub async fn events(&self, id: AcmeOrderId) -> Result<Vec<AcmeEventLog>, Error> {
        self.get(id).await?;
        Ok(self.peter.store().acme_events_for_order(id).await?)
    }

    /// Places an order and, per its strategy, processes it. Wildcards,
    /// blocklisted names and profiles the CA does not offer are refused
    /// before anything is sent.
    pub async fn create(&self, request: OrderRequest) -> Result<Changed<AcmeOrder>, Error> {
        let order = self.peter.order_services()?.create(request).await?;
        Ok(self.after(order).await)
    }

    /// Processes an order to the end, or one step.
    pub async fn process(
        &self,
        id: AcmeOrderId,
        steps: ProcessSteps,
    ) -> Result<Changed<(AcmeOrder, Option<Step>)>, Error> {
        let orders = self.peter.order_services()?;
        let step = match steps {
            ProcessSteps::All => {
                orders.process_to_end(id).await?;
                None
            }
            ProcessSteps::One => Some(orders.process_step(id).await?),
        };
        self.after_step(id, step).await
    }

    /// Sends the CSR of an order the CA reports `ready` (one step).
    pub async fn finalize(
        &self,
        id: AcmeOrderId,
    ) -> Result<Changed<(AcmeOrder, Option<Step>)>, Error> {
        let step = self.peter.order_services()?.finalize(id).await?;
        self.after_step(id, Some(step)).await
    }

    /// Downloads and records the certificate of an order the CA reports `valid`.
    pub async fn download(
        &self,
        id: AcmeOrderId,
    ) -> Result<Changed<(AcmeOrder, Option<Step>)>, Error> {
        let step = self.peter.order_services()?.download(id).await?;
        self.after_step(id, Some(step)).await
    }

    /// Reads the order from the CA and records what it says.
    pub async fn sync(&self, id: AcmeOrderId) -> Result<AcmeOrder, Error> {
        self.peter.order_services()?.sync_order(id).await
    }

    /// Reads each of the order's authorizations from the CA.
    pub async fn sync_authorizations(
        &self,
        id: AcmeOrderId,
    ) -> Result<Vec<AcmeAuthorization>, Error> {
        self.peter.order_services()?.sync_authorizations(id).await
    }

    /// Deactivates the order's deactivatable authorizations at the CA and
    /// stops processing it.
    pub async fn deactivate_authorizations(
        &self,
        id: AcmeOrderId,
    ) -> Result<Vec<AcmeAuthorization>, Error> {
        self.peter
            .order_services()?
            .deactivate_authorizations(id)
            .await
    }

    /// Places a new order for the names and account of one that failed.
    pub async fn retry(
        &self,
        id: AcmeOrderId,
        strategy: AcmeOrderProcessingStrategy,
    ) -> Result<Changed<AcmeOrder>, Error> {
        let order = self.peter.order_services()?.retry(id, strategy).await?;
        Ok(self.after(order).await)
    }

    /// Renews the certificate an order obtained, with the same account and
    /// names (naming it in `replaces` when the CA offers ARI).
    pub async fn renew_quick(
        &self,
        id: AcmeOrderId,
        strategy: AcmeOrderProcessingStrategy,
    ) -> Result<Changed<AcmeOrder>, Error> {
        let order = self
            .peter
            .order_services()?
            .renew_order(id, strategy)
            .await?;
        Ok(self.after(order).await)
    }

    /// Orders the names of a certificate again, with `account` (default: the
    /// account that ordered it, else the global default).
    pub async fn renew_certificate(
        &self,
        id: CertificateSignedId,
        account: Option<AcmeAccountId>,
        strategy: AcmeOrderProcessingStrategy,
    ) -> Result<Changed<AcmeOrder>, Error> {
        let order = self
            .peter
            .order_services()?
            .renew_certificate(id, account, strategy)
            .await?;
        Ok(self.after(order).await)
    }

    /// Marks an order `invalid` (local bookkeeping) or `deactivate` (cancel).
    pub async fn mark(&self, id: AcmeOrderId, mark: OrderMark) -> Result<AcmeOrder, Error> {
        let order = self.get(id).await?;
        crate::model::rules::ensure_order_markable(mark, order.status, order.is_processing)?;
        let update = match mark {
            OrderMark::Invalid => AcmeOrderUpdate {
                status: Some(AcmeOrderStatus::Invalid),
                is_processing: Some(None),
                ..Default::default()
            },
            OrderMark::Deactivate => AcmeOrderUpdate {
                is_processing: Some(Some(false)),
                processing_status: Some(AcmeOrderProcessingStatus::ProcessingDeactivated),
                ..Default::default()
            },
        };
        Ok(self.peter.store().update_acme_order(id, update).await?)
    }

    // ----- authorizations -----

    /// A page of authorizations, newest first.
    pub async fn list_authorizations(&self, page: Page) -> Result<Paged<AcmeAuthorization>, Error> {
        Ok(self
            .peter
            .store()
            .list_acme_authorizations(None, page)
            .await?)
    }

    /// One authorization.
    pub async fn authorization(&self, id: AcmeAuthorizationId) -> Result<AcmeAuthorization, Error> {
        Ok(self.peter.store().acme_authorization(id).await?)
    }

    /// An authorization's challenges.
    pub async fn authorization_challenges(
        &self,
        id: AcmeAuthorizationId,
    ) -> Result<Vec<AcmeChallenge>, Error> {
        self.authorization(id).await?;
        Ok(self
            .peter
            .store()
            .acme_challenges_for_authorization(id)
            .await?)
    }

    /// Reads an authorization (and its challenges) from the CA.
    pub async fn sync_authorization(
        &self,
        id: AcmeAuthorizationId,
    ) -> Result<AcmeAuthorization, Error> {
        self.peter.order_services()?.sync_authorization(id).await
    }

    /// Deactivates an authorization at the CA.
    pub async fn deactivate_authorization(
        &self,
        id: AcmeAuthorizationId,
    ) -> Result<AcmeAuthorization, Error> {
        self.peter
            .order_services()?
            .deactivate_authorization(id)
            .await
    }

    // ----- challenges -----

    /// A page of challenges, newest first.
    pub async fn list_challenges(&self, page: Page) -> Result<Paged<AcmeChallenge>, Error> {
        Ok(self.peter.store().list_acme_challenges(None, page).await?)
    }

    /// One challenge.
    pub async fn challenge(&self, id: AcmeChallengeId) -> Result<AcmeChallenge, Error> {
        Ok(self.peter.store().acme_challenge(id).await?)
    }

    /// The answered fetches of a challenge (per address: count, first and
    /// last seen), including those this process has not written yet.
    pub async fn challenge_polls(
        &self,
        id: AcmeChallengeId,
    ) -> Result<Vec<AcmeChallengePoll>, Error> {
        self.challenge(id).await?;
        self.peter.challenges().flush_polls(false).await?;
        Ok(self.peter.store().challenge_polls(id).await?)
    }

    /// Reads a challenge from the CA.
    pub async fn sync_challenge(&self, id: AcmeChallengeId) -> Result<AcmeChallenge, Error> {
        self.peter.order_services()?.sync_challenge(id).await
    }

    /// Tells the CA a pending challenge is ready.
    pub async fn trigger_challenge(&self, id: AcmeChallengeId) -> Result<AcmeChallenge, Error> {
        self.peter.order_services()?.trigger_challenge(id).await
    }

    /// A page of answered challenge fetches, newest first.
    pub async fn list_challenge_polls(
        &self,
        page: Page,
    ) -> Result<Paged<AcmeChallengePoll>, Error> {
        self.peter.challenges().flush_polls(false).await?;
        Ok(self.peter.store().list_acme_challenge_polls(page).await?)
    }

    /// A page of fetches for unknown hosts or tokens (per host and token:
    /// count, first and last seen), most recently seen first.
    pub async fn list_unknown_challenge_polls(
        &self,
        page: Page,
    ) -> Result<Paged<AcmeChallengeUnknownPoll>, Error> {
        self.peter.challenges().flush_polls(false).await?;
        Ok(self
            .peter
            .store()
            .list_unknown_challenge_polls(page)
            .await?)
    }

    // ----- certificate requests and sets of names -----

    /// A page of certificate requests, newest first.
    pub async fn list_certificate_requests(
        &self,
        page: Page,
    ) -> Result<Paged<CertificateRequest>, Error> {
        Ok(self.peter.store().list_certificate_requests(page).await?)
    }

    /// One certificate request.
    pub async fn certificate_request(
        &self,
        id: CertificateRequestId,
    ) -> Result<CertificateRequest, Error> {
        Ok(self.peter.store().certificate_request(id).await?)
    }

    /// A certificate request's file.
    pub async fn certificate_request_download(
        &self,
        id: CertificateRequestId,
        file: CsrFile,
    ) -> Result<Download, Error> {
        services::downloads::csr_download(self.peter.store(), id, file.format()).await
    }

    /// A page of sets of names, newest first.
    pub async fn list_unique_fqdn_sets(
        &self,
        page: Page,
    ) -> Result<Paged<UniqueFqdnSetRecord>, Error> {
        Ok(self.peter.store().list_unique_fqdn_sets(None, page).await?)
    }

    /// One set of names.
    pub async fn unique_fqdn_set(&self, id: UniqueFqdnSetId) -> Result<UniqueFqdnSetRecord, Error> {
        Ok(self.peter.store().unique_fqdn_set(id).await?)
    }

    /// Re-publishes after an operation that may have recorded a certificate.
    async fn after(&self, order: AcmeOrder) -> Changed<AcmeOrder> {
        let affected = Affected::Certificates(order.certificate_signed_id.into_iter().collect());
        self.peter.changed(order, affected).await
    }

    async fn after_step(
        &self,
        id: AcmeOrderId,
        step: Option<Step>,
    ) -> Result<Changed<(AcmeOrder, Option<Step>)>, Error> {
        let order = self.get(id).await?;
        // Only the step that recorded the certificate changes what is served.
        let recorded = matches!(step, None | Some(Step::Downloaded));
        let affected = Affected::Certificates(
            order
                .certificate_signed_id
                .filter(|_| recorded)
                .into_iter()
                .collect(),
        );
        Ok(self.peter.changed((order, step), affected).await)
    }
}
