//! Who someone is to the system. Authorisation decisions start from the role.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Patient,
    Doctor,
    Nurse,
    Reception,
    /// Manages one hospital: its staff, departments, timetable, wards and devices.
    HospitalAdmin,
    /// Runs the whole installation.
    Admin,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Patient,
        Role::Doctor,
        Role::Nurse,
        Role::Reception,
        Role::HospitalAdmin,
        Role::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Patient => "patient",
            Role::Doctor => "doctor",
            Role::Nurse => "nurse",
            Role::Reception => "reception",
            Role::HospitalAdmin => "hospital_admin",
            Role::Admin => "admin",
        }
    }

    /// Staff work for one hospital; patients and installation admins do not belong to any.
    pub fn is_staff(self) -> bool {
        matches!(
            self,
            Role::Doctor | Role::Nurse | Role::Reception | Role::HospitalAdmin
        )
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown role {0:?}")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_round_trips_through_its_name() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
        }
        assert!("superuser".parse::<Role>().is_err());
    }

    #[test]
    fn only_hospital_roles_are_staff() {
        let staff: Vec<_> = Role::ALL.into_iter().filter(|r| r.is_staff()).collect();
        assert_eq!(
            staff,
            [
                Role::Doctor,
                Role::Nurse,
                Role::Reception,
                Role::HospitalAdmin
            ]
        );
    }
}
