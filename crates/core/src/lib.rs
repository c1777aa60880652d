//! The Yichuang domain: pure and synchronous. No I/O, no async, no SQL.

pub mod actor;
pub mod calendar;
pub mod case;
pub mod catalog;
pub mod deadline;
pub mod ids;
pub mod notify;
pub mod number;
pub mod roles;
pub mod workflow;

pub use actor::{Actor, ActorKind};
pub use case::{apply, CaseCommand, CaseEvent, CaseState, CaseStatus, DomainError, Verdict};
pub use ids::{RegionCode, ResidentId, Uscc};
pub use number::CaseNumber;
pub use roles::{Permission, Role};
pub mod upload;
