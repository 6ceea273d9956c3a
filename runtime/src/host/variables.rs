//! `fermyon:spin/variables@2.0.0`: a component's `[component.<id>.variables]`,
//! as Spin serves them (spin-sdk's `variables::get`). The `sidecar-link`
//! bridge reads `sidecar_url` and `link_token` through it, from the parent
//! component whose configuration it inherits.

use std::collections::BTreeMap;
use std::sync::Arc;

use wasmtime::component::{HasData, Linker};

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

/// What `fermyon:spin/variables` reads: one component's variables.
pub struct VariablesView<'a>(&'a BTreeMap<String, String>);

impl<'a> VariablesView<'a> {
    /// A view of `variables`.
    pub fn new(variables: &'a BTreeMap<String, String>) -> Self {
        Self(variables)
    }
}

/// The `HasData` marker: the linked functions see a [`VariablesView`].
struct HasVariables;

impl HasData for HasVariables {
    type Data<'a> = VariablesView<'a>;
}

/// Adds `fermyon:spin/variables` to `linker`; `view` finds a request's variables.
pub fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    view: fn(&mut T) -> VariablesView<'_>,
) -> wasmtime::Result<()> {
    variables::add_to_linker::<T, HasVariables>(linker, view)
}

/// Spin's rule for variable names: lowercase ASCII letters, digits and
/// underscores, starting with a letter.
pub fn valid_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

impl variables::Host for VariablesView<'_> {
    fn get(&mut self, name: String) -> Result<String, Error> {
        if !valid_name(&name) {
            return Err(Error::InvalidName(format!("{name:?}: use lowercase letters, digits and underscores")));
        }
        self.0.get(&name).cloned().ok_or_else(|| Error::Undefined(format!("no variable {name:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::valid_name;

    #[test]
    fn get_answers_defined_variables_and_says_why_not() {
        use super::{Error, VariablesView, variables::Host};
        let vars = [("sidecar_url".to_owned(), "http://127.0.0.1:7070".to_owned())].into();
        let mut view = VariablesView::new(&vars);
        assert_eq!(view.get("sidecar_url".into()).unwrap(), "http://127.0.0.1:7070");
        assert!(matches!(view.get("link_token".into()), Err(Error::Undefined(_))));
        assert!(matches!(view.get("Bad-Name".into()), Err(Error::InvalidName(_))));
    }

    #[test]
    fn names_follow_spin_rules() {
        assert!(valid_name("sidecar_url") && valid_name("a1"));
        assert!(!valid_name("Sidecar") && !valid_name("1a") && !valid_name("") && !valid_name("a-b"));
    }
}
