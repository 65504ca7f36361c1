"""The README and the guides stay true to the code: the README opens with its two set-up
commands, every link resolves, every `radiai` command the docs show parses with today's
options, and the commands are written as a fresh checkout runs them (`.venv/bin/`)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from radiai_core.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SETUP = [
    "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/radiai tests/data/dicom "
    "tests/data/kermany/images",
    "python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && .venv/bin/python -m pytest -q",
]


def _blocks(text: str) -> list[str]:
    """The commands of a page's ```bash blocks, continuation lines joined."""
    out = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.DOTALL):
        out += [line.split("  #")[0].strip() for line in block.replace("\\\n", " ").splitlines()
                if line.strip() and not line.lstrip().startswith("#")]
    return out


def test_the_readme_opens_with_the_two_setup_commands() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    first = text.split("```bash\n", 1)[1].split("```", 1)[0].splitlines()
    assert first == SETUP
    assert text.index("```bash") < text.index("\n## ")  # before anything else is said
    assert len(text.splitlines()) < 120  # a front page; the details are in docs/


@pytest.mark.parametrize("page", DOCS, ids=lambda p: p.name)
def test_every_link_resolves(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if target.startswith(("http://", "https://")):
            continue
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        assert resolved.exists(), f"{page.name}: {target}"
        if anchor:
            headings = re.findall(r"^#+ (.+)$", resolved.read_text(encoding="utf-8"), re.M)
            slugs = {re.sub(r"[^\w\- ]", "", h).strip().lower().replace(" ", "-")
                     for h in headings}
            assert anchor in slugs, f"{page.name}: {target}"


@pytest.mark.parametrize("page", DOCS, ids=lambda p: p.name)
def test_every_radiai_command_shown_parses(page: Path) -> None:
    """A command in a guide that today's `radiai` would refuse is a guide that cannot be
    followed (a renamed option, a missing required one)."""
    parser = build_parser()
    for command in _blocks(page.read_text(encoding="utf-8")):
        for part in command.split("&&"):
            words = shlex.split(part)
            while words and "=" in words[0] and not words[0].startswith("-"):
                words = words[1:]  # VAR=value before the program
            if not words or not words[0].endswith("/radiai"):
                continue
            assert words[0] == ".venv/bin/radiai", f"{page.name}: {part}"
            args = words[1:]
            if args and not args[0].startswith("-") and args[0] not in (
                    "inspect", "analyze", "evaluate", "train", "listen", "trace", "models"):
                continue  # `radiai PATH ...` opens the viewer
            try:
                parser.parse_args(args)
            except SystemExit as exc:
                if args in (["--help"], ["--version"]):
                    continue
                raise AssertionError(f"{page.name}: {part!r} does not parse") from exc


def test_the_guide_finalizes_with_a_negative_label_and_a_positive_call() -> None:
    """A site's model is finalized with both named: RadiAI never guesses them."""
    guide = (ROOT / "docs" / "train-your-own.md").read_text(encoding="utf-8")
    finalize = [c for c in _blocks(guide) if " train finalize " in c]
    assert len(finalize) == 2
    for command in finalize:
        assert "--negative-label normal" in command and "--positive-call" in command
    assert "pip install -e '.[train]'" in guide and "tensorflow-cpu" in guide
    assert ".venv/bin/radiai models" in guide and "neonates" in guide


def test_the_pages_say_refused_not_rejected() -> None:
    """"rejected" is only the JSON and CSV status value of a refused image, said as such
    (the pages about images and results; a DICOM association is "rejected" in DICOM's own
    words)."""
    pages = ["README.md", "viewer.md", "cli.md", "models.md", "train-your-own.md"]
    for page in (p for p in DOCS if p.name in pages):
        for line in page.read_text(encoding="utf-8").splitlines():
            if "rejected" in line:
                assert "`rejected`" in line and "refused" in line, f"{page.name}: {line}"
