//! Staff roles and what each may do; the server checks every staff action here.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Clerk,
    Reviewer,
    Manager,
    Supervisor,
    Admin,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// See submitted cases and act at the window: accept, reject, correct, complete on the spot.
    Accept,
    /// Open a case for a walk-in applicant.
    WalkIn,
    /// Read any case in the region.
    ReadCases,
    /// Manage regions, departments, halls, windows, staff, catalog.
    Administer,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Clerk,
        Role::Reviewer,
        Role::Manager,
        Role::Supervisor,
        Role::Admin,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Clerk => "clerk",
            Role::Reviewer => "reviewer",
            Role::Manager => "manager",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
        }
    }
    pub fn parse(s: &str) -> Option<Role> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
    pub fn zh(self) -> &'static str {
        match self {
            Role::Clerk => "综合受理员",
            Role::Reviewer => "审核人员",
            Role::Manager => "大厅管理员",
            Role::Supervisor => "电子监察员",
            Role::Admin => "系统管理员",
        }
    }
    pub fn may(self, p: Permission) -> bool {
        use Permission as P;
        match self {
            Role::Clerk => matches!(p, P::Accept | P::WalkIn | P::ReadCases),
            Role::Reviewer => matches!(p, P::ReadCases),
            Role::Manager => matches!(p, P::Accept | P::WalkIn | P::ReadCases),
            Role::Supervisor => matches!(p, P::ReadCases),
            Role::Admin => matches!(p, P::Administer | P::ReadCases),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn only_admins_administer_and_supervisors_do_not_accept() {
        for r in Role::ALL {
            assert_eq!(r.may(Permission::Administer), r == Role::Admin);
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert!(!Role::Supervisor.may(Permission::Accept));
        assert!(Role::Clerk.may(Permission::Accept));
    }
}
