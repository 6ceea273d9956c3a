//! The `bridge` world of `wit/sidecar.wit`: the `chaoslab:sidecar`
//! interfaces the `sidecar-link` component exports (it implements the
//! generated `Guest` traits and calls `export!`). The types have the same
//! serde form as [`crate::wire`]'s: the bridge sends them over the link.
#![allow(missing_docs)] // generated code
#![allow(unsafe_code)] // the component model ABI glue of the exports

wit_bindgen::generate!({
    world: "bridge",
    path: "../wit",
    additional_derives: [serde::Serialize, serde::Deserialize, PartialEq],
    pub_export_macro: true,
    default_bindings_module: "chaoslab_world::bridge",
});

pub use exports::chaoslab::sidecar::{chaos, store, telemetry};
