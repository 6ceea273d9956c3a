//! Wrapping a handler in the chaos layer: one component in which the layer's
//! `wasi:http/incoming-handler` import is plugged with the handler's export,
//! and whose only export is the layer's. Everything else either of them
//! imports (WASI, `chaoslab:sidecar/*`) stays an import of the result, merged
//! by name, semver-compatible versions into the newest (wac's rule): the
//! handler's `wasi:http/types@0.2.9` and the layer's `@0.2.6` become one
//! import, so the request and response resources the layer receives are the
//! very ones it hands to the handler.
//!
//! The result runs wherever the handler did (the Spin CLI, the embedded
//! runtime, either link), with the data-plane faults applied in front of it.

use std::fmt;

use wac_graph::types::{Package, are_semver_compatible};
use wac_graph::{CompositionGraph, EncodeOptions, NodeId, PackageId};

/// The interface the layer imports from the handler and exports itself.
pub const INCOMING_HANDLER: &str = "wasi:http/incoming-handler@0.2.0";

/// Which input a [`WrapError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// The handler to wrap.
    Handler,
    /// The chaos layer component.
    Layer,
}

impl fmt::Display for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Handler => "the handler",
            Self::Layer => "the chaos layer",
        })
    }
}

/// Why a handler cannot be wrapped.
#[derive(Debug, thiserror::Error)]
pub enum WrapError {
    /// The bytes are not WebAssembly at all.
    #[error("{0} is not WebAssembly (it lacks the `\\0asm` header)")]
    NotWasm(Input),
    /// A core module: the component model's wrapper is missing.
    #[error(
        "{0} is a core WebAssembly module, not a component: build it for wasm32-wasip2 \
         (or make it a component first, e.g. `wasm-tools component new`)"
    )]
    CoreModule(Input),
    /// The handler serves no HTTP.
    #[error("the handler does not export {INCOMING_HANDLER} (or another 0.2.x); its exports: {exports}")]
    NoIncomingHandler {
        /// What it exports, for the message.
        exports: String,
    },
    /// The layer is some other component.
    #[error("the chaos layer must import and export {INCOMING_HANDLER}: pass chaoslab_chaos_layer.wasm")]
    NotALayer,
    /// wac could not read a component or build, or validate, the composition.
    #[error("{context}: {cause:#}")]
    Graph {
        /// What was being done.
        context: String,
        /// wac's error.
        cause: anyhow::Error,
    },
}

/// Wraps `handler` (a component's bytes) in `layer` (the chaos layer's);
/// returns the bytes of the composed, validated component.
pub fn wrap(handler: Vec<u8>, layer: Vec<u8>) -> Result<Vec<u8>, WrapError> {
    check_component(&handler, Input::Handler)?;
    check_component(&layer, Input::Layer)?;
    let mut graph = CompositionGraph::new();
    let handler_id = register(&mut graph, "chaoslab:handler", handler, Input::Handler)?;
    let layer_id = register(&mut graph, "chaoslab:chaos-layer", layer, Input::Layer)?;

    let handler_exports: Vec<String> = graph.types()[graph[handler_id].ty()].exports.keys().cloned().collect();
    let served = handler_exports
        .iter()
        .find(|name| are_semver_compatible(name, INCOMING_HANDLER))
        .ok_or_else(|| WrapError::NoIncomingHandler { exports: list(&handler_exports) })?
        .clone();
    let layer_world = &graph.types()[graph[layer_id].ty()];
    if !layer_world.imports.contains_key(INCOMING_HANDLER) || !layer_world.exports.contains_key(INCOMING_HANDLER) {
        return Err(WrapError::NotALayer);
    }

    let handler_node = graph.instantiate(handler_id);
    let layer_node = graph.instantiate(layer_id);
    let inner = alias(&mut graph, handler_node, &served, "the handler's")?;
    graph.set_instantiation_argument(layer_node, INCOMING_HANDLER, inner).map_err(|e| WrapError::Graph {
        context: format!("plugging the layer's {INCOMING_HANDLER} import with the handler's {served} export"),
        cause: e.into(),
    })?;
    let outer = alias(&mut graph, layer_node, INCOMING_HANDLER, "the layer's")?;
    graph.export(outer, INCOMING_HANDLER).map_err(|e| WrapError::Graph {
        context: format!("exporting the layer's {INCOMING_HANDLER}"),
        cause: e.into(),
    })?;
    graph
        .encode(EncodeOptions::default())
        .map_err(|e| WrapError::Graph { context: "encoding the wrapped component".into(), cause: e.into() })
}

/// A component, or the reason it is not one.
fn check_component(bytes: &[u8], input: Input) -> Result<(), WrapError> {
    if wasmparser::Parser::is_component(bytes) {
        Ok(())
    } else if wasmparser::Parser::is_core_wasm(bytes) {
        Err(WrapError::CoreModule(input))
    } else {
        Err(WrapError::NotWasm(input))
    }
}

/// Reads `bytes` as a package named `name` and registers it.
fn register(graph: &mut CompositionGraph, name: &str, bytes: Vec<u8>, input: Input) -> Result<PackageId, WrapError> {
    let context = || format!("reading {input}");
    let package = Package::from_bytes(name, None, bytes, graph.types_mut())
        .map_err(|cause| WrapError::Graph { context: context(), cause })?;
    graph.register_package(package).map_err(|e| WrapError::Graph { context: context(), cause: e.into() })
}

/// The instance `node`'s export `name`, as a node.
fn alias(graph: &mut CompositionGraph, node: NodeId, name: &str, whose: &str) -> Result<NodeId, WrapError> {
    graph
        .alias_instance_export(node, name)
        .map_err(|e| WrapError::Graph { context: format!("using {whose} {name} export"), cause: e.into() })
}

/// `a, b, c`, or `nothing`.
fn list(names: &[String]) -> String {
    if names.is_empty() { "nothing".to_owned() } else { names.join(", ") }
}
