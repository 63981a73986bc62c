"""`pytest-markers` on small projects written by each test: spellings, judgement, bad input, switches.

The fixture suite (test_pytest_markers.py) proves the rewrites against real
pytest; these tests pin down each decision on a project of two or three
files, through the same CLI a user runs, in-process.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from conftest import invoke, run_codefix, snapshot, write

from codefix.rules._marker_names import likely_typo
from codefix.rules._pytest_requirements import excludes_pytest_9

RULE = ("--rule", "pytest-markers")






def scan(root: Path) -> dict:
    result = invoke("scan", *RULE, "--format", "json", root, cwd=root)
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def apply(root: Path, *flags: str):
    return invoke("apply", *RULE, *flags, root, cwd=root)


def marker_names(findings: list[dict], kind: str = "is not registered in") -> list[str]:
    return sorted(re.search(r"'([^']+)'", f["message"]).group(1) for f in findings if kind in f["message"])


def pyproject(markers: str = '["slow: long"]', extra: str = "") -> str:
    return f'[project]\nname = "demo"\nversion = "0"\n\n[tool.pytest.ini_options]\nmarkers = {markers}\n{extra}'


# --- Every spelling of a use is found ------------------------------------------------


SPELLINGS = {
    "decorator": "import pytest\n\n@pytest.mark.found\ndef test_x():\n    pass\n",
    "call": "import pytest\n\n@pytest.mark.found(reason='x')\ndef test_x():\n    pass\n",
    "module alias": "import pytest as pt\n\n@pt.mark.found\ndef test_x():\n    pass\n",
    "from import": "from pytest import mark\n\n@mark.found\ndef test_x():\n    pass\n",
    "from import alias": "from pytest import mark as m\n\n@m.found\ndef test_x():\n    pass\n",
    "pytestmark": "import pytest\n\npytestmark = pytest.mark.found\n",
    "pytestmark list": "import pytest\n\npytestmark = [pytest.mark.skip, pytest.mark.found]\n",
    "class pytestmark": "import pytest\n\nclass TestA:\n    pytestmark = [pytest.mark.found]\n",
    "param marks": "import pytest\n\nCASES = [pytest.param(1, marks=pytest.mark.found)]\n",
    "param marks list": "import pytest\n\nCASES = [pytest.param(1, marks=[pytest.mark.found])]\n",
    "add_marker": "import pytest\n\ndef test_x(request):\n    request.node.add_marker(pytest.mark.found)\n",
    "add_marker string": "def test_x(request):\n    request.node.add_marker('found')\n",
    "getattr": "import pytest\n\nMARK = getattr(pytest.mark, 'found')\n",
    "import in function": "def test_x(request):\n    import pytest\n    request.applymarker(pytest.mark.found)\n",
    "with_args": "import pytest\n\nMARK = pytest.mark.found.with_args(len)\n",
    "assigned alias": "import pytest\n\nmk = pytest.mark\n\n@mk.found\ndef test_x():\n    pass\n",
    "alias of an alias": "from pytest import mark\n\nm = mark\nother: object = m\n\n@other.found\ndef test_x():\n    pass\n",
    "assigned module": "import pytest\n\npt = pytest\n\n@pt.mark.found\ndef test_x():\n    pass\n",
    "alias in a function": "import pytest\n\ndef test_x(request):\n    mk = pytest.mark\n    request.applymarker(mk.found)\n",
}


@pytest.mark.parametrize("code", SPELLINGS.values(), ids=SPELLINGS.keys())
def test_every_spelling_of_a_marker_use_is_found(project, code):
    write(project, {"tests/test_a.py": code})
    findings = scan(project)["findings"]
    assert marker_names(findings) == ["found"], findings


NOT_USES = {
    "string": "TEXT = 'pytest.mark.found'\n",
    "comment": "# @pytest.mark.found\n",
    "local named pytest": "def f():\n    pytest = object()\n    return pytest.mark.found\n",
    "other module mark": "import unittest as mark\n\nX = mark.found\n",
    "dynamic getattr": "import pytest\n\ndef f(name):\n    return getattr(pytest.mark, name)\n",
    "markers read, not set": "def test_x(request):\n    request.node.get_closest_marker('found')\n",
    "alias shadowed in a function": "import pytest\n\nmk = pytest.mark\n\ndef f():\n    mk = object()\n    return mk.found\n",
    "alias of another module's mark": "import unittest\n\nmk = unittest.mark\n\nX = mk.found\n",
    "alias of a class attribute, from a method": (
        "import pytest\n\nclass TestA:\n    mk = pytest.mark\n\n    def test_x(self):\n        return mk.found\n"
    ),
    "aliases of each other": "a = b\nb = a\n\nX = a.found\nY = a.mark.found\n",
}


@pytest.mark.parametrize("code", NOT_USES.values(), ids=NOT_USES.keys())
def test_code_that_is_not_a_marker_use_is_not_reported(project, code):
    write(project, {"tests/test_a.py": code})
    assert scan(project)["findings"] == []


# --- What counts as registered -----------------------------------------------------------


def test_builtin_and_plugin_markers_are_never_reported_nor_written(project):
    code = "import pytest\n\n" + "".join(
        f"@pytest.mark.{name}\n"
        for name in ("skip", "xfail", "usefixtures", "filterwarnings", "asyncio", "timeout", "django_db", "xdist_group",
                     "no_cover", "benchmark", "order", "flaky", "anyio", "trio")
    ) + "def test_x():\n    pass\n"
    write(project, {"tests/test_a.py": code})
    before = snapshot(project)
    assert scan(project)["findings"] == []
    apply(project)
    assert snapshot(project) == before


def test_known_markers_setting_counts_as_registered(project):
    write(project, {
        "pyproject.toml": pyproject(extra='\n[tool.codefix.pytest-markers]\nknown_markers = ["vendored", "gpu(n): x"]\n'),
        "tests/test_a.py": "import pytest\n\n@pytest.mark.vendored\n@pytest.mark.gpu(2)\n@pytest.mark.other\ndef test_x():\n    pass\n",
    })
    assert marker_names(scan(project)["findings"]) == ["other"]


@pytest.mark.parametrize(
    "settings",
    ['known_markers = "slow"', "known_markers = [1]", 'colour = "red"'],
)
def test_bad_rule_settings_are_one_line_naming_file_and_key(project, settings):
    write(project, {"pyproject.toml": pyproject(extra=f"\n[tool.codefix.pytest-markers]\n{settings}\n"), "tests/test_a.py": ""})
    result = run_codefix("scan", *RULE, ".", cwd=project)
    assert result.code == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "pyproject.toml" in lines[0] and "pytest-markers." in lines[0], result.stderr


def test_conftest_registrations_apply_to_their_folder_and_below(project):
    write(project, {
        "pyproject.toml": pyproject(),
        "tests/conftest.py": (
            "MORE = ['beta: b', 'gamma(x): g']\n\n"
            "def pytest_configure(config):\n"
            "    config.addinivalue_line('markers', 'alpha: a')\n"
            "    for line in MORE:\n"
            "        config.addinivalue_line('markers', line)\n"
            "    for line in ('delta: d',):\n"
            "        config.addinivalue_line(name='markers', line=line)\n"
            "    config.addinivalue_line('filterwarnings', 'ignore')\n"
        ),
        "tests/unit/conftest.py": "def pytest_configure(config):\n    config.addinivalue_line('markers', 'local: l')\n",
        "tests/unit/test_u.py": "import pytest\n\n@pytest.mark.alpha\n@pytest.mark.beta\n@pytest.mark.local\ndef test_u():\n    pass\n",
        "tests/test_t.py": "import pytest\n\n@pytest.mark.gamma\n@pytest.mark.delta\n@pytest.mark.local\ndef test_t():\n    pass\n",
    })
    findings = scan(project)["findings"]
    assert [(f["path"], n) for f in findings for n in marker_names([f])] == [("tests/test_t.py", "local")]


def test_only_the_config_pytest_reads_counts(project):
    """pytest.ini wins over pyproject.toml in the same folder: pyproject's markers do not register."""
    write(project, {
        "pyproject.toml": pyproject('["legacy: old"]'),
        "pytest.ini": "[pytest]\n",
        "tests/test_a.py": "import pytest\n\n@pytest.mark.legacy\ndef test_x():\n    pass\n",
    })
    findings = scan(project)["findings"]
    assert marker_names(findings) == ["legacy"]
    ignored = [f for f in findings if f["path"] == "pyproject.toml"]
    assert len(ignored) == 1 and "ignored: pytest reads pytest.ini" in ignored[0]["message"]
    apply(project)
    assert (project / "pytest.ini").read_text() == "[pytest]\nmarkers =\n    legacy: TODO: describe\n"


def test_nearest_folder_wins_and_trees_are_handled_separately(project):
    write(project, {
        "pyproject.toml": pyproject('["root_only: r"]'),
        "sub/setup.cfg": "[tool:pytest]\nmarkers =\n    sub_only: s\n",
        "tests/test_a.py": "import pytest\n\n@pytest.mark.root_only\n@pytest.mark.sub_only\ndef test_x():\n    pass\n",
        "sub/tests/test_b.py": "import pytest\n\n@pytest.mark.root_only\n@pytest.mark.sub_only\ndef test_y():\n    pass\n",
    })
    findings = scan(project)["findings"]
    assert sorted((f["path"], *marker_names([f])) for f in findings) == [
        ("sub/tests/test_b.py", "root_only"),
        ("tests/test_a.py", "sub_only"),
    ]
    apply(project)
    assert "sub_only: TODO: describe" in (project / "pyproject.toml").read_text()
    assert (project / "sub/setup.cfg").read_text().endswith("    sub_only: s\n    root_only: TODO: describe\n")


def test_pytest_toml_and_native_table_are_read_by_pytest_9(project):
    write(project, {
        "pyproject.toml": '[project]\nname = "d"\nversion = "0"\n\n[tool.pytest]\nmarkers = ["native: n"]\n',
        "tests/test_a.py": "import pytest\n\n@pytest.mark.native\ndef test_x():\n    pass\n",
        "other/pytest.toml": "[pytest]\nmarkers = ['toml: t']\n",
        "other/test_b.py": "import pytest\n\n@pytest.mark.toml\n@pytest.mark.native\ndef test_y():\n    pass\n",
    })
    assert [(f["path"], *marker_names([f])) for f in scan(project)["findings"]] == [("other/test_b.py", "native")]


# --- Typos ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "registered", "expected"),
    [
        ("intergration", ["integration"], "integration"),
        ("asyncio_", ["asyncio"], "asyncio"),
        ("parametrise", ["parametrize"], "parametrize"),
        ("parameterize", ["parametrize"], "parametrize"),
        ("Integration", ["integration"], "integration"),
        ("integraiton", ["integration"], "integration"),
        ("issue_1184", ["issue_1174"], None),
        ("py311", ["py312"], None),
        ("api_v2", ["api_v1"], None),
        ("mysql", ["mssql"], "mssql"),
        ("gpu", ["cpu"], None),
        ("slow", ["slot"], None),
        ("postgres", ["postgis"], None),
        ("scalability", ["slow", "integration"], None),
    ],
)
def test_likely_typo(name, registered, expected):
    assert likely_typo(name, registered) == expected


def test_typos_are_reported_not_registered_and_renamed_only_when_asked(project):
    test = (
        "import pytest\n\n"
        "@pytest.mark.intergration\n"
        "@pytest.mark.issue_1174\n"
        "def test_x(request):\n"
        "    request.node.add_marker(\"intergration\")\n"
        "    getattr(pytest.mark, 'intergration')\n"
    )
    write(project, {"pyproject.toml": pyproject('["integration: i", "issue_1184: bug"]'), "tests/test_a.py": test})
    findings = scan(project)["findings"]
    assert marker_names(findings, "typo of 'integration'") == ["intergration"] * 3
    assert marker_names(findings) == ["issue_1174"]
    apply(project)
    markers = tomllib.loads((project / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]["markers"]
    assert markers == ["integration: i", "issue_1184: bug", "issue_1174: TODO: describe"]
    assert (project / "tests/test_a.py").read_text() == test
    apply(project, "--fix-typos")
    assert (project / "tests/test_a.py").read_text() == test.replace("intergration", "integration")
    assert scan(project)["findings"] == []


def test_fix_typos_keeps_encoding_line_endings_and_quotes(project):
    latin = (
        "# -*- coding: latin-1 -*-\r\n"
        "import pytest\r\n\r\n"
        "@pytest.mark.intergration  # caf\xe9\r\n"
        "def test_x():\r\n"
        "    s = 'cr\xe8me'\r\n"
    ).encode("latin-1")
    write(project, {"pyproject.toml": pyproject('["integration: i"]'), "tests/test_l.py": latin})
    apply(project, "--fix-typos")
    assert (project / "tests/test_l.py").read_bytes() == latin.replace(b"intergration", b"integration")


def test_names_differing_by_number_are_all_registered(project):
    code = "import pytest\n\n" + "".join(f"@pytest.mark.issue_{n}\n" for n in (1174, 1175, 2001)) + "def test_x():\n    pass\n"
    write(project, {"pyproject.toml": pyproject('["issue_1184: bug"]'), "tests/test_a.py": code})
    assert marker_names(scan(project)["findings"]) == ["issue_1174", "issue_1175", "issue_2001"]


# --- Switches ----------------------------------------------------------------------------------


def test_describe_uses_the_folder_whose_tests_use_it_most(project):
    use = "import pytest\n\n@pytest.mark.scalability\ndef test_x():\n    pass\n"
    write(project, {
        "pyproject.toml": pyproject(),
        "tests/perf/test_a.py": use,
        "tests/perf/test_b.py": use,
        "tests/api/test_c.py": use,
    })
    apply(project, "--describe")
    markers = tomllib.loads((project / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]["markers"]
    assert markers == ["slow: long", "scalability: used by tests in tests/perf"]


@pytest.mark.parametrize(
    ("config", "text", "deduped"),
    [
        (
            "pyproject.toml",
            pyproject('[\n    "slow: long",\n    "fast: quick",  # why\n    "slow: again",  # dup\n]'),
            pyproject('[\n    "slow: long",\n    "fast: quick",  # why\n]'),
        ),
        (
            "pytest.ini",
            "[pytest]\nmarkers =\n    slow: long\n    fast: quick\n    slow(x): again\n    fast\nxfail_strict = true\n",
            "[pytest]\nmarkers =\n    slow: long\n    fast: quick\nxfail_strict = true\n",
        ),
    ],
    ids=["toml", "ini"],
)
def test_duplicates_are_reported_and_removed_only_with_dedupe(project, config, text, deduped):
    write(project, {config: text, "tests/test_a.py": "import pytest\n\n@pytest.mark.slow\ndef test_x():\n    pass\n"})
    findings = scan(project)["findings"]
    assert [f["path"] for f in findings] == [config] * len(findings) and findings
    assert all("is listed twice" in f["message"] and not f["fixable"] for f in findings)
    apply(project)
    assert (project / config).read_text() == text
    apply(project, "--dedupe")
    assert (project / config).read_text() == deduped
    assert scan(project)["findings"] == []


# --- Shapes of the configuration files -------------------------------------------------------


USE_NEW = "import pytest\n\n@pytest.mark.zeta\n@pytest.mark.alpha\ndef test_x():\n    pass\n"


@pytest.mark.parametrize(
    ("config", "before", "after"),
    [
        (
            "pyproject.toml",
            '[tool.pytest.ini_options]\naddopts = "-q"\n\n[tool.black]\nx = 1\n',
            '[tool.pytest.ini_options]\naddopts = "-q"\nmarkers = [\n    "alpha: TODO: describe",\n    "zeta: TODO: describe",\n]\n\n[tool.black]\nx = 1\n',
        ),
        (
            "pyproject.toml",
            '[tool.pytest.ini_options]\nmarkers = """\n    slow: long\n"""\n',
            '[tool.pytest.ini_options]\nmarkers = """\n    slow: long\n    alpha: TODO: describe\n    zeta: TODO: describe\n"""\n',
        ),
        (
            "pyproject.toml",
            "[tool.pytest.ini_options]\nmarkers = 'slow: long'  # one line is valid in ini mode\n",
            "[tool.pytest.ini_options]\nmarkers = '''\n    slow: long\n    alpha: TODO: describe\n    zeta: TODO: describe\n'''  # one line is valid in ini mode\n",
        ),
        (
            "pyproject.toml",
            '[project]\r\nname = "x"\r\n',
            '[project]\r\nname = "x"\r\n\r\n[tool.pytest.ini_options]\r\nmarkers = [\r\n    "alpha: TODO: describe",\r\n    "zeta: TODO: describe",\r\n]\r\n',
        ),
        (
            "pytest.ini",
            "; no section yet",
            "; no section yet\n\n[pytest]\nmarkers =\n    alpha: TODO: describe\n    zeta: TODO: describe\n",
        ),
        (
            "pytest.ini",
            "[pytest]\nmarkers = slow: long\naddopts = -q\n",
            "[pytest]\nmarkers = slow: long\n    alpha: TODO: describe\n    zeta: TODO: describe\naddopts = -q\n",
        ),
        (
            "pytest.ini",
            "\ufeff[pytest]\nmarkers =\n\tslow: long\n\n\t# later\n\tfast: quick",
            "\ufeff[pytest]\nmarkers =\n\tslow: long\n\n\t# later\n\tfast: quick\n\talpha: TODO: describe\n\tzeta: TODO: describe\n",
        ),
        (
            "tox.ini",
            "[tox]\nenv_list = py311\n",
            "[tox]\nenv_list = py311\n\n[pytest]\nmarkers =\n    alpha: TODO: describe\n    zeta: TODO: describe\n",
        ),
    ],
    ids=["key created", "multi-line string", "one-line string", "table created crlf", "ini section created", "ini inline first value",
         "ini bom tabs comments", "tox section created"],
)
def test_edit_shapes(project, config, before, after):
    if config != "pyproject.toml":
        (project / "pyproject.toml").unlink()
        (project / ".git").mkdir()
    write(project, {config: before, "tests/test_a.py": USE_NEW})
    apply(project)
    assert (project / config).read_bytes() == after.encode("utf-8")
    assert marker_names(scan(project)["findings"]) == []


@pytest.mark.slow
def test_string_markers_in_ini_mode_pass_real_pytest_after_apply(project):
    """pytest reads a markers string in [tool.pytest.ini_options] line by line; the grown string too."""
    write(project, {
        "pyproject.toml": pyproject('"slow: long"'),
        "tests/test_a.py": "import pytest\n\n@pytest.mark.slow\n@pytest.mark.fast\ndef test_x():\n    pass\n",
    })
    environment = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    command = [sys.executable, "-m", "pytest", "--strict-markers", "--collect-only", "-q", "-p", "no:cacheprovider", "tests"]
    before = subprocess.run(command, cwd=project, capture_output=True, text=True, env=environment, check=False)
    assert before.returncode != 0 and "'fast' not found" in before.stdout
    apply(project)
    after = subprocess.run(command, cwd=project, capture_output=True, text=True, env=environment, check=False)
    assert after.returncode == 0, after.stdout


# --- Configuration pytest rejects or ignores ---------------------------------------------------


def test_ini_options_beside_other_tool_pytest_tables_is_reported_and_left_alone(project):
    text = (
        '[tool.pytest.ini_options]\nmarkers = ["slow: long"]\n\n'
        "[tool.pytest.execution]\ntimeout = 30\n"
    )
    write(project, {"pyproject.toml": text, "tests/test_a.py": USE_NEW})
    findings = [f for f in scan(project)["findings"] if f["path"] == "pyproject.toml"]
    assert [(f["line"], f["fixable"]) for f in findings] == [(4, False)]
    assert "[tool.pytest.execution] beside [tool.pytest.ini_options]: pytest 9 refuses to start" in findings[0]["message"]
    apply(project)
    after = (project / "pyproject.toml").read_text()
    assert after.endswith("[tool.pytest.execution]\ntimeout = 30\n")
    assert tomllib.loads(after)["tool"]["pytest"]["ini_options"]["markers"][-1] == "zeta: TODO: describe"


def test_invented_table_in_native_config_is_reported(project):
    write(project, {"pyproject.toml": "[tool.pytest]\nminversion = \"9.0\"\n\n[tool.pytest.execution]\ntimeout = 30\n", "tests/test_a.py": ""})
    findings = scan(project)["findings"]
    assert [(f["line"], f["message"]) for f in findings] == [
        (4, "[tool.pytest.execution] is not a pytest setting: pytest 9 reports it as an unknown option 'execution'")
    ]


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ('[tool.pytest]\nmarkers = "slow: long"\n', 2, "[tool.pytest] markers must be an array of strings, not a string"),
        ("[tool.pytest.ini_options]\nmarkers = 3\n", 2, "[tool.pytest.ini_options] markers must be an array of strings or a string, not an integer"),
        ('[tool.pytest.ini_options]\nmarkers = [\n  "slow: long",\n  {name = "x"},\n]\n', 4, "markers entry 2 is a table, not a string"),
    ],
    ids=["string in native", "integer", "table entry"],
)
def test_markers_of_the_wrong_type_are_a_configuration_error_and_nothing_is_written(project, text, line, words):
    """Issue 7: a marker list pytest cannot use stops the run with one line naming file, line and key."""
    write(project, {"pyproject.toml": text, "tests/test_a.py": USE_NEW})
    before = snapshot(project)
    for command in ("scan", "apply"):
        result = invoke(command, "--rule", "pytest-markers", project, cwd=project)
        assert result.exit_code == 2, result.output
        lines = result.output.strip().splitlines()
        assert len(lines) == 1, result.output
        assert lines[0].startswith(f"codefix: error: pyproject.toml:{line}: "), lines[0]
        assert words in lines[0]
    assert snapshot(project) == before


@pytest.mark.parametrize(
    ("config", "text", "words"),
    [
        ("pytest.toml", "[pytest]\nmarkers = [\n", "invalid TOML"),
        ("pytest.ini", "[pytest]\nmarkers = a\nmarkers = b\n", "duplicate name 'markers'"),
        ("setup.cfg", "[pytest]\nmarkers = a\n", "rename it [tool:pytest]"),
        ("tox.ini", "[pytest]\n  orphan continuation\n", "unexpected value continuation"),
    ],
)
def test_files_pytest_cannot_read_are_one_error_line_and_untouched(project, config, text, words):
    write(project, {f"tests/{config}": text, "tests/test_a.py": USE_NEW})
    before = snapshot(project)
    result = run_codefix("apply", *RULE, ".", cwd=project)
    assert "Traceback" not in result.stdout + result.stderr
    errors = [line for line in result.stdout.splitlines() if " error: " in line]
    assert len(errors) == 1 and errors[0].startswith(f"tests/{config}: error: ") and words in errors[0], result.stdout
    assert snapshot(project) == before


def test_malformed_project_pyproject_is_one_line_and_exit_2(project):
    write(project, {"pyproject.toml": "[tool.pytest.ini_options\nmarkers = []\n", "tests/test_a.py": USE_NEW})
    before = snapshot(project)
    result = run_codefix("apply", *RULE, ".", cwd=project)
    assert result.code == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "pyproject.toml: invalid TOML" in result.stderr
    assert snapshot(project) == before


def test_pin_below_9_with_native_table_is_reported(project):
    write(project, {
        "pyproject.toml": '[tool.pytest]\nmarkers = ["slow: long"]\n',
        "requirements-dev.txt": "pytest-xdist>=3\npytest~=8.3  # pinned until the plugins catch up\n",
        "tests/test_a.py": "import pytest\n\n@pytest.mark.slow\ndef test_x():\n    pass\n",
    })
    findings = scan(project)["findings"]
    config = [f for f in findings if f["path"] == "pyproject.toml"]
    assert len(config) == 1 and "requirements-dev.txt:2 pins pytest below 9 (pytest~=8.3" in config[0]["message"]
    assert marker_names(findings) == ["slow"]


def test_a_sub_project_pin_decides_for_its_own_files(project):
    """pytest 8 passes over sub/pyproject.toml (no ini_options) and reads the root's: that is where markers go."""
    write(project, {
        "pyproject.toml": pyproject('["root: r"]'),
        "sub/pyproject.toml": '[tool.pytest]\nmarkers = ["native: n"]\n',
        "sub/requirements.txt": "pytest<9\n",
        "sub/tests/test_a.py": "import pytest\n\n@pytest.mark.native\n@pytest.mark.root\ndef test_x():\n    pass\n",
    })
    findings = scan(project)["findings"]
    assert [(f["path"], f["line"]) for f in findings if not f["path"].endswith(".py")] == [("sub/pyproject.toml", 1)]
    assert marker_names(findings) == ["native"]
    apply(project)
    assert tomllib.loads((project / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]["markers"] == [
        "root: r",
        "native: TODO: describe",
    ]


def test_pytest_toml_under_a_pin_below_9_is_reported_as_ignored(project):
    write(project, {
        "pyproject.toml": pyproject('["slow: long"]'),
        "requirements.txt": "pytest==8.4.1\n",
        "tests/pytest.toml": "[pytest]\nmarkers = [\n  'gpu: g',\n]\n",
        "tests/test_a.py": "import pytest\n\n@pytest.mark.gpu\ndef test_x():\n    pass\n",
    })
    findings = scan(project)["findings"]
    ignored = [f for f in findings if f["path"] == "tests/pytest.toml"]
    assert [(f["line"], f["col"], f["end_col"]) for f in ignored] == [(3, 3, 12)]
    assert "pytest.toml is read by pytest 9 or later only" in ignored[0]["message"]
    assert marker_names(findings) == ["gpu"]


def test_minversion_below_9_in_native_table_is_reported(project):
    write(project, {"pyproject.toml": '[tool.pytest]\nminversion = "8.0"\nmarkers = ["slow: long"]\n', "tests/test_a.py": ""})
    findings = scan(project)["findings"]
    assert [(f["line"], "admits pytest 8" in f["message"]) for f in findings] == [(2, True)]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [("<9", True), ("<9.0", True), ("<=8.4.2", True), ("==8.3.5", True), ("==8.*", True), ("~=8.3", True),
     (">=7,<9", True), ("^8.1", True), ("~8.3", True), ("8.3.5", True), (">=7", False), ("<9.1", False),
     ("", False), ("*", False), (">=9", False), ("==9.0.1", False)],
)
def test_pins_below_9(spec, expected):
    assert excludes_pytest_9(spec) is expected


# --- Files and projects at the edges ------------------------------------------------------------


def test_project_with_no_file_to_write_into_gets_unfixable_findings(tmp_path):
    root = write(tmp_path / "bare", {"tests/test_a.py": USE_NEW})
    (root / ".git").mkdir()
    findings = scan(root)["findings"]
    assert marker_names(findings) == ["alpha", "zeta"]
    assert all(not f["fixable"] and "codefix does not create files" in f["message"] for f in findings)
    before = snapshot(root)
    apply(root)
    assert {k: v for k, v in snapshot(root).items()} == before


def test_suppressed_use_is_neither_reported_nor_registered(project):
    write(project, {
        "pyproject.toml": pyproject(),
        "tests/test_a.py": "import pytest\n\n@pytest.mark.vendor  # codefix: ignore[pytest-markers]\ndef test_x():\n    pass\n",
    })
    before = snapshot(project)
    assert scan(project)["findings"] == []
    apply(project)
    assert snapshot(project) == before


def test_underscore_names_are_reported_as_impossible_markers(project):
    write(project, {"pyproject.toml": pyproject(), "tests/test_a.py": "import pytest\n\nX = pytest.mark._private\n"})
    findings = scan(project)["findings"]
    assert len(findings) == 1 and "AttributeError" in findings[0]["message"] and not findings[0]["fixable"]


def test_a_file_with_a_syntax_error_is_one_error_and_the_run_goes_on(project):
    write(project, {
        "pyproject.toml": pyproject(),
        "tests/test_broken.py": "import pytest\n\n@pytest.mark.kept\ndef broken(:\n",
        "tests/test_ok.py": USE_NEW,
    })
    result = invoke("scan", "--format", "json", project, cwd=project)  # every default rule
    document = json.loads(result.stdout)
    assert [e["path"] for e in document["errors"]] == ["tests/test_broken.py"]
    assert "syntax error" in document["errors"][0]["message"]
    assert marker_names(document["findings"]) == ["alpha", "zeta"]


def test_json_finding_fields(project):
    write(project, {"pyproject.toml": pyproject(), "tests/test_a.py": "import pytest\n\n\n@pytest.mark.nightly(reason='x')\ndef test_x():\n    pass\n"})
    assert scan(project) == {
        "version": 1,
        "findings": [
            {
                "rule": "pytest-markers",
                "path": "tests/test_a.py",
                "line": 4,
                "col": 2,
                "end_line": 4,
                "end_col": 21,
                "message": "marker 'nightly' is not registered in pyproject.toml [tool.pytest.ini_options]; pytest --strict-markers fails on it",
                "fixable": True,
            }
        ],
        "errors": [],
    }


def test_scanning_one_file_reports_only_that_file(project):
    write(project, {"pyproject.toml": pyproject(), "tests/test_a.py": USE_NEW, "tests/test_b.py": USE_NEW.replace("zeta", "eta")})
    result = invoke("scan", *RULE, "--format", "json", "tests/test_b.py", cwd=project)
    findings = json.loads(result.stdout)["findings"]
    assert {f["path"] for f in findings} == {"tests/test_b.py"} and marker_names(findings) == ["alpha", "eta"]


def test_explain_prints_the_documentation(tmp_path):
    result = run_codefix("explain", "pytest-markers", cwd=tmp_path)
    assert result.code == 0 and "## Fix safety" in result.stdout and "known_markers" in result.stdout
