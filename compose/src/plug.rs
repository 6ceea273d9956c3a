//! Plugging a component with its `[component.<id>.dependencies]`, as Spin
//! does for `spin up`: each dependency is instantiated once and its exports
//! plug the imports the dependency's key names; everything else (WASI, the
//! dependency's own imports) stays an import of the composed component, so
//! the runtime links it as usual. Built on `wac-graph`.
//!
//! A key names imports like Spin's keys do: a package (`chaoslab:sidecar`,
//! optionally `@0.1.0`) plugs every import from that package; an interface
//! (`chaoslab:sidecar/store`, optionally versioned) plugs that one, from the
//! dependency's export of the same name or the one `export` names.

use std::collections::BTreeMap;

use wac_graph::types::Package;
use wac_graph::{CompositionGraph, EncodeOptions};

/// One dependency to plug: the manifest key, the `.wasm` bytes and path, and
/// the optional `export` to use.
#[derive(Debug)]
pub struct Plug<'a> {
    /// The `[component.<id>.dependencies]` key.
    pub key: &'a str,
    /// The dependency's `.wasm` path (for messages).
    pub path: &'a str,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// `export = "…"`: the export to plug instead of the import's own name.
    pub export: Option<&'a str>,
}

/// Why a composition failed; each names the dependency key at fault.
#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    /// The key matches no import of the component.
    #[error("dependency {key:?} matches no import of the component (its imports: {imports})")]
    NoMatchingImport {
        /// The key.
        key: String,
        /// The component's imports, for the message.
        imports: String,
    },
    /// The dependency does not export what the import needs.
    #[error("dependency {key:?} ({path}) does not export {wanted:?} (its exports: {exports})")]
    MissingExport {
        /// The key.
        key: String,
        /// The dependency's path.
        path: String,
        /// The export looked for.
        wanted: String,
        /// What it exports.
        exports: String,
    },
    /// The key is not a package or interface name.
    #[error("dependency key {key:?} is not a package (`ns:pkg[@ver]`) or interface (`ns:pkg/iface[@ver]`) name")]
    BadKey {
        /// The key.
        key: String,
    },
    /// `export` was given for a key that plugs several imports.
    #[error("dependency {key:?} sets `export` but names a whole package; name one interface instead")]
    ExportNeedsInterface {
        /// The key.
        key: String,
    },
    /// The component itself is not a valid component (nothing to compose).
    #[error("not a valid component: {cause:#}")]
    InvalidComponent {
        /// wac's error.
        cause: anyhow::Error,
    },
    /// wac could not read a dependency or build the graph.
    #[error("{context}: {cause:#}")]
    Graph {
        /// What was being done.
        context: String,
        /// wac's error.
        cause: anyhow::Error,
    },
}

/// A parsed dependency key.
#[derive(Debug, PartialEq, Eq)]
struct Key<'a> {
    /// `ns:pkg`.
    package: &'a str,
    /// `iface`, when the key names one interface.
    interface: Option<&'a str>,
    /// `ver`, when given.
    version: Option<&'a str>,
}

impl<'a> Key<'a> {
    fn parse(key: &'a str) -> Option<Self> {
        let (name, version) = match key.split_once('@') {
            Some((name, version)) => (name, Some(version)),
            None => (key, None),
        };
        let (package, interface) = match name.split_once('/') {
            Some((package, interface)) => (package, Some(interface)),
            None => (name, None),
        };
        let (ns, pkg) = package.split_once(':')?;
        let ok = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        (ok(ns) && ok(pkg) && interface.is_none_or(ok) && version.is_none_or(|v| !v.is_empty())).then_some(Self {
            package,
            interface,
            version,
        })
    }

    /// True when `import` (`ns:pkg/iface@ver`) is named by this key.
    fn matches(&self, import: &str) -> bool {
        let Some(parsed) = Key::parse(import) else { return false };
        parsed.package == self.package
            && self.interface.is_none_or(|i| parsed.interface == Some(i))
            && self.version.is_none_or(|v| parsed.version == Some(v))
    }
}

/// Composes `socket` (a component's bytes) with `plugs`; returns the bytes
/// of one component with the socket's exports and the remaining imports.
pub fn compose(socket: Vec<u8>, plugs: Vec<Plug<'_>>) -> Result<Vec<u8>, ComposeError> {
    let graph_err = |context: String| move |cause: anyhow::Error| ComposeError::Graph { context, cause };
    let mut graph = CompositionGraph::new();
    let package = Package::from_bytes("chaoslab:component", None, socket, graph.types_mut())
        .map_err(|cause| ComposeError::InvalidComponent { cause })?;
    let socket_id =
        graph.register_package(package).map_err(|e| graph_err("registering the component".into())(e.into()))?;
    let socket_ty = graph[socket_id].ty();
    let imports: Vec<String> = graph.types()[socket_ty].imports.keys().cloned().collect();
    let exports: Vec<String> = graph.types()[socket_ty].exports.keys().cloned().collect();
    let socket_node = graph.instantiate(socket_id);

    let mut plugged: BTreeMap<String, String> = BTreeMap::new();
    for (n, plug) in plugs.into_iter().enumerate() {
        let key = Key::parse(plug.key).ok_or_else(|| ComposeError::BadKey { key: plug.key.to_owned() })?;
        if plug.export.is_some() && key.interface.is_none() {
            return Err(ComposeError::ExportNeedsInterface { key: plug.key.to_owned() });
        }
        let matched: Vec<&String> = imports.iter().filter(|i| key.matches(i)).collect();
        if matched.is_empty() {
            return Err(ComposeError::NoMatchingImport { key: plug.key.to_owned(), imports: imports.join(", ") });
        }
        let context = format!("reading dependency {:?} ({})", plug.key, plug.path);
        let dep = Package::from_bytes(&format!("chaoslab:dependency{n}"), None, plug.bytes, graph.types_mut())
            .map_err(graph_err(context.clone()))?;
        let dep_id = graph.register_package(dep).map_err(|e| graph_err(context.clone())(e.into()))?;
        let dep_exports: Vec<String> = graph.types()[graph[dep_id].ty()].exports.keys().cloned().collect();
        let dep_node = graph.instantiate(dep_id);
        for import in matched {
            let wanted = plug.export.unwrap_or(import);
            if !dep_exports.iter().any(|e| e == wanted) {
                return Err(ComposeError::MissingExport {
                    key: plug.key.to_owned(),
                    path: plug.path.to_owned(),
                    wanted: wanted.to_owned(),
                    exports: dep_exports.join(", "),
                });
            }
            let context = format!("plugging {import} with dependency {:?}", plug.key);
            let export =
                graph.alias_instance_export(dep_node, wanted).map_err(|e| graph_err(context.clone())(e.into()))?;
            graph
                .set_instantiation_argument(socket_node, import, export)
                .map_err(|e| graph_err(context.clone())(e.into()))?;
            plugged.insert(import.clone(), plug.key.to_owned());
        }
    }
    for name in exports {
        let context = format!("exporting {name}");
        let export =
            graph.alias_instance_export(socket_node, &name).map_err(|e| graph_err(context.clone())(e.into()))?;
        graph.export(export, &name).map_err(|e| graph_err(context.clone())(e.into()))?;
    }
    tracing::debug!(?plugged, "composed component with its dependencies");
    graph.encode(EncodeOptions::default()).map_err(|e| graph_err("encoding the composition".into())(e.into()))
}

#[cfg(test)]
mod tests {
    use super::Key;

    #[test]
    fn keys_name_packages_or_interfaces_like_spin() {
        let pkg = Key::parse("chaoslab:sidecar").unwrap();
        assert!(pkg.matches("chaoslab:sidecar/store@0.1.0") && pkg.matches("chaoslab:sidecar/chaos@0.1.0"));
        assert!(!pkg.matches("wasi:http/outgoing-handler@0.2.0") && !pkg.matches("chaoslab:other/store@0.1.0"));
        let versioned = Key::parse("chaoslab:sidecar@0.1.0").unwrap();
        assert!(
            versioned.matches("chaoslab:sidecar/store@0.1.0") && !versioned.matches("chaoslab:sidecar/store@0.2.0")
        );
        let iface = Key::parse("chaoslab:sidecar/store").unwrap();
        assert!(iface.matches("chaoslab:sidecar/store@0.1.0") && !iface.matches("chaoslab:sidecar/chaos@0.1.0"));
        assert!(Key::parse("sidecar").is_none() && Key::parse("a:b/").is_none() && Key::parse("a:b@").is_none());
    }
}
