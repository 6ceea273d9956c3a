"""The container images (deploy/docker), checked offline: pinned base images,
non-root runtime users, the ports and commands the Container App expects,
and app images that carry exactly the .wasm files spin.toml names (a
wrapped handler made in the build stage by wrapping its own crate's .wasm)."""

import re
import tomllib

import pytest

import bicep_model as bicep

DOCKER = bicep.DEPLOY_DIR / "docker"
ROOT = bicep.DEPLOY_DIR.parent
IMAGES = ("app", "sidecar", "chaoslab")


def instructions(name):
    """(INSTRUCTION, arguments) pairs of deploy/docker/Dockerfile.<name>, continuations joined."""
    text = (DOCKER / f"Dockerfile.{name}").read_text()
    text = re.sub(r"\\\n", " ", text)
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def args_defaults(name):
    return dict(rest.split("=", 1) for word, rest in instructions(name) if word == "ARG" and "=" in rest)


def final_stage(name):
    """Instructions after the last FROM."""
    ins = instructions(name)
    last = max(i for i, (word, _) in enumerate(ins) if word == "FROM")
    return ins[last:]


def json_list(rest):
    return [s for s in re.findall(r'"([^"]*)"', rest)]


@pytest.mark.parametrize("name", IMAGES)
def test_base_images_are_pinned(name):
    defaults = args_defaults(name)
    for word, rest in instructions(name):
        if word != "FROM":
            continue
        image = rest.split()[0]
        image = re.sub(r"\$\{(\w+)\}", lambda m: defaults[m.group(1)], image)
        assert ":" in image.split("/")[-1], f"{name}: {image} has no tag"
        assert not image.endswith(":latest"), f"{name}: {image} floats"


def tested_spin_version():
    """The Spin release the end-to-end tests run, declared once in tests/src/spin.rs."""
    harness = (ROOT / "tests" / "src" / "spin.rs").read_text()
    return re.search(r'pub const TESTED_VERSION: &str = "([0-9.]+)";', harness).group(1)


def test_spin_image_is_the_release_the_tests_run():
    image = args_defaults("app")["SPIN_IMAGE"]
    assert image == f"ghcr.io/spinframework/spin:v{tested_spin_version()}", image


@pytest.mark.parametrize("name", ["sidecar", "chaoslab"])
def test_native_images_run_as_non_root(name):
    users = [rest for word, rest in final_stage(name) if word == "USER"]
    assert users and users[-1] not in ("root", "0"), f"{name}: runtime user {users}"


def test_commands_match_the_container_app():
    app = dict(final_stage("app"))
    assert json_list(app["CMD"]) == ["up", "--listen", "0.0.0.0:3000", "--from", "/app/spin.toml"]
    sidecar = dict(final_stage("sidecar"))
    assert json_list(sidecar["CMD"]) == ["--listen", "0.0.0.0:7070"]
    assert json_list(sidecar["ENTRYPOINT"]) == ["/usr/local/bin/chaoslab-sidecar"]
    chaoslab = json_list(dict(final_stage("chaoslab"))["CMD"])
    assert chaoslab[:1] == ["up"] and "--link" in chaoslab and chaoslab[chaoslab.index("--link") + 1] == "loopback"
    assert chaoslab[chaoslab.index("--sidecar-url") + 1] == "http://127.0.0.1:7070"
    for name, port in (("app", "3000"), ("sidecar", "7070"), ("chaoslab", "3000")):
        assert dict(final_stage(name))["EXPOSE"] == port


@pytest.mark.parametrize("name", ["app", "chaoslab"])
def test_app_images_carry_every_wasm_spin_toml_names(name):
    manifest = tomllib.loads((ROOT / "spin.toml").read_text())
    needed = set()
    for component in manifest["component"].values():
        needed.add(component["source"])
        needed.update(dep["path"] for dep in component.get("dependencies", {}).values())
    copied = set()
    for word, rest in final_stage(name):
        if word == "COPY" and "--from=build" in rest and ".wasm" in rest:
            *sources, dest = rest.split()[1:]
            assert dest == "/app/target/wasm32-wasip2/release/"
            copied.update("target/wasm32-wasip2/release/" + s.rsplit("/", 1)[1] for s in sources)
    assert copied == needed
    # Built by the components' one build, the one the tests ran (.cargo/config.toml).
    built = " ".join(rest for word, rest in instructions(name) if word == "RUN")
    assert "cargo build-components" in built, f"{name}: the components are not built by cargo build-components"
    alias = tomllib.loads((ROOT / ".cargo" / "config.toml").read_text())["alias"]["build-components"]
    for wasm in needed:
        stem = wasm.rsplit("/", 1)[1].removesuffix(".wasm")
        if stem.endswith("_wrapped"):
            # Built from its handler crate, then wrapped in the chaos layer.
            handler = stem.removesuffix("_wrapped")
            wrap = rf"wrap\s+(?:--\s+)?\S*/{handler}\.wasm\s+-o\s+\S*/{stem}\.wasm"
            assert re.search(wrap, built), f"{name}: {stem}.wasm is not made by wrapping {handler}.wasm"
            assert "-p chaoslab-chaos-layer" in alias, "cargo build-components does not build the chaos layer"
            stem = handler
        crate = stem.replace("_", "-")
        assert f"-p {crate}" in alias, f"cargo build-components does not build {crate}"


def test_build_context_excludes_build_outputs():
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert "target" in ignored and ".git" in ignored


def test_the_sidecar_image_builds_only_the_sidecar_package():
    runs = [rest for word, rest in instructions("sidecar") if word == "RUN"]
    assert any("-p chaoslab-sidecar --bin chaoslab-sidecar" in r for r in runs), runs
    assert not any("chaoslab-runtime" in r for r in runs), "the runtime (wasmtime) in the sidecar image"


@pytest.mark.parametrize(("name", "binary"), [("sidecar", "chaoslab-sidecar"), ("chaoslab", "chaoslab")])
def test_native_images_ship_the_dist_build_they_make(name, binary):
    profiles = tomllib.loads((ROOT / "Cargo.toml").read_text())["profile"]
    assert profiles["dist"]["lto"] == "fat" and profiles["dist"]["inherits"] == "release"
    runs = " ".join(rest for word, rest in instructions(name) if word == "RUN")
    assert re.search(rf"cargo build --locked --profile dist -p \S+ --bin {binary}\b", runs), runs
    copies = [rest for word, rest in final_stage(name) if word == "COPY" and rest.endswith(f"/usr/local/bin/{binary}")]
    assert copies == [f"--from=build /src/target/dist/{binary} /usr/local/bin/{binary}"], copies
