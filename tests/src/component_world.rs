//! [`ComponentWorld`]: the top-level imports and exports of a compiled
//! component, read with wasmparser (the parser wac-graph uses), so a test can
//! check what a `.wasm` really asks of its host — e.g. that a handler never
//! imports `chaoslab:sidecar/chaos`.

use std::path::Path;

use wasmparser::{Parser, Payload};

/// The names a component imports and exports at its top level.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ComponentWorld {
    /// Import names, e.g. `chaoslab:sidecar/store@0.1.0`, in file order.
    pub imports: Vec<String>,
    /// Export names, e.g. `wasi:http/incoming-handler@0.2.0`.
    pub exports: Vec<String>,
}

impl ComponentWorld {
    /// Reads the component at `path`; panics if it is unreadable or not a component.
    pub fn read(path: &Path) -> Self {
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        assert!(Parser::is_component(&bytes), "{} is not a component", path.display());
        let mut world = Self::default();
        // Nested modules and components (a composition's parts) have their
        // own sections: only depth 1, the outer component, is its world.
        let mut depth = 0usize;
        for payload in Parser::new(0).parse_all(&bytes) {
            match payload.unwrap_or_else(|e| panic!("parsing {}: {e}", path.display())) {
                Payload::Version { .. } => depth += 1,
                Payload::End(_) => depth -= 1,
                Payload::ComponentImportSection(section) if depth == 1 => {
                    for import in section {
                        world.imports.push(import.expect("a well-formed import").name.name.to_owned());
                    }
                }
                Payload::ComponentExportSection(section) if depth == 1 => {
                    for export in section {
                        world.exports.push(export.expect("a well-formed export").name.name.to_owned());
                    }
                }
                _ => {}
            }
        }
        world
    }

    /// True when some import starts with `prefix` (e.g. `chaoslab:sidecar/chaos@`).
    pub fn imports_from(&self, prefix: &str) -> bool {
        self.imports.iter().any(|i| i.starts_with(prefix))
    }
}
