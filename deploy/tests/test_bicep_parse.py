"""Every .bicep file parses with a real Bicep grammar (pycep-parser), and the
parser really rejects broken Bicep (so a green run means something)."""

import pytest

import bicep_model as bicep

BROKEN = {
    "missing closing brace": "resource r 'Microsoft.Network/virtualNetworks@2024-05-01' = {\n  name: 'v'\n",
    "missing colon": "resource r 'Microsoft.Network/virtualNetworks@2024-05-01' = {\n  name 'v'\n}\n",
    "param without type": "param location = 'westeurope'\n",
    "unclosed array": "var subnets = [\n  'a'\n",
    "stray brace": "var x = 1\n}\n",
}


def test_templates_exist():
    names = {p.relative_to(bicep.AZURE_DIR).as_posix() for p in bicep.bicep_files()}
    assert "main.bicep" in names
    assert {n for n in names if n.startswith("modules/")}, "no modules found"


@pytest.mark.parametrize("path", bicep.bicep_files(), ids=lambda p: p.relative_to(bicep.AZURE_DIR).as_posix())
def test_template_parses(path):
    tree = bicep.parse(path)
    assert tree["resources"] or tree["modules"], f"{path.name}: no resource or module parsed"


@pytest.mark.parametrize("snippet", BROKEN.values(), ids=BROKEN.keys())
def test_parser_rejects_broken_bicep(snippet):
    with pytest.raises(Exception):
        bicep.parse_text(snippet)


def test_parser_accepts_the_fixed_snippet():
    fixed = "resource r 'Microsoft.Network/virtualNetworks@2024-05-01' = {\n  name: 'v'\n}\n"
    assert bicep.parse_text(fixed)["resources"]["r"]["api_version"] == "2024-05-01"
