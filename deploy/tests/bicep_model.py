"""Reading Bicep templates parsed by pycep-parser (a Lark grammar of Bicep).

pycep turns a file into JSON: parameters, variables, resources, modules and
outputs; expressions become nested {"operator": ...} / {"function": ...}
dicts, and both identifiers and string literals become plain strings.
"""

from functools import lru_cache
from pathlib import Path

from pycep import BicepParser

DEPLOY_DIR = Path(__file__).resolve().parent.parent
AZURE_DIR = DEPLOY_DIR / "azure"


def bicep_files():
    return sorted(AZURE_DIR.rglob("*.bicep"))


SECTIONS = ("parameters", "variables", "resources", "modules", "outputs")


@lru_cache(maxsize=None)
def parse(path: Path) -> dict:
    """The parsed file; every section present (empty when the file has none)."""
    tree = BicepParser().parse(file_path=path)
    for section in SECTIONS:
        tree[section] = tree.get(section) or {}
    return tree


def parse_text(text: str) -> dict:
    return BicepParser().parse(text=text)


def resources(path: Path):
    """(symbolic name, resource) pairs of one file, `existing` ones excluded."""
    return [(name, res) for name, res in parse(path)["resources"].items() if not res["existing"]]


def all_resources():
    """(file, symbolic name, resource) over every template."""
    return [(path, name, res) for path in bicep_files() for name, res in resources(path)]


def resources_of_type(resource_type: str):
    return [(path, res) for path, _, res in all_resources() if res["type"] == resource_type]


def config(resource: dict) -> dict:
    """A resource's body, looking through `if (...)` conditions."""
    body = resource["config"]
    while "condition" in body and "config" in body:
        body = body["config"]
    return body


def accessor_chain(expr) -> list:
    """`a.b.c` as ["a", "b", "c"]; [] for anything else."""
    if isinstance(expr, str):
        return [expr]
    operator = expr.get("operator") if isinstance(expr, dict) else None
    if not operator or operator["type"] != "property_accessor":
        return []
    left = accessor_chain(operator["operands"]["operand_1"])
    right = accessor_chain(operator["operands"]["operand_2"])
    return left + right if left and right else []


def walk(node):
    """Every dict and list nested in a parsed value, depth first."""
    yield node
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
    for child in children:
        yield from walk(child)


def resolve(path: Path, value):
    """A literal, or an identifier naming a variable/parameter default of the file."""
    tree = parse(path)
    if isinstance(value, str):
        if value in tree["variables"]:
            return resolve(path, tree["variables"][value]["value"])
        if value in tree["parameters"]:
            return resolve(path, tree["parameters"][value]["default"])
    return value


def is_secure(param: dict) -> bool:
    return any(d["type"] == "secure" for d in param.get("decorators") or [])
