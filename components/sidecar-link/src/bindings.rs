//! Guest bindings for the `bridge` world of `wit/sidecar.wit`: the
//! `chaoslab:sidecar` interfaces this component exports. The types derive
//! serde: their JSON form is the wire format (wit/README.md).
#![allow(missing_docs)] // generated code

spin_sdk::wit_bindgen::generate!({
    world: "bridge",
    path: "../../wit",
    runtime_path: "::spin_sdk::wit_bindgen::rt",
    additional_derives: [serde::Serialize, serde::Deserialize],
    pub_export_macro: true,
});
