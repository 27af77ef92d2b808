//! The ports: traits that adapters implement so that the services in
//! [`crate::services`] can reach storage and time without knowing how.

mod acme;
mod clock;
mod publish;
mod storage;

pub use acme::*;
pub use clock::{Clock, ManualClock, SystemClock};
pub use publish::*;
pub use storage::*;
