//! Who is acting, and the scope rules every case command checks.

use crate::ids::RegionCode;
use crate::roles::{Permission, Role};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActorKind {
    Applicant,
    Staff {
        role: Role,
        region: RegionCode,
    },
    /// The platform itself (demo loader, workers, CLI).
    System,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub account_id: i64,
    pub kind: ActorKind,
    pub client_addr: String,
}

impl Actor {
    pub fn system() -> Self {
        Actor {
            account_id: 0,
            kind: ActorKind::System,
            client_addr: "local".into(),
        }
    }

    pub fn role_name(&self) -> &'static str {
        match &self.kind {
            ActorKind::Applicant => "applicant",
            ActorKind::Staff { role, .. } => role.as_str(),
            ActorKind::System => "system",
        }
    }

    /// Staff with `p` whose region contains `case_region`.
    pub fn may_in(&self, p: Permission, case_region: &str) -> bool {
        match &self.kind {
            ActorKind::Staff { role, region } => {
                role.may(p) && RegionCode::parse(case_region).is_ok_and(|c| region.contains(&c))
            }
            ActorKind::System => true,
            ActorKind::Applicant => false,
        }
    }

    /// The applicant who owns the case.
    pub fn owns(&self, applicant_id: i64) -> bool {
        matches!(self.kind, ActorKind::Applicant) && self.account_id == applicant_id
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn clerk_is_scoped_to_region() {
        let clerk = Actor {
            account_id: 1,
            kind: ActorKind::Staff {
                role: Role::Clerk,
                region: RegionCode::parse("360822").unwrap(),
            },
            client_addr: String::new(),
        };
        assert!(clerk.may_in(Permission::Accept, "360822"));
        assert!(clerk.may_in(Permission::Accept, "360822100"));
        assert!(!clerk.may_in(Permission::Accept, "420105"));
        assert!(!clerk.may_in(Permission::Administer, "360822"));
        assert!(!clerk.owns(1));
    }
}
