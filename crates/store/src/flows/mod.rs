//! Workflow (流程) persistence: a case's flow is its `tasks` rows plus `flow_stage` and
//! `flow_result` on the case; the stages are the snapshot taken at acceptance.

pub mod load;
pub mod run;
pub mod save;
pub mod tasks;
pub mod types;

pub use types::{TaskAction, TaskOutcome, TaskView, Transfer};
