"""Invariants of the Azure templates that a wrong edit would silently break:
API versions, the two-container app, probes inside the platform's ranges,
Redis locked down to TLS + Entra ID + private endpoint, no plain-text secrets."""

import json
import re

import pytest

import bicep_model as bicep
from bicep_model import accessor_chain, config, resolve

# The API version of every resource type used; a new type must be added here.
API_VERSIONS = {
    "Microsoft.App/containerApps": "2025-07-01",
    "Microsoft.App/managedEnvironments": "2025-07-01",
    "Microsoft.Cache/redisEnterprise": "2025-07-01",
    "Microsoft.Cache/redisEnterprise/databases": "2025-07-01",
    "Microsoft.Cache/redisEnterprise/databases/accessPolicyAssignments": "2025-07-01",
    "Microsoft.Insights/components": "2020-02-02",
    "Microsoft.OperationalInsights/workspaces": "2025-07-01",
    "Microsoft.Network/virtualNetworks": "2024-05-01",
    "Microsoft.Network/networkSecurityGroups": "2024-05-01",
    "Microsoft.Network/privateEndpoints": "2024-05-01",
    "Microsoft.Network/privateEndpoints/privateDnsZoneGroups": "2024-05-01",
    "Microsoft.Network/privateDnsZones": "2024-06-01",
    "Microsoft.Network/privateDnsZones/virtualNetworkLinks": "2024-06-01",
    "Microsoft.ManagedIdentity/userAssignedIdentities": "2023-01-31",
    "Microsoft.ContainerRegistry/registries": "2023-07-01",
    "Microsoft.Authorization/roleAssignments": "2022-04-01",
}

# Azure Container Apps probe limits (Microsoft.App 2025-07-01 ContainerAppProbe).
PROBE_RANGES = {
    "failureThreshold": (1, 10),
    "periodSeconds": (1, 240),
    "timeoutSeconds": (1, 240),
    "initialDelaySeconds": (1, 60),
    "successThreshold": (1, 10),
}
ACCESS_POLICY_ASSIGNMENT_NAME = re.compile(r"^[A-Za-z0-9]{1,60}$")
SECRET_ENV = re.compile(r"TOKEN|SECRET|PASSWORD|KEY|CONNECTION_STRING")
APP_PORT, SIDECAR_PORT, REDIS_PORT = 3000, 7070, 10000
MAIN = bicep.AZURE_DIR / "main.bicep"


def only(resource_type):
    found = bicep.resources_of_type(resource_type)
    assert len(found) == 1, f"expected one {resource_type}, found {len(found)}"
    return found[0]


def container_app():
    path, res = only("Microsoft.App/containerApps")
    return path, config(res)


def containers():
    path, app = container_app()
    return path, {c["name"]: c for c in app["properties"]["template"]["containers"]}


def env_of(container):
    return {e["name"]: e for e in container.get("env", [])}


# --- resource types and API versions ---------------------------------------


def test_every_resource_uses_the_pinned_api_version():
    seen = set()
    for path in bicep.bicep_files():
        for name, res in bicep.parse(path)["resources"].items():
            assert res["type"] in API_VERSIONS, f"{path.name}:{name}: add {res['type']} to API_VERSIONS"
            assert res["api_version"] == API_VERSIONS[res["type"]], f"{path.name}:{name}"
            assert "preview" not in res["api_version"]
            seen.add(res["type"])
    assert seen == set(API_VERSIONS), f"unused entries: {set(API_VERSIONS) - seen}"


# --- the container app -------------------------------------------------------


def test_app_has_two_containers_sharing_the_replica():
    _, by_name = containers()
    assert set(by_name) == {"app", "sidecar"}


def test_ingress_targets_the_app_container_in_single_revision_mode():
    path, app = container_app()
    configuration = app["properties"]["configuration"]
    assert configuration["activeRevisionsMode"] == "Single"
    ingress = configuration["ingress"]
    assert ingress["external"] is True and ingress["allowInsecure"] is False
    assert resolve(path, ingress["targetPort"]) == APP_PORT


def test_app_uses_the_user_assigned_identity_for_pulls():
    _, app = container_app()
    assert app["identity"]["type"] == "UserAssigned"
    registry = app["properties"]["configuration"]["registries"][0]
    assert registry["identity"] == "identityId"


def test_http_concurrency_scale_rule():
    path, app = container_app()
    scale = app["properties"]["template"]["scale"]
    rules = [r for r in scale["rules"] if "http" in r]
    assert rules and "concurrentRequests" in rules[0]["http"]["metadata"]
    assert resolve(path, scale["maxReplicas"]) > resolve(path, scale["minReplicas"]) >= 1


def test_environment_variables_follow_the_app_contract():
    path, by_name = containers()
    app, sidecar = env_of(by_name["app"]), env_of(by_name["sidecar"])
    assert {"SPIN_VARIABLE_SIDECAR_URL", "SPIN_VARIABLE_LINK_TOKEN", "CHAOSLAB_LINK_TOKEN"} <= set(app)
    for token in ("SPIN_VARIABLE_LINK_TOKEN", "CHAOSLAB_LINK_TOKEN"):
        assert app[token]["secretRef"] == sidecar["CHAOSLAB_LINK_TOKEN"]["secretRef"] == "link-token"
    assert {
        "CHAOSLAB_REDIS_URL", "CHAOSLAB_REDIS_AUTH", "AZURE_CLIENT_ID",
        "APPLICATIONINSIGHTS_CONNECTION_STRING", "CHAOSLAB_CHAOS_TOKEN", "CHAOSLAB_LINK_TOKEN",
    } <= set(sidecar)
    assert sidecar["CHAOSLAB_REDIS_AUTH"]["value"] == "entra"
    assert sidecar["CHAOSLAB_REDIS_URL"]["value"] == "rediss://${redisHost}:${redisPort}"
    assert resolve(path, "redisPort") == REDIS_PORT
    assert app["SPIN_VARIABLE_SIDECAR_URL"]["value"] == "http://127.0.0.1:${sidecarPort}"
    assert resolve(path, "sidecarPort") == SIDECAR_PORT
    assert by_name["sidecar"]["command"] == ["chaoslab-sidecar"]
    assert by_name["sidecar"]["args"] == ["--listen", "0.0.0.0:${sidecarPort}"]


def test_secret_settings_come_from_secret_refs():
    _, app = container_app()
    declared = {s["name"] for s in app["properties"]["configuration"]["secrets"]}
    _, by_name = containers()
    for container in by_name.values():
        for name, var in env_of(container).items():
            if SECRET_ENV.search(name):
                assert "value" not in var and var.get("secretRef") in declared, f"{container['name']}: {name}"
            if "secretRef" in var:
                assert var["secretRef"] in declared


# --- probes ------------------------------------------------------------------


def test_probe_values_within_platform_ranges():
    path, by_name = containers()
    for name, container in by_name.items():
        for probe in container["probes"]:
            where = f"{name} {probe['type']} probe"
            for key, (low, high) in PROBE_RANGES.items():
                assert key in probe or key == "successThreshold", f"{where}: state {key}"
                if key in probe:
                    assert low <= resolve(path, probe[key]) <= high, f"{where}: {key} out of range"
            if probe["type"] in ("Liveness", "Startup"):
                assert probe.get("successThreshold", 1) == 1, where


def test_liveness_never_depends_on_redis_and_readiness_does():
    path, by_name = containers()
    probes = {(name, p["type"]): p for name, c in by_name.items() for p in c["probes"]}
    for name in ("app", "sidecar"):
        assert (name, "Liveness") in probes and (name, "Readiness") in probes, name
    for (name, kind), probe in probes.items():
        if kind != "Readiness" and "httpGet" in probe:
            assert probe["httpGet"]["path"] == "/livez", f"{name} {kind} must not call Redis"
    # the hang fault stops /livez, so the sidecar's liveness catches it
    sidecar_live = probes[("sidecar", "Liveness")]["httpGet"]
    assert resolve(path, sidecar_live["port"]) == SIDECAR_PORT
    assert probes[("app", "Readiness")]["httpGet"]["path"] == "/health"
    assert resolve(path, probes[("app", "Readiness")]["httpGet"]["port"]) == APP_PORT
    assert probes[("sidecar", "Readiness")]["httpGet"]["path"] == "/readyz"


# --- Azure Managed Redis -----------------------------------------------------


def test_redis_cluster_is_private_and_tls_only():
    _, cluster = only("Microsoft.Cache/redisEnterprise")
    props = config(cluster)["properties"]
    assert props["publicNetworkAccess"] == "Disabled"
    assert props["minimumTlsVersion"] == "1.2"


def test_redis_database_single_endpoint_encrypted_entra_only():
    _, db = only("Microsoft.Cache/redisEnterprise/databases")
    props = config(db)["properties"]
    assert props["clusteringPolicy"] == "EnterpriseCluster"
    assert props["clientProtocol"] == "Encrypted"
    assert props["port"] == REDIS_PORT
    assert props["accessKeysAuthentication"] == "Disabled"


def evaluate_name(path, expr, principal_id):
    """The assignment name for a sample object id (literals and replace() only)."""
    params = bicep.parse(path)["parameters"]
    if isinstance(expr, str):
        return principal_id if expr in params else expr
    function = expr.get("function", {})
    if function.get("type") == "replace":
        args = function["parameters"]
        original = evaluate_name(path, args["original_string"], principal_id)
        return original.replace(args["old_string"], args["new_string"])
    raise AssertionError(f"cannot check the name expression {expr}; extend evaluate_name")


def test_access_policy_assignment_gives_the_identity_the_default_policy():
    path, assignment = only("Microsoft.Cache/redisEnterprise/databases/accessPolicyAssignments")
    body = config(assignment)
    assert body["properties"]["accessPolicyName"] == "default"
    assert body["properties"]["user"]["objectId"] == "principalId"
    name = evaluate_name(path, body["name"], "0a1b2c3d-4e5f-6789-abcd-ef0123456789")
    assert ACCESS_POLICY_ASSIGNMENT_NAME.match(name), f"assignment name {name!r} breaks the pattern"


def test_redis_private_endpoint_and_dns_zone():
    _, endpoint = only("Microsoft.Network/privateEndpoints")
    connection = config(endpoint)["properties"]["privateLinkServiceConnections"][0]["properties"]
    assert connection["groupIds"] == ["redisEnterprise"]
    _, zone = only("Microsoft.Network/privateDnsZones")
    assert config(zone)["name"] == "privatelink.redis.azure.net"
    only("Microsoft.Network/privateDnsZones/virtualNetworkLinks")
    only("Microsoft.Network/privateEndpoints/privateDnsZoneGroups")


# --- network, environment, monitoring, identity ------------------------------


def test_environment_subnet_is_delegated_and_has_the_nsg():
    _, vnet = only("Microsoft.Network/virtualNetworks")
    subnets = {s["name"]: s["properties"] for s in config(vnet)["properties"]["subnets"]}
    aca = subnets["aca-infra"]
    assert aca["delegations"][0]["properties"]["serviceName"] == "Microsoft.App/environments"
    assert accessor_chain(aca["networkSecurityGroup"]["id"]) == ["acaNsg", "id"]
    assert "private-endpoints" in subnets


def test_environment_on_the_vnet_logging_to_log_analytics():
    _, env = only("Microsoft.App/managedEnvironments")
    props = config(env)["properties"]
    assert props["vnetConfiguration"]["infrastructureSubnetId"] == "infrastructureSubnetId"
    assert props["appLogsConfiguration"]["destination"] == "log-analytics"


def test_application_insights_is_workspace_based_with_local_auth():
    _, appi = only("Microsoft.Insights/components")
    props = config(appi)["properties"]
    assert accessor_chain(props["WorkspaceResourceId"]) == ["workspace", "id"]
    assert props["DisableLocalAuth"] is False


def test_identity_can_pull_from_the_registry():
    only("Microsoft.ManagedIdentity/userAssignedIdentities")
    path, assignment = only("Microsoft.Authorization/roleAssignments")
    assert resolve(path, "acrPullRoleId") == "7f951dda-4ed3-4680-a7ca-43fe172d538d"
    assert config(assignment)["scope"] == "registry"


# --- wiring between files ----------------------------------------------------


def test_main_outputs():
    outputs = bicep.parse(MAIN)["outputs"]
    assert {"appUrl", "redisHost", "appInsightsName"} <= set(outputs)


def test_modules_exist_and_get_the_params_they_declare():
    for path in bicep.bicep_files():
        modules = bicep.parse(path)["modules"]
        for name, module in modules.items():
            target = path.parent / module["detail"]["path"]
            assert target.exists(), f"{path.name}: module {name} -> {target}"
            declared = bicep.parse(target)["parameters"]
            passed = config(module)["params"]
            assert set(passed) <= set(declared), f"{name}: unknown params {set(passed) - set(declared)}"
            required = {p for p, d in declared.items() if d["default"] is None}
            assert required <= set(passed), f"{name}: missing params {required - set(passed)}"
            outputs = set(bicep.parse(target)["outputs"])
            for node in bicep.walk(bicep.parse(path)):
                chain = accessor_chain(node) if isinstance(node, dict) else []
                if chain[:2] == [name, "outputs"]:
                    assert chain[2] in outputs, f"{name}.outputs.{chain[2]} is not declared"


# --- secrets -----------------------------------------------------------------


def test_secure_params_have_no_literal_default():
    for path in bicep.bicep_files():
        for name, param in bicep.parse(path)["parameters"].items():
            if bicep.is_secure(param):
                default = param["default"]
                assert default is None or "function" in default, f"{path.name}: {name}"


def test_secure_values_stay_secure_across_modules():
    for path in bicep.bicep_files():
        caller = bicep.parse(path)["parameters"]
        for module in bicep.parse(path)["modules"].values():
            callee = bicep.parse(path.parent / module["detail"]["path"])["parameters"]
            for name, value in config(module)["params"].items():
                if isinstance(value, str) and value in caller and bicep.is_secure(caller[value]):
                    assert bicep.is_secure(callee[name]), f"{name} loses @secure() in {module['detail']['path']}"


def test_container_app_secrets_are_parameters_or_references():
    path, app = container_app()
    params = bicep.parse(path)["parameters"]
    text = path.read_text()
    for secret in app["properties"]["configuration"]["secrets"]:
        value = secret["value"]
        if isinstance(value, str):
            assert value in params and bicep.is_secure(params[value]), secret["name"]
            assert re.search(rf"value:\s*{value}\b", text), f"{secret['name']} is a literal"
        else:
            assert accessor_chain(value), f"{secret['name']}: expected a resource property"


def test_parameter_file_has_no_secrets():
    main_params = bicep.parse(MAIN)["parameters"]
    params = json.loads((bicep.AZURE_DIR / "main.parameters.json").read_text())["parameters"]
    assert set(params) <= set(main_params)
    assert not [p for p in params if bicep.is_secure(main_params[p])]


def test_no_credentials_in_deploy_files():
    # Assembled from pieces so that this file does not match itself.
    words = ["Instrumentation" + "Key=", "Account" + "Key=", "SharedAccess" + "Key=", "-----" + "BEGIN"]
    pattern = re.compile("|".join(map(re.escape, words)) + r"|Bearer [A-Za-z0-9]{16,}")
    for path in bicep.DEPLOY_DIR.rglob("*"):
        hidden = any(part.startswith(".") for part in path.relative_to(bicep.DEPLOY_DIR).parts)
        if path.is_file() and not hidden and path.suffix in {".bicep", ".json", ".sh", ".py", ".md"}:
            assert not pattern.search(path.read_text(errors="replace")), path
