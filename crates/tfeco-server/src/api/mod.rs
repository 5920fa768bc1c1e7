//! The HTTP API: extractors and errors shared by every handler ([`extract`], [`error`], [`signed_read`]),
//! one module of handlers per domain, and the [`router`] that mounts them (the only module that imports the
//! handler modules). Handlers parse, read the replica under its lock, and call [`crate::views`]; no
//! economic rule lives here.

pub mod calc;
pub mod capacity;
pub mod checkpoints;
pub mod error;
pub mod events;
pub mod exchange;
pub mod exit_pool;
pub mod extract;
pub mod farming_pool;
pub mod governance;
pub mod journal_stream;
pub mod ledger;
pub mod pool2;
pub mod rewards;
pub mod router;
pub mod signed_read;
pub mod treasury;
pub mod tx;
pub mod web;

#[cfg(test)]
mod security_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_event_pages;
#[cfg(test)]
mod tests_journal_stream;
