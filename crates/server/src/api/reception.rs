//! Reception endpoints: checking in (or being checked in by reception staff), a patient's
//! visits, and running a department's line — call next, recall, skip, start, complete,
//! no-show, re-queue, cancel, move — plus the hospital's number prefixes.
//!
//! The database enforces numbers, order, one active visit per patient and day, and the
//! legal transitions; this module checks the request (department of the hospital, hospital
//! open, doctor of the department, appointment booked for today), decides between doing the
//! check-in now and the waiting room, and tells the lines that changed.
//!
//! One file per part: `check_ins` (checking in and its retries), `visit` (reading visits),
//! `calling` (call next), `steps` (a visit's steps and moves), `todays_line` (the desk's
//! list), `prefixes` (waiting-number prefixes); `line_state` tells the lines and places a
//! waiting visit, `lookups` checks what a request names, `errors` shapes the answers.

mod calling;
mod check_ins;
mod errors;
mod line_state;
mod lookups;
mod prefixes;
mod steps;
mod todays_line;
mod visit;

pub use calling::{__path_call_next, CallNextRequest, call_next};
pub(crate) use check_ins::key_reused;
pub use check_ins::{__path_check_in, CheckInRequest, check_in};
pub(crate) use errors::reception_error;
pub(crate) use line_state::{announce, place};
pub use prefixes::{__path_put_prefix, PrefixBody, put_prefix};
pub use steps::{
    __path_cancel, __path_complete, __path_move_visit, __path_no_show, __path_recall,
    __path_requeue, __path_skip, __path_start, MoveRequest, cancel, complete, move_visit, no_show,
    recall, requeue, skip, start,
};
pub use todays_line::{__path_line, line};
pub(crate) use visit::readable_visit;
pub use visit::{__path_get_visit, __path_my_visits, VisitList, get_visit, my_visits};
