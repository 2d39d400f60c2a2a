//! Accounts: roles, contact details, passwords and one-time codes.

mod email;
mod password;
mod phone;
mod role;

pub use email::{Email, EmailProblem};
pub use password::{PasswordProblem, check_password};
pub use phone::{Phone, PhoneProblem};
pub use role::{Role, UnknownRole};
