"""A file without patient data has one wording and one key prefix, each defined once in the core:
the viewer's corner, the findings panel and the History panel say the same words, and the scan,
the history and ``radiai trace`` share one placeholder."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from radiai_core.i18n import localized
from radiai_core.reading import studies
from radiai_core.reading.anonymize import no_patient_data, patient_line
from radiai_core.reading.io import load_image
from radiai_core.results import history, trace

from ..samples import KERMANY_NORMAL

ROOT = Path(__file__).resolve().parents[2]
#: What the viewer and the core run (the language tables hold the sentence as their key).
SOURCES = [p for p in [*(ROOT / "radiai_core").rglob("*.py"), *(ROOT / "app").glob("*.py")]
           if p.name != "i18n.py"]


def test_the_sentence_names_the_file_in_either_language() -> None:
    assert no_patient_data(r"C:\films\chest.png") == "No patient data in the file (chest.png)"
    assert no_patient_data("/films/a b.jpeg") == "No patient data in the file (a b.jpeg)"
    assert localized(no_patient_data("/films/chest.png"), "ko") == (
        "파일에 환자 정보 없음 (chest.png)")
    assert patient_line(load_image(KERMANY_NORMAL).meta) == (
        "No patient data in the file (NORMAL2-IM-1442-0001.jpeg) · age unknown")


def test_the_sentence_and_the_placeholder_are_each_defined_once() -> None:
    worded = [p.relative_to(ROOT).as_posix() for p in SOURCES
              if "No patient data in the file" in p.read_text(encoding="utf-8")]
    assert worded == ["radiai_core/reading/anonymize.py"]
    defined = [p.relative_to(ROOT).as_posix() for p in SOURCES
               if re.search(r"^NO_PATIENT_ID\b.*=", p.read_text(encoding="utf-8"), re.M)]
    assert defined == ["radiai_core/reading/studies.py"]
    assert history.NO_PATIENT_ID is studies.NO_PATIENT_ID
    assert trace.NO_PATIENT_ID is studies.NO_PATIENT_ID


def test_no_two_viewer_modules_define_a_function_of_the_same_name() -> None:
    """A name says what its function does: the History panel's name for a stored patient and
    the study list's row of a scanned one are two things, named apart."""
    seen: dict[str, list[str]] = {}
    for path in sorted((ROOT / "app").glob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.FunctionDef | ast.ClassDef):
                seen.setdefault(node.name, []).append(path.name)
    assert {name: where for name, where in seen.items() if len(where) > 1} == {}
    assert "history_patient_name" in seen and "scanned_patient_row" in seen
