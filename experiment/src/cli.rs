//! `chaoslab experiment run|validate`: read, plan, (spawn), run, judge,
//! write the journal and the report, and answer with the exit code:
//! 0 the hypothesis held, 1 it deviated, 2 the experiment could not run.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::sync::watch;

use crate::activity::Context;
use crate::args::{ExperimentArgs, ExperimentCommand, RunArgs, ValidateArgs};
use crate::error::ExperimentError;
use crate::faults::FaultLog;
use crate::model::{self, Experiment};
use crate::plan::{self, BASE_URL_KEY, Plan, TOKEN_KEY};
use crate::platform::{Platform, SpawnOptions, Spawned};
use crate::progress::Progress;
use crate::runner::Runner;
use crate::timeline::Timeline;
use crate::vars::parse_var;
use crate::{report, verdict};

/// Exit code: the hypothesis held.
pub const EXIT_HELD: u8 = 0;
/// Exit code: the hypothesis (or a service-level tolerance) deviated.
pub const EXIT_DEVIATED: u8 = 1;
/// Exit code: the experiment could not run (bad file, unreachable target, Ctrl-C…).
pub const EXIT_COULD_NOT_RUN: u8 = 2;

/// Runs the subcommand; the exit code.
pub fn main(args: ExperimentArgs) -> u8 {
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().thread_name("experiment").build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("chaoslab experiment: error: starting the async runtime: {e}");
            return EXIT_COULD_NOT_RUN;
        }
    };
    let result = match args.command {
        ExperimentCommand::Run(run) => runtime.block_on(run_file(run)),
        ExperimentCommand::Validate(validate) => validate_files(&validate),
    };
    result.unwrap_or_else(|err| {
        eprintln!("chaoslab experiment: error: {err}");
        EXIT_COULD_NOT_RUN
    })
}

fn vars(args: &[String]) -> Result<Vec<(String, Value)>, ExperimentError> {
    args.iter().map(|a| parse_var(a)).collect()
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Placeholders for what `--spawn` will set, so a file is checked before anything starts.
fn spawn_placeholders() -> Vec<(String, Value)> {
    vec![(BASE_URL_KEY.to_owned(), "http://127.0.0.1:1".into()), (TOKEN_KEY.to_owned(), "(set by --spawn)".into())]
}

fn plan_of(file: &Path, experiment: &Experiment, overrides: &[(String, Value)]) -> Result<Plan, ExperimentError> {
    plan::plan(experiment, overrides, env)
        .map_err(|source| ExperimentError::Invalid { path: file.to_path_buf(), source })
}

fn validate_files(args: &ValidateArgs) -> Result<u8, ExperimentError> {
    let mut overrides = vars(&args.vars)?;
    if args.spawn {
        overrides.extend(spawn_placeholders());
    }
    for file in &args.files {
        let experiment = model::read(file)?;
        plan_of(file, &experiment, &overrides)?;
        for warning in model::warnings(&experiment) {
            eprintln!("chaoslab experiment: {}: warning: {warning}", file.display());
        }
        eprintln!("chaoslab experiment: {}: valid ({:?})", file.display(), experiment.title);
    }
    Ok(EXIT_HELD)
}

async fn run_file(args: RunArgs) -> Result<u8, ExperimentError> {
    let experiment = model::read(&args.file)?;
    let mut overrides = vars(&args.vars)?;
    let timeline = Timeline::start();
    let progress = Arc::new(Progress::new(timeline));
    progress.event(format!("experiment: {} ({})", experiment.title, args.file.display()));

    let mut process_env = Vec::new();
    let spawned = if args.spawn {
        let mut checked = overrides.clone();
        checked.extend(spawn_placeholders());
        plan_of(&args.file, &experiment, &checked)?;
        let token = generate_token()?;
        let exe = std::env::current_exe().map_err(|e| ExperimentError::Spawn(format!("finding this program: {e}")))?;
        progress.event(format!("spawn: starting {} up --manifest {}", exe.display(), args.manifest.display()));
        let options = SpawnOptions { exe, manifest: args.manifest.clone(), token: token.clone() };
        let target = Spawned::start(options).await.map_err(ExperimentError::Spawn)?;
        progress.event(format!("spawn: chaoslab up listening on {} (own redis-server)", target.url()));
        overrides.push((BASE_URL_KEY.to_owned(), target.url().into()));
        overrides.push((TOKEN_KEY.to_owned(), token.clone().into()));
        process_env = vec![("CHAOSLAB_URL".to_owned(), target.url()), ("CHAOSLAB_CHAOS_TOKEN".to_owned(), token)];
        Some(target)
    } else {
        None
    };
    let plan = match plan_of(&args.file, &experiment, &overrides) {
        Ok(plan) => plan,
        Err(err) => {
            if let Some(target) = spawned {
                let mut target = target;
                target.shutdown().await;
            }
            return Err(err);
        }
    };
    let platform = spawned.map(|target| {
        let liveness = crate::platform::liveness(&plan.extension.liveness);
        progress.event(format!(
            "platform: liveness probe GET {} every {:?} (timeout {:?}, {} failures restart; Azure Container Apps' settings)",
            liveness.path, liveness.period, liveness.timeout, liveness.failure_threshold
        ));
        Arc::new(Platform::new(target, liveness))
    });

    let (interrupt_tx, interrupted) = watch::channel(false);
    let (abort_tx, abort_rollbacks) = watch::channel(false);
    let signals = tokio::spawn(watch_signals(interrupt_tx, abort_tx, progress.clone()));
    let ctx = Context {
        vars: Arc::new(plan.vars.clone()),
        http: reqwest::Client::builder().no_proxy().build().unwrap_or_default(),
        timeline,
        progress: progress.clone(),
        env: Arc::new(process_env),
        interrupted,
    };
    let runner = Runner {
        experiment,
        plan,
        ctx,
        faults: Arc::new(FaultLog::default()),
        platform: platform.clone(),
        abort_rollbacks,
        step: Arc::new(Mutex::new(String::new())),
    };
    let outcome = runner.run().await;
    signals.abort();

    let target = match &platform {
        Some(p) => Some(p.target.lock().await.url()),
        None => runner.plan.vars.text(BASE_URL_KEY),
    };
    let journal = verdict::journal(&runner, &outcome, target);
    let chaoslab = crate::journal::chaoslab_part(&journal).expect("the journal has our extension");
    write(&args.journal, &serde_json::to_vec_pretty(&journal).unwrap_or_default())?;
    let report_path = args.report_path();
    write(&report_path, report::render(&journal).as_bytes())?;
    if let Some(platform) = platform {
        platform.target.lock().await.shutdown().await;
    }
    let v = &chaoslab.verdict;
    let files = format!("journal {}, report {}", args.journal.display(), report_path.display());
    match v.exit_code {
        EXIT_HELD => progress.event(format!("verdict: the hypothesis held (exit 0); {files}")),
        EXIT_DEVIATED => {
            for reason in &v.reasons {
                progress.event(format!("deviated: {reason}"));
            }
            progress.event(format!("verdict: DEVIATED (exit 1); {files}"));
        }
        code => {
            progress
                .event(format!("verdict: could not run to its end (status {}, exit {code}); {files}", v.status.name()));
            let why = v.reasons.first().map_or("the run stopped early", String::as_str);
            eprintln!("chaoslab experiment: error: {why}");
        }
    }
    Ok(v.exit_code)
}

fn write(path: &PathBuf, bytes: &[u8]) -> Result<(), ExperimentError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| ExperimentError::Write { path: dir.to_path_buf(), source })?;
    }
    std::fs::write(path, bytes).map_err(|source| ExperimentError::Write { path: path.clone(), source })
}

/// A fresh chaos token for the spawned target (32 hex digits).
fn generate_token() -> Result<String, ExperimentError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| ExperimentError::Spawn(format!("generating a chaos token: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// First Ctrl-C (or SIGTERM): stop the method, go to the rollbacks. Second: skip them.
async fn watch_signals(interrupt: watch::Sender<bool>, abort: watch::Sender<bool>, progress: Arc<Progress>) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut int), Ok(mut term)) = (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) else {
        progress.event("warning: cannot listen for Ctrl-C; it will end the run without rollbacks");
        return;
    };
    let next = async |int: &mut tokio::signal::unix::Signal, term: &mut tokio::signal::unix::Signal| {
        tokio::select! { _ = int.recv() => {}, _ = term.recv() => {} }
    };
    next(&mut int, &mut term).await;
    progress.event("interrupted: stopping the method; the rollbacks will run (again to skip them)");
    let _ = interrupt.send(true);
    next(&mut int, &mut term).await;
    progress.event("interrupted again: skipping the remaining rollbacks");
    let _ = abort.send(true);
}
