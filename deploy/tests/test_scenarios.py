"""The scenario scripts: syntax, shellcheck, --help, the dry run (which must
print the az commands and run none), and clean-up when a step fails."""

import os
import re
import shutil
import stat
import subprocess

import pytest

import bicep_model as bicep

SCENARIOS = bicep.DEPLOY_DIR / "scenarios"
DEPLOY_SH = bicep.AZURE_DIR / "deploy.sh"
SCRIPTS = {name: SCENARIOS / f"{name}.sh" for name in ("network-block", "load", "bad-deploy", "hang")}
ALL_SHELL = [*SCRIPTS.values(), DEPLOY_SH, SCENARIOS / "lib.sh", bicep.DEPLOY_DIR / "loadtest" / "run-local.sh",
             bicep.DEPLOY_DIR / "check.sh"]
TOKEN = "s3cr3t-token-value-for-tests"

# What each dry run must print (regular expressions over the transcript).
EXPECTED = {
    "network-block": [
        r"az deployment group show .*outputs\.nsgName",
        r"az network nsg rule create .*--direction Outbound --access Deny --protocol Tcp .*--destination-port-ranges 10000",
        r"az containerapp revision restart ",
        r"curl .*/health",
        r"az network nsg rule delete .*--name chaoslab-deny-redis",
    ],
    "load": [
        r"az containerapp replica list .*length\(@\)",
        r"locust -f \S+/loadtest/locustfile\.py --headless .*--run-time 3m .*--exit-code-on-error 1",
    ],
    "bad-deploy": [
        r"az containerapp show .*containers\[\?name==",
        r"az containerapp update .*--image '<registry>/chaoslab-app:chaoslab-missing-bad\d+' .*--no-wait",
        r"az containerapp revision list .*--all",
        r"az containerapp revision deactivate ",
        r"az containerapp update .*--image '<registry>/chaoslab-app:<tag>' --revision-suffix rollback\d+",
    ],
    "hang": [
        r"az containerapp replica list .*restartCount",
        r"curl .*-X POST -H 'Authorization: Bearer \*\*\*' .*duration_seconds.*/chaos/hang",
        r"curl .*-X DELETE .*/chaos'$",
    ],
}

FAKE_AZ = r"""#!/usr/bin/env bash
printf '%s\n' "$*" >> "$FAKE_LOG"
if [[ -n ${FAKE_FAIL:-} && "$*" == *"$FAKE_FAIL"* ]]; then exit 1; fi
case "$*" in
  *outputs.appName.value*) echo chaoslab-app ;;
  *outputs.appUrl.value*) echo https://chaoslab-app.example.test ;;
  *outputs.nsgName.value*) echo chaoslab-aca-nsg ;;
  *outputs.acaSubnetPrefix.value*) echo 10.40.0.0/23 ;;
  *outputs.privateEndpointSubnetPrefix.value*) echo 10.40.2.0/27 ;;
  *latestRevisionName*) echo chaoslab-app--r1 ;;
  *restartCount*) echo 0 ;;
  *'length(@)'*) echo 1 ;;
  *"name=='app'"*) echo registry.example.test/chaoslab-app:v1 ;;
esac
"""
FAKE_CURL = r"""#!/usr/bin/env bash
printf 'curl %s\n' "$*" >> "$FAKE_LOG"
printf '{"status":"healthy"}\n200 0.010'
"""
FAKE_LOCUST = r"""#!/usr/bin/env bash
printf 'locust %s\n' "$*" >> "$FAKE_LOG"
exit "${FAKE_LOCUST_RC:-0}"
"""


@pytest.fixture
def fakes(tmp_path):
    """A PATH whose az, curl and locust only log their arguments."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in (("az", FAKE_AZ), ("curl", FAKE_CURL), ("locust", FAKE_LOCUST)):
        path = bin_dir / name
        path.write_text(body)
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    log = tmp_path / "calls.log"
    log.touch()
    env = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "FAKE_LOG": str(log),
        "CHAOSLAB_CHAOS_TOKEN": TOKEN,
        "CHAOSLAB_POLL_SECONDS": "0",
    }
    return env, log


def run(script, *args, env):
    return subprocess.run(["bash", str(script), *args], env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("path", ALL_SHELL, ids=lambda p: p.name)
def test_bash_syntax(path):
    subprocess.run(["bash", "-n", str(path)], check=True)


def test_shellcheck_is_clean():
    if shutil.which("shellcheck") is None:
        pytest.fail("shellcheck is not installed (Debian package 'shellcheck'); it is required, not optional")
    result = subprocess.run(["shellcheck", "-x", *map(str, ALL_SHELL)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", [*SCRIPTS.values(), DEPLOY_SH], ids=lambda p: p.name)
def test_script_is_strict_and_cleans_up(path):
    text = path.read_text()
    assert "set -euo pipefail" in text
    assert "lib.sh" in text  # lib.sh installs the EXIT trap that runs the clean-up steps
    assert "trap _on_exit EXIT" in (SCENARIOS / "lib.sh").read_text()


@pytest.mark.parametrize("name", SCRIPTS)
def test_help(name, fakes):
    env, _ = fakes
    result = run(SCRIPTS[name], "--help", env=env)
    assert result.returncode == 0
    assert "Usage:" in result.stdout and "--dry-run" in result.stdout


@pytest.mark.parametrize("name", SCRIPTS)
def test_unknown_option_is_a_usage_error(name, fakes):
    env, _ = fakes
    assert run(SCRIPTS[name], "--bogus", env=env).returncode == 2


@pytest.mark.parametrize("name", SCRIPTS)
def test_dry_run_prints_the_commands_and_runs_none(name, fakes):
    env, log = fakes
    result = run(SCRIPTS[name], "--dry-run", "-g", "chaos-rg", env=env)
    assert result.returncode == 0, result.stderr
    print(result.stdout)
    for pattern in EXPECTED[name]:
        assert re.search(pattern, result.stdout, re.MULTILINE), f"missing: {pattern}"
    assert "--resource-group chaos-rg" in result.stdout
    assert TOKEN not in result.stdout + result.stderr
    assert log.read_text() == "", "the dry run executed a command"


def test_dry_run_needs_no_az(fakes, tmp_path):
    env, _ = fakes
    env = {**env, "PATH": "/usr/bin:/bin"}  # no fake az; the machine has no real one either
    if shutil.which("az", path=env["PATH"]):
        pytest.fail("a real az is on /usr/bin:/bin; this test needs a PATH without it")
    for script in SCRIPTS.values():
        assert run(script, "--dry-run", env=env).returncode == 0, script.name


def test_deploy_dry_run_has_both_phases(fakes):
    env, log = fakes
    result = run(DEPLOY_SH, "--dry-run", "-g", "chaos-rg", "-l", "swedencentral", env=env)
    assert result.returncode == 0, result.stderr
    creates = re.findall(r"^\+ az deployment group create .*main\.bicep.*$", result.stdout, re.MULTILINE)
    assert len(creates) == 2
    assert "appImage=" not in creates[0] and "appImage=" in creates[1]
    assert "chaosToken=***" in creates[0]
    assert result.stdout.count("az acr build") == 2
    assert log.read_text() == ""


def test_scripts_read_only_outputs_main_bicep_declares():
    outputs = set(bicep.parse(bicep.AZURE_DIR / "main.bicep")["outputs"])
    used = set()
    for path in [*SCRIPTS.values(), DEPLOY_SH, SCENARIOS / "lib.sh"]:
        used |= set(re.findall(r"\$\(output (\w+)\)", path.read_text()))
    used |= {"appName", "appUrl"}  # read by lib.sh resolve_app
    assert used and used <= outputs, used - outputs


# --- clean-up when a step fails (fake az/curl, no Azure) ---------------------


def test_network_block_removes_the_rule_when_a_later_step_fails(fakes):
    env, log = fakes
    result = run(SCRIPTS["network-block"], "-g", "rg", env={**env, "FAKE_FAIL": "revision restart"})
    calls = log.read_text()
    assert result.returncode != 0
    assert "network nsg rule create" in calls
    assert calls.index("network nsg rule delete") > calls.index("revision restart"), calls


def test_network_block_full_run_adds_then_removes_the_rule(fakes):
    env, log = fakes
    result = run(SCRIPTS["network-block"], "-g", "rg", "--block", "0", "--recover", "1", env=env)
    assert result.returncode == 0, result.stderr
    calls = log.read_text()
    assert calls.count("network nsg rule create") == 1 and calls.count("network nsg rule delete") == 1


def test_network_block_chaos_mode_also_starts_and_stops_the_redis_fault(fakes):
    env, log = fakes
    result = run(SCRIPTS["network-block"], "-g", "rg", "--block", "0", "--recover", "1", "--reconnect", "chaos",
                 env=env)
    assert result.returncode == 0, result.stderr
    calls = log.read_text()
    assert re.search(r"curl .*-X POST .*blackhole.*/chaos/redis$", calls, re.MULTILINE), calls
    assert re.search(r"curl .*-X DELETE .*/chaos$", calls, re.MULTILINE), calls
    assert "revision restart" not in calls and "network nsg rule delete" in calls


def test_hang_needs_the_chaos_token(fakes):
    env, log = fakes
    env = {k: v for k, v in env.items() if k != "CHAOSLAB_CHAOS_TOKEN"}
    result = run(SCRIPTS["hang"], "-g", "rg", env=env)
    assert result.returncode == 2 and "CHAOSLAB_CHAOS_TOKEN" in result.stderr
    assert log.read_text() == ""


def test_bad_deploy_rolls_back_when_the_update_fails(fakes):
    env, log = fakes
    result = run(SCRIPTS["bad-deploy"], "-g", "rg", env={**env, "FAKE_FAIL": "--no-wait"})
    calls = log.read_text()
    assert result.returncode != 0
    assert "--image registry.example.test/chaoslab-app:chaoslab-missing-bad" in calls
    assert "revision deactivate" in calls
    assert re.search(r"containerapp update .*--image registry\.example\.test/chaoslab-app:v1 ", calls), calls


def test_hang_stops_the_experiment_when_no_restart_is_seen(fakes):
    env, log = fakes
    result = run(SCRIPTS["hang"], "-g", "rg", "--timeout", "0", env=env)
    calls = log.read_text()
    assert result.returncode != 0 and "no restart within" in result.stderr
    assert re.search(r"curl .*-X POST .*/chaos/hang", calls)
    assert re.search(r"curl .*-X DELETE .*/chaos$", calls, re.MULTILINE), calls


def test_load_reports_replicas_and_fails_when_locust_fails(fakes):
    env, log = fakes
    result = run(SCRIPTS["load"], "-g", "rg", "--duration", "5s", env={**env, "FAKE_LOCUST_RC": "1"})
    assert result.returncode == 1
    assert "replicas before: 1, after: 1" in result.stderr
    assert "locust -f" in log.read_text()
    reports = bicep.DEPLOY_DIR / "loadtest" / "reports"
    for report in re.findall(r"report: (\S+)\)", result.stderr):
        shutil.rmtree(report, ignore_errors=True)
    if reports.exists() and not os.listdir(reports):
        reports.rmdir()
