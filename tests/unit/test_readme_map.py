"""The README's "Map of the code" matches the tree: what it names exists, and it names every part of contest/."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONTEST = ROOT / "contest"

# A path-like word of the map: a folder (ending in /) or a file with one of these suffixes.
PATH_WORD = re.compile(r"(?<![\w/.:-])([a-z_][\w.-]*(?:/[\w.-]+)*(?:\.(?:py|html|css|js|svg|conf)|/))(?![\w/])")


def code_map() -> list[tuple[Path, str, str]]:
    """Each entry of the map as (its folder, the names column, its description with continuation lines)."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Map of the code", 1)[1]
    block = section.split("```", 2)[1]
    entries: list[tuple[Path, str, str]] = []
    for line in block.splitlines()[1:]:
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip(" "))
        if indent >= 4 and entries:  # a continuation of the entry above
            folder, names, description = entries[-1]
            entries[-1] = (folder, names, f"{description} {line.strip()}")
            continue
        names, description = (re.split(r"\s{2,}", line.strip(), maxsplit=1) + [""])[:2]
        folder = CONTEST if indent == 2 else ROOT
        entries.append((folder, names, description.strip()))
    return entries


def named(names: str) -> list[str]:
    return [name for name in re.split(r"[,\s]+", names) if name]


def test_the_map_is_found():
    entries = code_map()
    assert any(names == "contest/" for _, names, _ in entries)
    assert any(names == "models/" for folder, names, _ in entries if folder == CONTEST)


def test_every_module_and_folder_the_map_names_exists():
    missing = []
    for folder, names, description in code_map():
        for name in named(names):
            if not (folder / name).exists():
                missing.append(f"{folder.relative_to(ROOT) / name}")
        # Words of a description are looked up beside what the entry names, in contest/, or from the top.
        bases = [folder / name for name in named(names) if name.endswith("/")] + [folder, CONTEST, ROOT]
        for word in PATH_WORD.findall(description):
            if not any((base / word).exists() for base in bases):
                missing.append(f"{word} (in the entry of {names})")
    assert not missing, f"the README's map names what the tree lacks: {missing}"


def test_the_map_names_every_package_and_module_of_contest():
    in_map = {name.rstrip("/").split("/")[0] for folder, names, _ in code_map() if folder == CONTEST
              for name in named(names)}
    parts = {path.name for path in CONTEST.iterdir() if path.suffix == ".py"}
    parts |= {path.name for path in CONTEST.iterdir() if path.is_dir() and (path / "__init__.py").exists()}
    assert parts
    unnamed = sorted(parts - in_map)
    assert not unnamed, f"the README's map does not name these parts of contest/: {unnamed}"
