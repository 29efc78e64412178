"""The front door stays a front door (issue 14): README.md is at most 8 KiB, every relative link in it
and in docs/ leads to a file of the repository (and a ``#section`` to a heading of that page), nothing in
the repository points at files outside it, `.ci/run` runs what the README says, and the README's Python
example runs.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT

README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]
#: [text](target) outside code spans; images too
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def _links(page: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)  # no links in code blocks
    text = re.sub(r"`[^`\n]*`", "", text)
    return LINK.findall(text)


def _anchors(page: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)
    heads = re.findall(r"^#+\s+(.*)$", text, flags=re.M)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in heads}


def test_readme_is_at_most_8_kib() -> None:
    assert README.stat().st_size <= 8 * 1024


def test_the_documentation_pages_exist() -> None:
    names = {p.name for p in PAGES if p.parent.name == "docs"}
    assert {
        "README.md", "front-end.md", "hardware-model.md", "estimate.md", "simulator.md",
        "synthesizer.md", "validation.md", "traces.md", "resume.md", "cluster.md", "benchmarks.md",
        "comparison.md", "cost-model.md", "search.md", "sim-hardware.md", "disagreements.md",
    } <= names  # fmt: skip


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_every_relative_link_leads_somewhere(page: Path) -> None:
    broken = []
    for target in _links(page):
        if re.match(r"[a-z]+:", target):  # https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists() or ROOT not in file.parents:
            broken.append(target)
        elif anchor and file.suffix == ".md" and anchor not in _anchors(file):
            broken.append(target)
    assert not broken, f"{page.name}: {broken}"


def _tracked_text_files() -> list[Path]:
    try:
        names = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
        ).stdout.split(b"\0")
        files = [ROOT / n.decode() for n in names if n]
    except (OSError, subprocess.CalledProcessError):  # not a git checkout: every file
        files = [p for p in ROOT.rglob("*") if ".git" not in p.parts]
    return [f for f in files if f.is_file() and f.stat().st_size < 2_000_000]


def test_nothing_refers_outside_the_repository() -> None:
    needle = "shared/" + "reference"  # spelt apart so that this file does not match itself
    hits = []
    for file in _tracked_text_files():
        data = file.read_bytes()
        if b"\0" not in data[:4096] and needle.encode() in data:
            hits.append(str(file.relative_to(ROOT)))
    assert not hits


def test_ci_runs_what_the_readme_says() -> None:
    readme = README.read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "pip install -e '.[test]' && python -m pytest -q" in readme
    assert "ruff check ." in readme and "ruff format --check ." in readme
    commands = [
        line for line in ci.splitlines() if line and not line.startswith(("#", "set", "cd"))
    ]
    assert commands == [
        "python -m pip install -q -e '.[test]'",
        "python -m ruff check .",
        "python -m ruff format --check .",
        "python -m pytest -q",
    ]


def test_the_readme_python_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    """The example explores AlexNet at 49 W with --quick, then estimates and simulates the winner:
    it prints two efficiencies in TOPS/W, both positive."""
    (code,) = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    exec(compile(code, "README.md", "exec"), {})
    printed = capsys.readouterr().out.split()
    assert len(printed) == 2 and all(float(v) > 0 for v in printed)
