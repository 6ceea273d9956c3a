//! The `process` provider, as chaoslib's provider/process.py runs it: the
//! output is `{"status": exit code, "stdout", "stderr"}`; a non-zero exit
//! is an answer, not a failure. Each output line is also shown as it comes
//! (the Azure scenario scripts narrate for minutes).

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::Command;

use super::Context;
use crate::child;
use crate::model::{FieldPath, ProcessProvider, process_arguments, which};

/// How long a program asked to stop (Ctrl-C, timeout) may take for its
/// clean-up (an NSG rule to delete) before it is killed.
pub const STOP_GRACE: Duration = Duration::from_secs(60);

/// Runs the program to its end, its timeout, or Ctrl-C.
pub async fn run(provider: &ProcessProvider, name: &str, ctx: &Context) -> Result<Value, String> {
    let program = ctx.vars.substitute_text(&provider.path);
    let resolved = which(&program).ok_or_else(|| format!("path {program:?} cannot be found"))?;
    let args =
        process_arguments(provider.arguments.as_ref().map(|a| ctx.vars.substitute(a)).as_ref(), &FieldPath::root())
            .map_err(|e| e.message)?;
    let timeout = provider.timeout.as_ref().and_then(|t| ctx.vars.substitute(t).as_f64()).map(Duration::from_secs_f64);

    let mut command = Command::new(&resolved);
    command
        .args(&args)
        .envs(ctx.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    child::isolate(&mut command);
    let mut proc = command.spawn().map_err(|e| format!("could not start {}: {e}", resolved.display()))?;
    let stdout = collect(proc.stdout.take(), name, ctx);
    let stderr = collect(proc.stderr.take(), name, ctx);

    let mut interrupted = ctx.interrupted.clone();
    let deadline = async {
        match timeout {
            Some(t) => tokio::time::sleep(t).await,
            None => std::future::pending().await,
        }
    };
    let outcome = tokio::select! {
        status = proc.wait() => status.map_err(|e| format!("waiting for {}: {e}", resolved.display())),
        () = deadline => {
            child::stop(&mut proc, STOP_GRACE).await;
            Err(format!("activity took too long to complete (more than {timeout:?}); the program was stopped"))
        }
        () = async { let _ = interrupted.wait_for(|i| *i).await; } => {
            ctx.progress.event(format!("{name}: interrupted; asking the program to clean up and stop (SIGTERM, up to {STOP_GRACE:?})"));
            child::stop(&mut proc, STOP_GRACE).await;
            Err("interrupted (Ctrl-C); the program was stopped".to_owned())
        }
    };
    let (stdout, stderr) = (stdout.await.unwrap_or_default(), stderr.await.unwrap_or_default());
    let status = outcome?;
    Ok(serde_json::json!({
        "status": status.code().unwrap_or(-1),
        "stdout": stdout,
        "stderr": stderr,
    }))
}

/// Reads a stream to its end, showing each line as an event.
fn collect(
    stream: Option<impl AsyncRead + Unpin + Send + 'static>,
    name: &str,
    ctx: &Context,
) -> tokio::task::JoinHandle<String> {
    let name = name.to_owned();
    let progress = ctx.progress.clone();
    tokio::spawn(async move {
        let Some(stream) = stream else { return String::new() };
        let mut lines = BufReader::new(stream).lines();
        let mut all = String::new();
        while let Ok(Some(line)) = lines.next_line().await {
            progress.event(format!("  {name} | {line}"));
            all.push_str(&line);
            all.push('\n');
        }
        all
    })
}
