//! The `layer` world of `wit/http.wit` (feature `layer`): the chaos layer
//! component exports `wasi:http/incoming-handler` (it implements the
//! generated `Guest` and calls `export!`) and imports the wrapped handler's
//! `wasi:http/incoming-handler`, plus `chaoslab:sidecar/chaos`, which is
//! [`crate::wire`]'s (one set of chaos types for every component).
#![allow(missing_docs)] // generated code
#![allow(unsafe_code)] // the component model ABI glue of the imports and exports

wit_bindgen::generate!({
    world: "layer",
    path: "../wit",
    with: { "chaoslab:sidecar/chaos@0.1.0": crate::wire::chaos },
    generate_all,
    pub_export_macro: true,
    default_bindings_module: "chaoslab_world::layer",
});

pub use exports::wasi::http::incoming_handler as export;
pub use wasi::http::incoming_handler as inner;
pub use wasi::http::types;
pub use wasi::io::streams;
