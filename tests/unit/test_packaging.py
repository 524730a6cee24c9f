"""The hashed lock files hold what their human-edited inputs ask for, and nothing those inputs no longer need."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]

# Each lock and the inputs scripts/lock compiles it from.
LOCKS = {
    "requirements.lock": ["requirements.txt"],
    "requirements-test.lock": ["requirements.txt", "requirements-test.txt"],
}


def read_inputs(name: str) -> dict[str, str]:
    """The pinned requirements of one input file: canonical name -> version."""
    pins = {}
    for line in (ROOT / name).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        requirement = Requirement(line)
        (specifier,) = requirement.specifier
        assert specifier.operator == "==", f"{name}: {line} is not pinned with =="
        pins[canonicalize_name(requirement.name)] = specifier.version
    return pins


def read_lock(name: str) -> dict[str, dict]:
    """One lock file: canonical name -> {"version", "hashes", "via"} (via: input files and packages needing it)."""
    entries: dict[str, dict] = {}
    current = None
    for line in (ROOT / name).read_text().splitlines():
        pin = re.match(r"^([A-Za-z0-9][\w.-]*)(?:\[[^\]]*\])?==([^\s;\\]+)", line)
        if pin:
            # A package locked twice under two markers (one version per Python) keeps its first entry.
            current = entries.setdefault(canonicalize_name(pin.group(1)),
                                         {"version": pin.group(2), "hashes": [], "via": []})
            continue
        if current is None:
            continue
        if line.strip().startswith("--hash="):
            current["hashes"].append(line.strip().rstrip("\\").strip())
        elif line.strip().startswith("#"):
            reason = line.strip().lstrip("#").strip()
            reason = reason.removeprefix("via").strip()
            if reason:
                current["via"].append(reason)
    return entries


@pytest.mark.parametrize("lock", LOCKS)
def test_the_lock_pins_every_input_at_its_version(lock):
    entries = read_lock(lock)
    assert entries, f"{lock} holds no package"
    for name in LOCKS[lock]:
        for package, version in read_inputs(name).items():
            assert package in entries, f"{name} asks for {package}, {lock} lacks it: run scripts/lock"
            assert entries[package]["version"] == version, (
                f"{name} pins {package}=={version}, {lock} has {entries[package]['version']}: run scripts/lock")


@pytest.mark.parametrize("lock", LOCKS)
def test_every_locked_package_has_hashes_and_is_still_needed(lock):
    entries = read_lock(lock)
    inputs = {name: read_inputs(name) for name in LOCKS[lock]}
    for package, entry in entries.items():
        assert entry["hashes"], f"{lock}: {package} has no --hash"
        needed_by = []
        for reason in entry["via"]:
            if reason.startswith("-r "):
                source = reason.removeprefix("-r ").strip()
                if package in inputs.get(source, {}):
                    needed_by.append(source)
            elif canonicalize_name(reason) in entries:
                needed_by.append(reason)
        assert needed_by, f"{lock}: nothing asks for {package} any more ({entry['via']}): run scripts/lock"


def test_the_site_lock_holds_no_test_only_package():
    site = read_lock("requirements.lock")
    test_only = set(read_inputs("requirements-test.txt")) - set(read_inputs("requirements.txt"))
    assert test_only
    assert not test_only & set(site)


def test_pyproject_reads_its_dependencies_from_the_inputs_and_holds_the_tools_settings():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    project = pyproject["project"]
    assert project["requires-python"] == ">=3.11"
    assert project["license"] == "AGPL-3.0-or-later"
    assert set(project["dynamic"]) == {"dependencies", "optional-dependencies"}
    dynamic = pyproject["tool"]["setuptools"]["dynamic"]
    assert dynamic["dependencies"]["file"] == ["requirements.txt"]
    assert dynamic["optional-dependencies"]["test"]["file"] == ["requirements-test.txt"]
    # setuptools reads these files as bare requirement lines: no pip options such as -r.
    for name in ("requirements.txt", "requirements-test.txt"):
        assert not [line for line in (ROOT / name).read_text().splitlines() if line.startswith("-")]
    assert pyproject["tool"]["pytest"]["ini_options"]["filterwarnings"] == ["error"]
    assert not (ROOT / "pytest.ini").exists() and not (ROOT / "ruff.toml").exists()
    assert "GNU AFFERO GENERAL PUBLIC LICENSE" in (ROOT / "LICENSE").read_text()
