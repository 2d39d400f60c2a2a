//! Outgoing e-mail: the transport (an SMTP relay, or files in `DATA_DIR/outbox/` when none is
//! configured) and the background dispatcher that drains the store's outbox through it.
//!
//! Code that wants a message sent never talks to SMTP: it writes the message to the outbox
//! (with [`dispatcher::enqueue_and_wake`], or with `docde_store::enqueue_email!` inside its own
//! transaction followed by [`dispatcher::wake`]) and the dispatcher delivers it, retrying
//! through outages. Nothing here logs an address, a subject or a body: outbox ids and error
//! categories only, because bodies carry verification codes.

pub mod dispatcher;
pub mod outbox_dir;
pub mod transport;

pub use dispatcher::{enqueue_and_wake, wake};
pub use docde_store::outbox::NewEmail;
pub use outbox_dir::{StoredEmail, list_directory, outbox_dir, render_listing};
pub use transport::{SendError, Transport};
