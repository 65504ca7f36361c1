"""A site's own model, end to end (docs/train-your-own.md): a 7-label multi-label model trained
on real public images with `radiai train classifier --multi-label`, finalized, dropped into a
models folder next to the shipped ones, and shown by every face (analysis, JSON, CLI text,
CSV, PDF, history) with no code change."""

from __future__ import annotations

import csv
import io
import json
import shutil
import sqlite3
from pathlib import Path

import pypdf
import pytest

from radiai_core.analysis import Decision, pipeline
from radiai_core.analysis.models import load_models
from radiai_core.analysis.pipeline import Analyzer
from radiai_core.cli import main
from radiai_core.errors import DataError, ModelError
from radiai_core.results.history import History
from radiai_core.training.datasets import read_multilabel_table

from ..samples import KERMANY_BACTERIAL, KERMANY_NORMAL, SEVEN_DIR, SEVEN_TITLE

pytestmark = pytest.mark.slow

NIA = ["normal", "hyperinflation", "rds", "atelectasis", "air_leak", "effusion", "pneumonia"]


def test_the_multilabel_table_gives_the_label_set_and_names_bad_cells(tmp_path) -> None:
    labels, rows = read_multilabel_table(SEVEN_DIR / "index.csv")
    assert labels == NIA  # from the header, in its order; rds has no public image
    assert sum(r.targets[labels.index("rds")] for r in rows) == 0
    assert all(sum(r.targets) >= 1 for r in rows) and len(rows) == 23
    bad = tmp_path / "bad.csv"
    bad.write_text("path,source,normal,effusion\na.png,nih,1,0\n")
    with pytest.raises(DataError, match=r"line 2, column 'source' holds 'nih'"):
        read_multilabel_table(bad)


def test_a_trained_seven_label_model_is_a_model_folder(seven_label_run: Path) -> None:
    manifest = json.loads((seven_label_run / "findings7" / "manifest.json").read_text())
    assert manifest["labels"] == NIA and manifest["multi_label"] is True
    assert manifest["title"] == SEVEN_TITLE and manifest["name"] == "site-findings-7"
    assert manifest["display_names"]["rds"] == "respiratory distress syndrome"
    assert set(manifest["thresholds"]) == set(NIA)
    assert all(0.0 <= v <= 1.0 for v in manifest["thresholds"].values())
    per_label = manifest["metrics"]["validation"]["per_label"]
    assert per_label["rds"]["positives"] == 0 and "0.5" in per_label["rds"]["threshold_rule"]
    assert manifest["metrics"]["validation"]["litert_max_abs_diff_vs_keras"] < 1e-4
    state = json.loads((seven_label_run / "run" / "checkpoint" / "state.json").read_text())
    losses = [h["train_loss"] for h in state["history"]]
    assert len(losses) == 2 and losses[1] < losses[0]  # it learns
    log = (seven_label_run / "run" / "train_classifier.log").read_text()
    assert "'rds' has no positive training image" in log


def test_every_face_shows_the_dropped_in_model(seven_label_models: Path, tmp_path,
                                               monkeypatch) -> None:
    models = load_models(seven_label_models)
    assert [g.key for g in models.groups] == ["classifier", "findings7"]
    analyzer = Analyzer(models)
    a = analyzer.analyze(KERMANY_BACTERIAL)
    shipped, site = a.findings
    assert shipped.call == a.call == "pneumonia" and shipped.cam_label is not None
    assert site.title == SEVEN_TITLE and site.labels == NIA and site.multi_label
    assert all(0.0 <= p <= 1.0 for p in site.probabilities.values())
    assert site.decision is (Decision.POSITIVE if site.positives else Decision.NEGATIVE)
    assert site.cam_label is None and site.heatmap is None  # one heat map: the shipped call's
    # The reader asks for the site model's effusion map: only that one is drawn.
    b = analyzer.analyze(KERMANY_BACTERIAL, cam_label="findings7/effusion")
    assert b.cam_label == "effusion" and b.explained is b.findings[1]
    assert b.heatmap is not None and b.heatmap.shape == b.image.shape
    assert b.findings[0].cam_label is None
    d = a.to_dict()
    assert [f["key"] for f in d["findings"]] == ["classifier", "findings7"]
    assert d["findings"][1]["probabilities"].keys() == set(NIA)

    # History: every model's findings, and a verdict on a label of the site's model.
    db = tmp_path / "history.sqlite"
    with History(db) as h:
        aid = h.record(a)
        h.set_verdict(aid, "findings7/effusion", "disagree", "no effusion on the film")
        e = h.entry(aid)
        assert [f.key for f in e.findings] == ["classifier", "findings7"]
        assert e.findings[1].probabilities == pytest.approx(site.probabilities)
        assert e.verdicts["findings7/effusion"] == ("disagree", "no effusion on the film")
        assert h.reopen(aid).findings[1].thresholds == site.thresholds
    stored = sqlite3.connect(db).execute("SELECT findings FROM analyses").fetchone()[0]
    assert json.loads(stored)[1]["title"] == SEVEN_TITLE

    # The CLI (text, JSON, CSV, PDF) with the site's models folder.
    monkeypatch.setenv("RADIAI_MODELS", str(seven_label_models))
    monkeypatch.setenv("RADIAI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(pipeline, "_default", None)
    text = io.StringIO()
    assert main(["analyze", str(KERMANY_BACTERIAL), "--no-history"], out=text) == 0
    assert f"[{SEVEN_TITLE}]" in text.getvalue()
    assert "respiratory distress syndrome" in text.getvalue()
    out = io.StringIO()
    assert main(["analyze", str(KERMANY_BACTERIAL), str(KERMANY_NORMAL), "--json",
                 "--csv", str(tmp_path / "t.csv"), "--pdf-dir", str(tmp_path / "pdf")],
                out=out) == 0
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert all(len(r["findings"]) == 2 for r in records if r["status"] == "ok")
    rows = list(csv.DictReader(open(tmp_path / "t.csv", encoding="utf-8")))
    for r in rows:
        assert r["p_viral"] and all(r[f"findings7.p_{lab}"] for lab in NIA)
        assert set(filter(None, r["findings7.positives"].split("|"))) <= set(NIA)
    pdfs = sorted((tmp_path / "pdf").glob("*.pdf"))
    assert len(pdfs) == 2
    page = pypdf.PdfReader(pdfs[0]).pages[0].extract_text()
    assert SEVEN_TITLE in page and "respiratory distress syndrome" in page
    assert "Pneumonia, 3 classes (pediatric)" in page
    with History(tmp_path / "data" / "history.sqlite") as h:
        assert {len(e.findings) for e in h.analyses()} == {2}


def test_a_models_folder_is_read_by_kind_with_clear_messages(seven_label_run: Path,
                                                             tmp_path) -> None:
    from radiai_core.resources import models_dir

    root = tmp_path / "models"
    root.mkdir()
    for name in ("classifier", "lung_mask"):
        (root / name).symlink_to(models_dir() / name, target_is_directory=True)
    with pytest.raises(ModelError, match="has no gate model folder"):
        load_models(root)
    (root / "gate").symlink_to(models_dir() / "gate", target_is_directory=True)
    (root / "notes").mkdir()
    with pytest.raises(ModelError, match=r"notes: has no manifest\.json"):
        load_models(root)
    (root / "notes").rmdir()
    (root / "masks2").symlink_to(models_dir() / "lung_mask", target_is_directory=True)
    with pytest.raises(ModelError, match=r"has 2 lung_mask model folders \(lung_mask, masks2\)"):
        load_models(root)
    (root / "masks2").unlink()
    # Two members of one ensemble answer as one model: the mean of their probabilities.
    for i in (1, 2):
        member = root / f"site{i}"
        shutil.copytree(seven_label_run / "findings7", member)
        m = json.loads((member / "manifest.json").read_text())
        m["ensemble"] = "site"
        (member / "manifest.json").write_text(json.dumps(m))
    models = load_models(root)
    assert [g.key for g in models.groups] == ["classifier", "site"]
    assert len(models.groups[1].members) == 2 and len(models.infos) == 5
    both = Analyzer(models).analyze(KERMANY_NORMAL).findings[1]
    shutil.rmtree(root / "site2")
    one = Analyzer(load_models(root)).analyze(KERMANY_NORMAL).findings[1]
    assert both.key == one.key == "site" and both.labels == NIA
    assert both.probabilities == pytest.approx(one.probabilities, abs=1e-6)  # mean of equals
    shutil.copytree(root / "site1", root / "site2")
    m = json.loads((root / "site2" / "manifest.json").read_text())
    m["labels"] = list(reversed(NIA))
    (root / "site2" / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(ModelError, match="has other labels"):
        load_models(root)


def test_evaluate_measures_the_site_model_label_by_label(seven_label_models: Path,
                                                         seven_label_run: Path, tmp_path,
                                                         monkeypatch, capsys) -> None:
    """`radiai evaluate --model findings7` on a multi-label table of children (the Kermany
    samples: normal, or pneumonia): each label's AUC where the table has both classes, at the
    thresholds in the model's manifest."""
    from ..samples import KERMANY_DIR

    rows = list(csv.DictReader(open(KERMANY_DIR / "index.csv", encoding="utf-8")))
    table = tmp_path / "children.csv"
    with open(table, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["path", "patient_id", *NIA])
        for r in rows:
            w.writerow([str(KERMANY_DIR / r["path"]), r["patient_id"],
                        *[int(lab == ("normal" if r["label"] == "normal" else "pneumonia"))
                          for lab in NIA]])
    monkeypatch.setenv("RADIAI_MODELS", str(seven_label_models))
    monkeypatch.setenv("RADIAI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(pipeline, "_default", None)
    out = io.StringIO()
    assert main(["evaluate", "--csv", str(table), "--model", "findings7", "--json"],
                out=out) == 0
    m = json.loads(out.getvalue())
    manifest = json.loads((seven_label_run / "findings7" / "manifest.json").read_text())
    assert m["model"] == "findings7" and m["thresholds"] == manifest["thresholds"]
    assert m["n"] + len(m["rejected"]) + len(m["errors"]) == len(rows)
    assert m["n"] >= 15  # children: the gate lets them through
    # Each label's AUC, from the probabilities the model gives the same images here.
    from sklearn.metrics import roc_auc_score

    analyzer = Analyzer(load_models(seven_label_models))
    analyses = [(r, analyzer.analyze(KERMANY_DIR / r["path"], explain=False)) for r in rows]
    kept = [r for r, a in analyses if a.status == "ok"]
    probs = [a.findings[1].probabilities for _, a in analyses if a.status == "ok"]
    for lab in ("normal", "pneumonia"):
        truth = [(r["label"] == "normal") == (lab == "normal") for r in kept]
        assert m["per_label"][lab]["auc"] == pytest.approx(
            roc_auc_score(truth, [p[lab] for p in probs]), abs=1e-6)
    assert m["per_label"]["rds"]["positives"] == 0 and "auc" not in m["per_label"]["rds"]
    text = io.StringIO()
    assert main(["evaluate", "--csv", str(table), "--model", "findings7"], out=text) == 0
    assert f"model findings7 ({SEVEN_TITLE})" in text.getvalue()
    # What cannot be measured says why, in one line.
    assert main(["evaluate", "--csv", str(table), "--model", "nia"]) == 1
    assert "has no model 'nia'; it has classifier, findings7" in capsys.readouterr().err
    assert main(["evaluate", "--csv", str(table), "--model", "findings7", "--protocol"]) == 1
    assert "--protocol measures the primary classifier only" in capsys.readouterr().err
    assert main(["evaluate", "--csv", str(SEVEN_DIR / "index.csv"), "--model",
                 "classifier"]) == 1
    assert "has no column(s) label" in capsys.readouterr().err


@pytest.mark.parametrize(("thresholds", "expected"), [
    (None, []),
    ({}, "every label but normal, most probable first"),
    ({"effusion": 0.0}, ["effusion"]),
    ({"effusion": 0.0, "atelectasis": 0.0}, "effusion and atelectasis, most probable first"),
])
def test_a_multi_label_model_calls_the_labels_at_or_over_their_thresholds(
        seven_label_models: Path, tmp_path: Path, thresholds: dict[str, float] | None,
        expected: object) -> None:
    """Known answers: with every threshold at 1.01 but the ones given (0.0), the model calls
    exactly those labels (all but "normal" when none is given: every threshold 0.0; none
    when ``thresholds`` is None: every threshold 1.01)."""
    root = tmp_path / "models"
    root.mkdir()
    for name in ("classifier", "lung_mask", "gate"):
        (root / name).symlink_to(seven_label_models / name, target_is_directory=True)
    shutil.copytree(seven_label_models / "findings7", root / "findings7")
    path = root / "findings7" / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["thresholds"] = {lab: (1.01 if thresholds is None else
                                    0.0 if not thresholds or lab in thresholds else 1.01)
                              for lab in NIA}
    path.write_text(json.dumps(manifest))
    site = Analyzer(load_models(root)).analyze(KERMANY_BACTERIAL).findings[1]
    p = site.probabilities
    if expected == "every label but normal, most probable first":
        expected = sorted((lab for lab in NIA if lab != "normal"), key=lambda k: -p[k])
    elif isinstance(expected, str):
        expected = sorted(["effusion", "atelectasis"], key=lambda k: -p[k])
    assert site.positives == expected
    assert site.decision is (Decision.POSITIVE if expected else Decision.NEGATIVE)

