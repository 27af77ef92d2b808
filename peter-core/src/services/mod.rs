//! Application services: the operations a user asks for, written against the
//! ports so that the CLI, the HTTP API and embedding programs share them.

pub mod accounts;
pub mod downloads;
pub mod import;
pub mod orders;
