//! Host bindings for `wit/sidecar.wit`, generated once for the in-process link
//! and for the loopback sidecar server. The generated types also derive serde:
//! their JSON form is the wire format of the loopback link (wit/README.md).
#![allow(missing_docs)] // generated code

wasmtime::component::bindgen!({
    world: "handler",
    path: "../wit",
    imports: { default: async },
    additional_derives: [serde::Serialize, serde::Deserialize],
});
