//! Host bindings for `wit/sidecar.wit`, generated once for the in-process link.

wasmtime::component::bindgen!({
    world: "handler",
    path: "../wit",
    imports: { default: async },
});
