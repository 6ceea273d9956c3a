//! Guest bindings for the `chaoslab:sidecar` imports (see `wit/sidecar.wit`).
#![allow(missing_docs)]

spin_sdk::wit_bindgen::generate!({
    world: "handler",
    path: "../../wit",
    runtime_path: "::spin_sdk::wit_bindgen::rt",
});
