//! The ports: traits that adapters implement so that the services in
//! [`crate::services`] can reach storage and time without knowing how.

mod clock;
mod storage;

pub use clock::{Clock, ManualClock, SystemClock};
pub use storage::*;
