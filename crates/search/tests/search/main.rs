//! Behaviour tests of the directory index on a small fixed data set (and, in `recall`, a few
//! hundred generated hospitals checked against brute force).

mod doctors;
mod filters;
mod fixture;
mod korean;
mod latin;
mod pagination;
mod ranking;
mod recall;
mod updates;
