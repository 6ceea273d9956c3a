//! `fermyon:spin/variables@2.0.0`: a component's `[component.<id>.variables]`,
//! as Spin serves them (spin-sdk's `variables::get`). The `sidecar-link`
//! bridge reads `sidecar_url` and `link_token` through it, from the parent
//! component whose configuration it inherits.

use std::collections::BTreeMap;
use std::sync::Arc;

use wasmtime::component::{HasSelf, Linker};

use super::HostState;

mod bindings {
    wasmtime::component::bindgen!({
        inline: "
            package fermyon:spin@2.0.0;
            interface variables {
                get: func(name: string) -> result<string, error>;
                variant error {
                    invalid-name(string),
                    undefined(string),
                    provider(string),
                    other(string),
                }
            }
            world variables-host { import variables; }
        ",
    });
}

use bindings::fermyon::spin::variables::{self, Error};

/// A component's resolved variables.
pub type Variables = Arc<BTreeMap<String, String>>;

/// Adds `fermyon:spin/variables` to `linker`.
pub fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    variables::add_to_linker::<HostState, HasSelf<HostState>>(linker, |state| state)
}

/// Spin's rule for variable names: lowercase ASCII letters, digits and
/// underscores, starting with a letter.
pub fn valid_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

impl variables::Host for HostState {
    fn get(&mut self, name: String) -> Result<String, Error> {
        if !valid_name(&name) {
            return Err(Error::InvalidName(format!("{name:?}: use lowercase letters, digits and underscores")));
        }
        self.variables.get(&name).cloned().ok_or_else(|| Error::Undefined(format!("no variable {name:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::valid_name;

    #[test]
    fn names_follow_spin_rules() {
        assert!(valid_name("sidecar_url") && valid_name("a1"));
        assert!(!valid_name("Sidecar") && !valid_name("1a") && !valid_name("") && !valid_name("a-b"));
    }
}
