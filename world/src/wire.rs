//! The `handler` world of `wit/sidecar.wit`: the guests' `chaoslab:sidecar`
//! imports on `wasm32`, and everywhere the types of the contract with the
//! serde form the loopback link sends (records as objects with snake_case
//! fields, variants as `"Case"` / `{"Case": payload}`, results as
//! `{"Ok": …}` / `{"Err": …}`).
//!
//! On the host the import functions exist only as stubs that are never
//! called: the host uses the types.
#![allow(missing_docs)] // generated code
#![allow(unsafe_code)] // the component model ABI glue of the imports

wit_bindgen::generate!({
    world: "handler",
    path: "../wit",
    additional_derives: [serde::Serialize, serde::Deserialize, PartialEq],
});

pub use chaoslab::sidecar::{chaos, store, telemetry};
