//! Application variables (`[variables]`) and `{{ name }}` templates.

use std::collections::BTreeMap;

use super::model::Variable;

/// Resolves every application variable: the provider's value (Spin reads
/// `SPIN_VARIABLE_<NAME>`), else the default. `Err((name, message))` for a
/// required variable with no value or a variable both required and defaulted.
pub fn resolve(
    declared: &BTreeMap<String, Variable>,
    provider: impl Fn(&str) -> Option<String>,
) -> Result<BTreeMap<String, String>, (String, String)> {
    let mut values = BTreeMap::new();
    for (name, var) in declared {
        if var.required && var.default.is_some() {
            return Err((name.clone(), "cannot be both required and have a default".into()));
        }
        let value = provider(name)
            .or_else(|| var.default.clone())
            .ok_or_else(|| (name.clone(), format!("is required; set SPIN_VARIABLE_{}", name.to_uppercase())))?;
        values.insert(name.clone(), value);
    }
    Ok(values)
}

/// Expands `{{ name }}` placeholders with resolved variables.
pub fn expand(template: &str, values: &BTreeMap<String, String>) -> Result<String, String> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or_else(|| format!("unclosed '{{{{' in {template:?}"))?;
        let name = after[..end].trim();
        let value = values
            .get(name)
            .ok_or_else(|| format!("{template:?} uses variable {name:?}, which [variables] does not declare"))?;
        out.push_str(value);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> BTreeMap<String, String> {
        BTreeMap::from([("sidecar_url".to_owned(), "http://127.0.0.1:7070".to_owned())])
    }

    #[test]
    fn expands_placeholders() {
        assert_eq!(expand("{{ sidecar_url }}", &values()).unwrap(), "http://127.0.0.1:7070");
        assert_eq!(expand("x{{sidecar_url}}y", &values()).unwrap(), "xhttp://127.0.0.1:7070y");
        assert_eq!(expand("plain", &values()).unwrap(), "plain");
    }

    #[test]
    fn unknown_and_unclosed_placeholders_fail() {
        assert!(expand("{{ nope }}", &values()).unwrap_err().contains("\"nope\""));
        assert!(expand("{{ sidecar_url", &values()).unwrap_err().contains("unclosed"));
    }

    #[test]
    fn provider_beats_default_and_required_needs_a_value() {
        let declared = BTreeMap::from([
            ("a".to_owned(), Variable { default: Some("d".into()), required: false, secret: false, description: None }),
            ("b".to_owned(), Variable { default: None, required: true, secret: false, description: None }),
        ]);
        let err = resolve(&declared, |_| None).unwrap_err();
        assert_eq!(err.0, "b");
        assert!(err.1.contains("SPIN_VARIABLE_B"));
        let ok = resolve(&declared, |n| (n == "b").then(|| "v".to_owned())).unwrap();
        assert_eq!(ok["a"], "d");
        assert_eq!(ok["b"], "v");
    }
}
