//! Whose notices an admin manages.

use crate::{Result, StoreError};
use yichuang_core::{Actor, ActorKind, Role};

/// The region codes an admin's notices lie in (a county admin sees the county's).
pub(crate) fn admin_range(actor: &Actor) -> Result<(String, String)> {
    match &actor.kind {
        ActorKind::Staff {
            role: Role::Admin,
            region,
        } => Ok(region.code_range()),
        ActorKind::System => Ok((String::new(), "~".into())),
        _ => admin_in_scope(actor).map(|()| (String::new(), String::new())),
    }
}

/// The region whose texts an admin edits: their own ('' for the platform itself).
pub(crate) fn template_region(actor: &Actor) -> String {
    match &actor.kind {
        ActorKind::Staff { region, .. } => region.as_str().to_string(),
        _ => String::new(),
    }
}

pub(crate) fn admin_in_scope(actor: &Actor) -> Result<()> {
    match &actor.kind {
        ActorKind::Staff {
            role: Role::Admin, ..
        }
        | ActorKind::System => Ok(()),
        _ => Err(StoreError::forbidden(
            "notice.admin_only",
            "Only an administrator manages notices.",
            "只有管理员可以管理通知。",
        )),
    }
}
