//! `chaoslab build`: runs each `[component.*.build]` command of spin.toml in
//! its workdir, like `spin build` — each distinct command once: chaoslab's
//! components all share `cargo build-components`, which builds every one.

use anyhow::{Context, bail};

use chaoslab_runtime::config::BuildArgs;
use chaoslab_runtime::manifest;

/// Builds every component that declares a build command.
pub fn run(args: &BuildArgs) -> anyhow::Result<()> {
    super::init_logging();
    // Like `spin build`, building needs no variable values: unset ones
    // (e.g. the secret `link_token`) resolve to "" here.
    let manifest = manifest::load(&args.manifest, |name| spin_variable(name).or_else(|| Some(String::new())))?;
    let dir = chaoslab_runtime::app::manifest_dir(&args.manifest);
    let mut done = std::collections::HashSet::new();
    for spec in manifest.components.values() {
        let Some(build) = &spec.build else { continue };
        let workdir = dir.join(build.workdir.as_deref().unwrap_or(""));
        // The same command in the same directory builds the same thing again.
        let key = (std::fs::canonicalize(&workdir).unwrap_or_else(|_| workdir.clone()), build.command.clone());
        if !done.insert(key) {
            eprintln!("chaoslab build: [component.{}] built by the same command already", spec.id);
            continue;
        }
        eprintln!("chaoslab build: [component.{}] {}", spec.id, build.command);
        let status = std::process::Command::new("sh")
            .arg("-c")
            .arg(&build.command)
            .current_dir(&workdir)
            .status()
            .with_context(|| format!("running the build of [component.{}] in {}", spec.id, workdir.display()))?;
        if !status.success() {
            bail!(
                "{}: [component.{}.build] command failed ({status}): {}",
                args.manifest.display(),
                spec.id,
                build.command
            );
        }
    }
    Ok(())
}

/// Spin's environment provider for application variables: `SPIN_VARIABLE_<NAME>`.
pub fn spin_variable(name: &str) -> Option<String> {
    std::env::var(format!("SPIN_VARIABLE_{}", name.to_uppercase())).ok()
}
