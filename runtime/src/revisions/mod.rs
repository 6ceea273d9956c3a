//! Revisions: each routed component of the manifest starts as revision 1;
//! new revisions are deployed while serving, pass a health gate, and take
//! traffic atomically — all of it, or a canary's share watched for `5xx`
//! and rolled back by itself. The local twin of Azure Container Apps
//! revisions (README "Revisions").
//!
//! - [`model`]: what a revision is (immutable) and its states.
//! - [`split`]: the request path — a component's [`ComponentSlot`], its
//!   current [`Split`] behind an `ArcSwap`, weighted picks, in-flight marks.
//! - [`gate`]: the health gate: instantiate, then readiness requests
//!   in-process through the handler's own guest runner.
//! - [`canary`]: the watch window and its verdict.
//! - [`registry`]: [`Revisions`] and the control operations.
//! - `history`: one component's revisions and rollout, and the bookkeeping
//!   the operations share.
//! - `rollout`: the background tasks: compile, gate, place, watch, retire.
//! - [`form`], [`view`]: the control API's request and answer documents.
//! - [`auth`]: the chaos token, asked of the sidecar.
//! - [`api`]: the control API under `/_chaoslab/` (axum).
//! - [`watch`]: `chaoslab up --watch`.

pub mod api;
pub mod auth;
pub mod canary;
pub mod form;
pub mod gate;
mod history;
pub mod model;
pub mod registry;
mod rollout;
pub mod split;
pub mod view;
pub mod watch;

pub use auth::ControlAuth;
pub use registry::{Revisions, Settings};
pub use split::{ComponentSlot, InFlight, ServingRevision, Split};
