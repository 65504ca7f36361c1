"""Two faces at once: `radiai analyze` in its own process and the viewer's worker (a thread
recording analyses, as AnalysisWorker does) write the same history; nothing is lost and no
"database is locked" reaches anyone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from radiai_core.analysis.models import load_models
from radiai_core.analysis.pipeline import Analyzer
from radiai_core.results.history import History

from .test_hostile import distinct_images

pytestmark = pytest.mark.slow


def test_the_viewer_and_the_cli_write_one_history_at_once(tmp_path) -> None:
    images = distinct_images(tmp_path / "all", 80)  # 80 different images (history keys)
    (tmp_path / "cli").mkdir()
    (tmp_path / "viewer").mkdir()
    cli_images = [p.rename(tmp_path / "cli" / p.name) for p in images[:40]]
    viewer_images = [p.rename(tmp_path / "viewer" / p.name) for p in images[40:]]
    data = tmp_path / "data"
    env = {**os.environ, "RADIAI_DATA_DIR": str(data)}
    proc = subprocess.Popen([sys.executable, "-m", "radiai_core.cli", "analyze", "--json",
                             str(tmp_path / "cli")], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, text=True)
    first = proc.stdout.readline()  # the CLI is writing: start the viewer's writes now
    assert json.loads(first)["status"] in ("ok", "rejected")
    analyzer = Analyzer(load_models())
    errors: list[BaseException] = []
    stored: list[int] = []
    overlapped = threading.Event()

    def viewer_worker() -> None:
        try:
            with History(data / "history.sqlite") as h:
                for p in viewer_images:
                    stored.append(h.record(analyzer.analyze(p)))
                    if proc.poll() is None:
                        overlapped.set()
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)

    t = threading.Thread(target=viewer_worker)
    t.start()
    out, err = proc.communicate(timeout=300)
    t.join(300)
    assert errors == []
    assert proc.returncode == 0, err
    assert "locked" not in err.lower() and "Traceback" not in err
    assert overlapped.is_set(), "the two writers never ran at the same time"
    printed = [json.loads(line) for line in [first, *out.splitlines()] if line.startswith("{")]
    assert len(printed) == len(cli_images)
    with History(data / "history.sqlite") as h:
        paths = {Path(e.path) for e in h.analyses()}
        assert h.integrity() == "ok"
    assert paths == {p.resolve() for p in [*cli_images, *viewer_images]}
    assert len(stored) == len(viewer_images)
