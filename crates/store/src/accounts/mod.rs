//! Accounts (applicants and staff), halls and windows, logins and sessions, idempotency keys.

pub mod account;
pub mod halls;
pub mod idempotency;
pub mod sessions;

pub use account::{insert_account, Account, NewAccount};
pub use halls::{Hall, Window};
pub use idempotency::Idempotency;
pub use sessions::{token_hash, Session};
