//! The objects peter stores, their status sets, and the rules that move them
//! from one state to another.
//!
//! Status values keep the original's names and codes, internal codes
//! included (`*discovered*`, `*404*`, `*406*`, `*410*`, `deactivated`), so
//! that an operator who knows peter_sslers reads the same words here.

mod entities;
mod ids;
pub mod rules;
mod status;

pub use entities::*;
pub use ids::*;
pub use status::*;
