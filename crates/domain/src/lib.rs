//! DocDe's domain core: value types parsed at the edge and the rules between them.
//!
//! Nothing here does IO or knows about HTTP or SQL. Once a value of one of these types exists,
//! it is valid: constructors are the only way in, and they say precisely what is wrong.

pub mod account;
pub mod directory;
pub mod reception;
pub mod record;
pub mod schedule;
pub mod ward;
