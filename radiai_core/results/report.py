"""PDF snapshots (ReportLab): one page per analysed image, with selectable text."""

from __future__ import annotations

import datetime as _dt
import hashlib
import io
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import i18n
from ..analysis.findings import Decision, Findings
from ..analysis.manifest import ModelInfo
from ..analysis.pipeline import NOTICE, Analysis
from ..analysis.zones import describe
from ..errors import ExportError
from ..reading.anonymize import Pseudonymizer, no_patient_data
from ..reading.display import Window
from ..resources import models_dir, project_root
from .history import call_ref
from .private_file import open_private
from .snapshot import bar_rgb, not_called, render, score_figures, shows_lung_contour

log = logging.getLogger(__name__)

FONT, BOLD = "RadiAISans", "RadiAISans-Bold"


HANGUL = "RadiAIHangul"


def _fonts(lang: str = "en") -> tuple[str, str]:
    """DejaVu Sans (bundled, any Latin/Greek/Cyrillic name prints), else Helvetica; for a
    Korean page the bundled Hangul font (a Nanum Gothic subset: ASCII, Latin-1 and Hangul),
    for text and headings alike."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    folder = project_root() / "resources" / "fonts"
    if lang == "ko":
        if HANGUL not in pdfmetrics.getRegisteredFontNames():
            try:
                pdfmetrics.registerFont(TTFont(HANGUL, str(folder / "RadiAIHangul-Regular.ttf")))
            except Exception:  # noqa: BLE001 - a damaged install: the page in English fonts
                log.warning("the Hangul font is missing from %s", folder)
                return _fonts("en")
        return HANGUL, HANGUL
    if FONT in pdfmetrics.getRegisteredFontNames():
        return FONT, BOLD
    try:
        pdfmetrics.registerFont(TTFont(FONT, str(folder / "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont(BOLD, str(folder / "DejaVuSans-Bold.ttf")))
    except Exception:  # noqa: BLE001 - fonts missing from a damaged install: still write the PDF
        log.warning("bundled fonts not found in %s; using Helvetica", folder)
        return "Helvetica", "Helvetica-Bold"
    return FONT, BOLD


def _findings_block(c: Any, f: Findings, t: Callable[[str], str], left: float, y: float,
                    step: float, font: str, bold: str, titled: bool,
                    verdict: tuple[str | None, str] | None = None,
                    room: float = 174 * 72 / 25.4) -> float:
    """One model's findings on the page (title when the set has several, a bar per label,
    marked when a multi-label model calls it, the call, the reader's verdict on it, the
    regions, wrapped to ``room`` points, the width between the margins); returns the new
    y."""
    from reportlab.lib.units import mm
    from reportlab.lib.utils import simpleSplit

    if titled:
        c.setFont(bold, 9.5)
        c.drawString(left, y, f.title)
        y -= step
    for label, p in f.shown():
        c.setFont(bold if f.is_positive(label) else font, 10 if step > 5 * mm else 8.5)
        c.drawString(left, y, t(f.name(label)))
        c.drawRightString(left + 85 * mm, y, f"{p:.1%}")
        c.setFillColorRGB(0.85, 0.85, 0.85)
        c.rect(left + 90 * mm, y - 0.5 * mm, 60 * mm, 3.2 * mm, stroke=0, fill=1)
        c.setFillColorRGB(*(v / 255 for v in bar_rgb(f, label)))  # red: a finding it calls
        c.rect(left + 90 * mm, y - 0.5 * mm, 60 * mm * p, 3.2 * mm, stroke=0, fill=1)
        c.setFillColorRGB(0, 0, 0)
        if f.multi_label:
            c.setFont(font, 7.5)
            c.drawString(left + 152 * mm, y, t("threshold {threshold}").format(
                threshold=f"{f.thresholds.get(label, 0.5):.2f}"))
        y -= step
    if f.call is not None:
        y -= 1.5 * mm
        c.setFont(bold, 10)
        shown = ("indeterminate — read without the AI's call"
                 if f.decision is Decision.INDETERMINATE else f.call)
        c.drawString(left, y, t("Call: {call}").format(call=t(shown)))
        indent = 55 * mm
        # a model that makes a call has its score and threshold
        assert f.abnormal_score is not None and f.threshold is not None
        if f.band is not None:  # the cut-offs of all three decisions, not one threshold
            score, high, low = score_figures(f.abnormal_score, (f.band[1], f.band[0]), 3)
            cutoffs = t("score {score}: pneumonia at {high} or more, none below {low}, "
                        "indeterminate between").format(score=score, high=high, low=low)
        else:
            score, threshold = score_figures(f.abnormal_score, (f.threshold,), 3)
            cutoffs = t("score {score} at the threshold {threshold} chosen on validation "
                        "data").format(score=score, threshold=threshold)
        if (f.decision is Decision.INDETERMINATE  # a longer call: the score goes below it
                or indent + c.stringWidth(cutoffs, font, 9) > room):
            y -= step
            indent = 0
        c.setFont(font, 9)
        for line in simpleSplit(cutoffs, font, 9, room - indent):
            c.drawString(left + indent, y, line)
            y -= step
    elif f.multi_label:
        c.setFont(bold, 10)
        names = ", ".join(t(f.name(p)) for p in f.positives)
        c.drawString(left, y, t("Above threshold: {labels}").format(labels=names)
                     if f.positives else t("No label above its threshold"))
        y -= step
    if verdict is not None and verdict[0]:
        c.setFont(bold, 9.5)
        text = t("Reader's verdict on the call: {verdict}").format(verdict=t(verdict[0]))
        c.drawString(left, y, text)
        comment = f"— {verdict[1]}" if verdict[1] else ""
        after = c.stringWidth(text, bold, 9.5) + 2 * mm
        if comment and after + c.stringWidth(comment, font, 9) <= room:
            c.setFont(font, 9)
            c.drawString(left + after, y, comment)
            comment = ""
        y -= step
        if comment:  # a longer comment: on the lines below, wrapped (four at most)
            y = _paragraph(c, comment, left, y, room, font, 9, max_lines=4)
    if f.zones:
        y = _paragraph(c, t("Evidence by lung zone: {zones}").format(zones=describe(f.zones, t)),
                       left, y, room, font, 9)
    if f.diffuse:
        c.setFont(font, 9)
        c.drawString(left, y, t("Evidence diffuse: no single region stands out, so no box is "
                                "drawn."))
        y -= 5 * mm
    if f.boxes:
        regions = "; ".join(f"x {b.x}, y {b.y}, {b.w} × {b.h} px ("
                            + t("{share} of the heat map").format(share=f"{b.score:.0%}")
                            + ("" if b.in_lungs else ", " + t("mostly outside the lung contour"))
                            + ")" for b in f.boxes)
        y = _paragraph(c, t("Suspected regions: {regions}").format(regions=regions), left, y,
                       room, font, 9)
    return y - 1.5 * mm


def _paragraph(c: Any, text: str, left: float, y: float, room: float, font: str,
               size: float, max_lines: int | None = None) -> float:
    """Draw ``text`` from ``left``, wrapped at word boundaries to ``room`` points in this
    font (never past the right margin: several zones or boxes take several lines; with
    ``max_lines``, the last line shown ends in "…" when there is more); returns the y below
    it."""
    from reportlab.lib.units import mm
    from reportlab.lib.utils import simpleSplit

    lines = simpleSplit(text, font, size, room)
    if max_lines is not None and len(lines) > max_lines:
        rest = " ".join(lines[max_lines - 1:])
        lines = lines[:max_lines - 1] + [simpleSplit(rest, font, size, room - 10)[0] + "…"]
    c.setFont(font, size)
    for line in lines:
        c.drawString(left, y, line)
        y -= 4.2 * mm
    return y - 0.8 * mm


def _manifests() -> list[tuple[str, dict[str, Any]]]:
    """(sha256 of its manifest.json, manifest) of every model folder installed."""
    out = []
    for path in sorted(models_dir().glob("*/manifest.json")):
        try:
            data = path.read_bytes()
            out.append((hashlib.sha256(data).hexdigest(), json.loads(data)))
        except (OSError, ValueError):  # a damaged folder is reported where models load
            continue
    return out


def model_scopes(models: Sequence[ModelInfo]) -> list[str]:
    """What each model of an analysis was made for, in its manifest's own words (``scope``):
    "radiai-densenet121-cxr 2026.11.30: trained on …". The manifest is found by the sha256
    it had when the model ran (``ModelInfo.files``), else by name and version; a classifier
    whose manifest states no scope says so; a model no longer installed is left out."""
    manifests = _manifests()
    lines = []
    for m in models:
        want = m.files.get("manifest.json")
        found = next((d for sha, d in manifests if want and sha == want), None) or next(
            (d for _, d in manifests if d.get("name") == m.name
             and str(d.get("version")) == m.version), None)
        if found is None:
            continue
        scope = found.get("scope")
        if isinstance(scope, str) and scope.strip():
            lines.append(f"{m.name} {m.version}: {scope.strip()}")
        elif m.kind == "classifier":
            lines.append(f"{m.name} {m.version}: its manifest states no scope; ask whoever "
                         "trained it what it was made for")
    return lines


def _image_reader(rgb: np.ndarray):
    from PIL import Image
    from reportlab.lib.utils import ImageReader

    buf = io.BytesIO()  # JPEG (embedded as is): a page stays near 200 kB instead of 2.5 MB
    Image.fromarray(rgb).save(buf, format="JPEG", quality=92)
    buf.seek(0)
    return ImageReader(buf)


def write_pdf(analyses: Sequence[Analysis], path: str | Path,
              pseudonyms: Pseudonymizer | None = None,
              windows: Sequence[Window | None] | None = None,
              when: _dt.datetime | None = None, lang: str | None = None,
              verdicts: Sequence[Mapping[str, tuple[str | None, str]]] | None = None) -> Path:
    """Write one page per analysis to ``path`` (written to a temporary file, then renamed, so
    a failed export leaves no half-written PDF). ``pseudonyms`` (enabled) anonymises the pages;
    pass the same one to every export that belongs together. ``lang`` ("en" or "ko"; default:
    the language the viewer chose, ``radiai_core.i18n``) is the language of the page's words,
    the gate's reasons and the age line included. ``verdicts`` (one mapping per analysis, as
    ``History.verdicts_of`` gives it) puts the reader's verdict on each model's call on the
    page.

    Raises
    ------
    ExportError
        Nothing to export, or the file cannot be written (its message names the path).
    """
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    if not analyses:
        raise ExportError("nothing to export: no analysed image.", path)
    path = Path(path)
    pseudonyms = pseudonyms or Pseudonymizer()
    when = when or _dt.datetime.now().astimezone()
    lang = lang or i18n.language()
    font, bold = _fonts(lang)
    tmp = path.with_name(f".{path.name}.part")
    try:
        with open_private(tmp, binary=True) as out:  # user-only from its first byte
            c = canvas.Canvas(out, pagesize=A4, pageCompression=1)
            c.setTitle("RadiAI snapshot")
            c.setAuthor("RadiAI")
            c.setSubject(NOTICE)
            c.setCreator("RadiAI")
            for i, a in enumerate(analyses):
                window = windows[i] if windows is not None else None
                _page(c, a, pseudonyms, window, when, font, bold, i + 1, len(analyses), lang,
                      verdicts[i] if verdicts is not None else {})
                c.showPage()
            c.save()
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ExportError(f"cannot be written ({exc.strerror or exc}).", path) from None
    return path


@dataclass(frozen=True)
class ModelLine:
    """One piece of text in the page's models table: where it starts, its size, and how far
    below the previous piece's baseline it sits (0: on the same line, a sha256 beside its
    name), all in points."""
    text: str
    x: float
    size: float
    drop: float


def model_rows(models: Sequence[ModelInfo], font: str, left: float, right: float,
               width: Callable[[str, str, float], float]) -> list[ModelLine]:
    """Lay out the models table so that no name runs into its sha256, whatever its length.

    Each row is "kind: name version" in 8.5 pt, then "sha256 …" whole. The sha256 column starts
    70 mm from the margin, or 3 mm past the widest name when a name is longer; the hash
    shrinks (to 5.5 pt at the least) to fit what is left of the line, and where even that
    does not fit it goes on its own line under its name, indented, in the size that fits.

    Parameters
    ----------
    models
        The models of an analysis, in the order they are printed.
    font
        The font's registered name.
    left, right
        The text's margins, in points.
    width
        The width of a text in a font and size, in points (``canvas.stringWidth``).

    Returns
    -------
    list[ModelLine]
        What to draw, top to bottom.
    """
    from reportlab.lib.units import mm

    names = [f"{m.kind}: {m.name} {m.version}" for m in models]
    # A name wider than the line itself is cut to the line (never past the margin).
    column = left + max([70 * mm] + [width(n, font, 8.5) + 3 * mm for n in names])
    out: list[ModelLine] = []
    for m, name in zip(models, names, strict=True):
        size = 8.5 if width(name, font, 8.5) <= right - left else (
            8.5 * (right - left) / width(name, font, 8.5))
        out.append(ModelLine(name, left, size, 4.4 * mm))
        sha = f"sha256 {m.sha256}"  # whole, in a size that fits
        beside = min(7.0, 7.0 * (right - column) / width(sha, font, 7)) if column < right else 0
        if beside >= 5.5:
            out.append(ModelLine(sha, column, beside, 0.0))
        else:
            indent = left + 6 * mm
            out.append(ModelLine(sha, indent, min(7.0, 7.0 * (right - indent)
                                                  / width(sha, font, 7)), 3.4 * mm))
    return out


def _page(c, a: Analysis, pseudonyms: Pseudonymizer, window: Window | None,
          when: _dt.datetime, font: str, bold: str, page: int, pages: int,
          lang: str = "en", verdicts: Mapping[str, tuple[str | None, str]] | None = None
          ) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.lib.utils import simpleSplit

    def t(text: str) -> str:
        return i18n.tr(text, lang)

    width, height = A4
    left, right = 18 * mm, width - 18 * mm
    y = height - 20 * mm
    d = pseudonyms.details(a.image.meta)

    c.setFont(bold, 15)
    c.drawString(left, y, t("RadiAI — chest radiograph snapshot"))
    c.setFont(font, 8.5)
    c.drawRightString(right, y, f"{when:%Y-%m-%d %H:%M %Z}".strip()
                      + f"   {t('page')} {page}/{pages}")
    y -= 7 * mm
    c.setFont(bold, 9.5)
    c.setFillColorRGB(0.6, 0.1, 0.1)
    c.drawString(left, y, t(NOTICE) + t(" The reading radiologist decides."))
    c.setFillColorRGB(0, 0, 0)
    y -= 8 * mm

    # An anonymised page names the patient by the pseudonym's code, once: "Patient
    # 7F3K2-QX9AB (pseudonym)", not "Patient  Patient 7F3K2-QX9AB" over a Patient ID row that
    # repeats the code.
    patient, patient_id = ((t("{code} (pseudonym)").format(code=d.patient_id), "")
                           if pseudonyms.enabled else (d.patient, d.patient_id))
    if not pseudonyms.enabled and patient == no_patient_data(a.image.meta.path):
        patient = i18n.localized(patient, lang)  # the core's sentence, never a person's name
    rows = [("Patient", patient), ("Patient ID", patient_id), ("Birth date", d.birth_date),
            ("Sex", d.sex), ("Institution", d.institution), ("Study date", d.study_date),
            ("Age", i18n.localized(a.age.describe(), lang) if a.age is not None else ""),
            ("Study", d.study_description), ("Study UID", d.study_uid), ("Image", d.reference),
            ("Size", f"{a.image.meta.columns} × {a.image.meta.rows} px, "
                     f"{a.image.meta.format}")]
    for name, value in rows:
        if value:
            c.setFont(bold, 9)
            c.drawString(left, y, t(name))
            c.setFont(font, 9)
            for line in simpleSplit(str(value), font, 9, right - left - 28 * mm)[:3]:
                c.drawString(left + 28 * mm, y, line)
                y -= 4.6 * mm

    plain, over = render(a, window)
    gap = 6 * mm
    box_w = (right - left - gap) / 2
    h, w = plain.shape[:2]
    scale = min(box_w / w, 95 * mm / h)
    img_w, img_h = w * scale, h * scale
    y -= img_h + 3 * mm
    c.drawImage(_image_reader(plain), left, y, img_w, img_h)
    c.drawImage(_image_reader(over), left + box_w + gap, y, img_w, img_h)
    c.setFont(font, 8)
    c.drawString(left, y - 4 * mm, t("Radiograph"))

    shown_by = a.explained
    if a.status != "ok":
        caption = (t("Not analysed: lungs only") if shows_lung_contour(a)
                   else t("Not analysed: not a frontal chest radiograph"))
    elif shown_by is not None and shown_by.cam_label:
        label = shown_by.cam_label
        caption = (t("Heat map and regions: {name}; lungs") if not_called(shown_by, label) is None
                   # A map the reader asked for, of a finding the model does not call.
                   else t("Heat map: {name} {p}, not called (shown on request); lungs")).format(
            name=t(shown_by.name(label)), p=f"{shown_by.probabilities.get(label, 0.0):.1%}")
    elif a.decision is Decision.INDETERMINATE:
        caption = t("Indeterminate: lungs only, no heat map")
    else:
        caption = t("No positive finding: lungs only, no heat map")
    c.drawString(left + box_w + gap, y - 4 * mm, caption)
    y -= 12 * mm

    c.setFont(bold, 11)
    if a.status != "ok":
        c.drawString(left, y, t("No findings: the image was refused ({what}).").format(
            what=i18n.localized(a.refused_as.label, lang)) if a.refused_as is not None
            else t("No findings: the image was refused."))
        y -= 5.5 * mm
        c.setFont(font, 9.5)
        message = i18n.localized(a.message, lang)
        for line in simpleSplit(t("This image {message}.").format(message=message), font, 9.5,
                                right - left)[:4]:
            c.drawString(left, y, line)
            y -= 5 * mm
        y -= 3 * mm
    else:
        c.drawString(left, y, t("Findings"))
        y -= 6 * mm
        n_rows = sum(len(f.labels) + 2 for f in a.findings)
        step = 5.5 * mm if n_rows <= 10 else 4.2 * mm  # a larger model set packs tighter
        for i, f in enumerate(a.findings):
            y = _findings_block(c, f, t, left, y, step, font, bold, len(a.findings) > 1,
                                (verdicts or {}).get(call_ref(f.key, i == 0)), right - left)
    y -= 3 * mm
    c.setFont(bold, 9)
    c.drawString(left, y, t("Models"))
    c.setFont(font, 8.5)
    for line in model_rows(a.models, font, left, right, c.stringWidth):
        y -= line.drop
        c.setFont(font, line.size)
        c.drawString(line.x, y, line.text)
    c.setFont(font, 7.5)
    c.setFillColorRGB(0.3, 0.3, 0.3)
    # Each model's own words on what it was made for, wrapped to the page, under the notice.
    scopes = [part for line in model_scopes(a.models)
              for part in simpleSplit(line, font, 7.5, right - left)]
    y = 15 * mm + 3.3 * mm * max(0, len(scopes) - 3)
    c.drawString(left, y, t("RadiAI is a reading aid for chest radiographs. ") + t(NOTICE))
    for line in scopes:
        y -= 3.3 * mm
        c.drawString(left, y, line)
    c.setFillColorRGB(0, 0, 0)
