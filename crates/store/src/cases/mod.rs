//! Cases (办件): the `cases` row and the commands that change it. Each command loads the case
//! inside its transaction, asks the core state machine, writes the new state with an optimistic
//! version check (so two clerks racing on PostgreSQL get one success and one conflict), and
//! writes its audit record. Only this module writes the `cases` row; the open-case buckets and
//! the conclusion's record move with it.

pub mod applicants;
pub mod buckets;
pub mod change;
pub mod conclude;
pub mod draft;
pub mod read;
pub mod row;
pub mod sql;
pub mod submit;
pub mod suspensions;
pub mod types;
pub mod window;
pub mod write;

pub use applicants::{ApplicantCase, ApplicantView};
pub use draft::check_form;
pub use suspensions::Suspension;
pub use types::{
    CaseStatusView, CaseSummary, CaseView, CorrectionNoticeView, MaterialCheck, NewSubmission,
    SubmissionView, WindowDecision,
};
