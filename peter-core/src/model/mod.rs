//! The objects peter stores, their status sets, and the rules that move them
//! from one state to another.
//!
//! Status values keep the original's names and codes, internal codes
//! included (`*discovered*`, `*404*`, `*406*`, `*410*`, `deactivated`), so
//! that an operator who knows peter_sslers reads the same words here.

mod closed;
mod entities;
mod files;
mod ids;
pub mod rules;
mod status;

pub(crate) use closed::closed_set;
pub use closed::{ClosedSet, unknown};
pub use entities::*;
pub use files::*;
pub use ids::*;
pub use status::*;
