//! The ACME exchange log and the operations events.

use super::Peter;
use crate::error::Error;
use crate::model::*;
use crate::ports::*;

/// Log reads.
pub struct Logs<'a> {
    pub(crate) peter: &'a Peter,
}

impl Logs<'_> {
    /// A page of ACME exchanges, newest first (no bodies, keys or nonces are kept).
    pub async fn acme_events(&self, page: Page) -> Result<Paged<AcmeEventLog>, Error> {
        Ok(self.peter.store().list_acme_events(page).await?)
    }

    /// One ACME exchange.
    pub async fn acme_event(&self, id: AcmeEventLogId) -> Result<AcmeEventLog, Error> {
        Ok(self.peter.store().acme_event(id).await?)
    }

    /// A page of operations events, newest first.
    pub async fn operations_events(&self, page: Page) -> Result<Paged<OperationsEvent>, Error> {
        Ok(self.peter.store().list_operations_events(page).await?)
    }
}
