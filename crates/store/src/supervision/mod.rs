//! Supervision (电子监察): the dashboard of open cases by light, and warnings and supervision
//! notices (督办).

pub mod dashboard;
pub mod notices;

pub use dashboard::{Dashboard, DashboardFilter, OpenCase};
pub use notices::{Notice, NoticeFilter};
