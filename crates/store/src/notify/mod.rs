//! Notices to people (C6), through the outbox. A step writes its notices in its own
//! transaction (`events`), so a step that rolls back sends nothing and a committed one cannot
//! lose its notice; the delivery worker claims due notices, renders them with the current texts
//! (`texts`, edited in `templates`) and hands them to a channel (`delivery`). A person reads
//! their in-app notices (`inbox`) and chooses how to hear (`prefs`); `brake` slows guessing on
//! the public status page.

pub mod brake;
pub mod delivery;
pub mod events;
pub mod inbox;
pub mod prefs;
pub mod scope;
pub mod templates;
pub mod texts;

pub use brake::TryGate;
pub use delivery::{Delivered, DeliveryRow, Outgoing};
pub use inbox::InboxNotice;
pub use prefs::NoticePrefs;
pub use templates::TemplateRow;
pub use texts::region_chain;
