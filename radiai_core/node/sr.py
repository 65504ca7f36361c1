"""An analysis as DICOM for the PACS: a Comprehensive SR and a labelled secondary capture.

Both objects belong to the source image's study (same Study Instance UID, the patient module
copied from the source: the PACS files them beside the image, with the real patient, never a
pseudonym). Their UIDs are derived from the source SOP Instance UID and the identity of the
models that ran, so analysing the same image again with the same models makes the same
objects: a resend after a crash replaces, it does not duplicate.

The SR content tree (root "Diagnostic imaging report", LOINC 18748-4) holds: the algorithm
(DCM 111001 name, 111003 version, and its sha256), the status (analysed / refused, with the
gate's question and reason), per model its findings (each label's probability as a NUM, the
decision, the call, the evidence regions as SCOORD polylines selected from the source image),
the source image (DCM 121112), and the decision-support notice (DCM 121106 "Comment").
Concepts with no standard code use the private scheme ``99RADIAI``.
"""

from __future__ import annotations

import datetime as _dt
import warnings
from collections.abc import Sequence

import highdicom as hd
import numpy as np
from PIL import Image, ImageDraw, ImageFont
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes
from pydicom.sr.coding import Code
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from ..analysis.findings import Findings
from ..analysis.manifest import ModelInfo
from ..analysis.pipeline import NOTICE, Analysis
from ..resources import project_root
from ..results.snapshot import render

__all__ = ["AI_LABEL", "MANUFACTURER", "SCHEME", "labelled_view", "secondary_capture",
           "sr_dataset"]

#: The private coding scheme of concepts DICOM has no code for.
SCHEME = "99RADIAI"
#: How every object RadiAI sends is labelled (Series Description, burned into the capture).
AI_LABEL = "AI output — RadiAI"
MANUFACTURER = "RadiAI"
SR_SERIES_NUMBER = 9901
SC_SERIES_NUMBER = 9902

TITLE = Code("18748-4", "LN", "Diagnostic imaging report")
STATUS = Code("analysis-status", SCHEME, "Analysis status")
REFUSED_BY = Code("refused-by", SCHEME, "Refused by scope question")
REFUSAL_REASON = Code("refusal-reason", SCHEME, "Reason for refusal")
SHA256 = Code("algorithm-sha256", SCHEME, "Algorithm sha256")
MODEL = Code("model", SCHEME, "Model findings")
DECISION = Code("decision", SCHEME, "AI decision")
CALL = Code("call", SCHEME, "AI call")
SCORE = Code("abnormal-score", SCHEME, "Abnormality score")
THRESHOLD = Code("threshold", SCHEME, "Decision threshold")
NO_UNITS = Code("1", "UCUM", "no units")


def _private(value: str, meaning: str) -> Code:
    return Code(value[:16], SCHEME, meaning[:64])


def _uid(*parts: str) -> str:
    """A UID derived from ``parts`` (2.25 form): the same inputs, the same UID."""
    return generate_uid(prefix=None, entropy_srcs=list(parts))


#: Type 2 attributes of the patient and study modules (present, possibly empty) that the
#: objects copy from the source: a source without them gets them empty.
_TYPE2 = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyDate",
          "StudyTime", "StudyID", "AccessionNumber", "ReferringPhysicianName")


def _header(source: Dataset) -> Dataset:
    """The source's header (no pixels) with every type 2 patient and study attribute present."""
    head = Dataset()
    for elem in source:
        if elem.tag.group != 0x7FE0:
            head.add(elem)
    for keyword in _TYPE2:
        if keyword not in head:
            setattr(head, keyword, "")
    return head


def _identity(models: Sequence[ModelInfo]) -> str:
    return "|".join(f"{m.name}:{m.version}:{m.sha256}" for m in models)


def _text(name: Code, value: str, rel: str = "CONTAINS") -> hd.sr.TextContentItem:
    return hd.sr.TextContentItem(name=name, value=value[:1024] or "-", relationship_type=rel)


def _findings_item(f: Findings, source: Dataset) -> hd.sr.ContainerContentItem:
    """One model's findings: probabilities, decision, call, evidence regions."""
    box = hd.sr.ContainerContentItem(name=MODEL, relationship_type="CONTAINS")
    items: list = [_text(codes.DCM.Finding, f.title)]
    for label, p in f.shown():
        items.append(hd.sr.NumContentItem(name=_private(label, f.name(label)), value=float(p),
                                          unit=NO_UNITS, relationship_type="CONTAINS"))
    if f.decision is not None:  # None: a model that makes no call
        items.append(hd.sr.CodeContentItem(
            name=DECISION, value=_private(f.decision.value, f.decision.value),
            relationship_type="CONTAINS"))
    if f.abnormal_score is not None and f.threshold is not None:
        items.append(hd.sr.NumContentItem(name=SCORE, value=float(f.abnormal_score),
                                          unit=NO_UNITS, relationship_type="CONTAINS"))
        items.append(hd.sr.NumContentItem(name=THRESHOLD, value=float(f.threshold),
                                          unit=NO_UNITS, relationship_type="CONTAINS"))
    if f.call is not None:
        items.append(_text(CALL, f.call))
    if f.multi_label:
        items.append(_text(CALL, f.summary()))
    for b in f.boxes:
        x0, y0, x1, y1 = float(b.x), float(b.y), float(b.x + b.w), float(b.y + b.h)
        region = hd.sr.ScoordContentItem(
            name=codes.DCM.ImageRegion, graphic_type=hd.sr.GraphicTypeValues.POLYLINE,
            graphic_data=np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]),
            pixel_origin_interpretation="VOLUME", relationship_type="CONTAINS")
        region.ContentSequence = hd.sr.ContentSequence([hd.sr.ImageContentItem(
            name=codes.DCM.SourceOfMeasurement, referenced_sop_class_uid=source.SOPClassUID,
            referenced_sop_instance_uid=source.SOPInstanceUID,
            relationship_type="SELECTED FROM")])
        items.append(region)
    box.ContentSequence = hd.sr.ContentSequence(items)
    return box


def sr_dataset(a: Analysis | None, source: Dataset, models: Sequence[ModelInfo] = (),
               refused_by: str | None = None, reason: str | None = None) -> Dataset:
    """The Comprehensive SR of an analysis (see the module's description) in ``source``'s
    study; without an analysis (a file the pipeline could not take: a CT, damaged pixels), a
    refusal with ``refused_by`` and ``reason``.

    Parameters
    ----------
    a
        The analysis of the image ``source`` is the header of, or None.
    source
        The received image's dataset (pixel data not needed).
    models
        The models that would have run (when ``a`` is None; else ``a.models``).
    refused_by, reason
        Why there is no analysis (when ``a`` is None).

    Returns
    -------
    Dataset
        A Comprehensive SR instance, UTF-8 (ISO_IR 192), ready to be stored or sent.
    """
    models = list(a.models) if a is not None else list(models)
    identity = _identity(models)
    source = _header(source)
    items: list = []
    for m in models:
        items.append(_text(codes.DCM.AlgorithmName, f"{m.name} ({m.kind})"))
        items.append(_text(codes.DCM.AlgorithmVersion, m.version))
        items.append(_text(SHA256, m.sha256))
    if a is not None and a.status == "ok":
        items.append(_text(STATUS, "analysed"))
        items += [_findings_item(f, source) for f in a.findings]
    else:
        items.append(_text(STATUS, "refused"))
        items.append(_text(REFUSED_BY, (a.refused_by if a is not None else refused_by)
                           or "unknown"))
        items.append(_text(REFUSAL_REASON, (a.message if a is not None else reason) or ""))
    items.append(hd.sr.ImageContentItem(
        name=codes.DCM.SourceOfMeasurement, referenced_sop_class_uid=source.SOPClassUID,
        referenced_sop_instance_uid=source.SOPInstanceUID, relationship_type="CONTAINS"))
    items.append(_text(codes.DCM.Comment, NOTICE))
    root = hd.sr.ContainerContentItem(name=TITLE)
    root.ContentSequence = hd.sr.ContentSequence(items)
    with warnings.catch_warnings():
        # The patient's name is copied as the PACS sent it, one component or several.
        warnings.filterwarnings("ignore", message=".*intended person name", category=UserWarning)
        sr = _comprehensive_sr(
            source, root, identity)
    _stamp(sr)
    return sr


def _comprehensive_sr(source: Dataset, root: Dataset, identity: str) -> Dataset:
    return hd.sr.ComprehensiveSR(
        evidence=[source], content=root,
        series_instance_uid=_uid(source.StudyInstanceUID, "radiai-sr", identity),
        series_number=SR_SERIES_NUMBER,
        sop_instance_uid=_uid(source.SOPInstanceUID, "radiai-sr", identity),
        instance_number=int(source.get("InstanceNumber") or 1), manufacturer=MANUFACTURER,
        is_complete=True, series_description=f"{AI_LABEL} (report)")


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = project_root() / "resources" / "fonts" / "DejaVuSans.ttf"
    try:
        return ImageFont.truetype(str(path), size)
    except OSError:
        return ImageFont.load_default()


def _summary(a: Analysis) -> str:
    if a.status != "ok":
        return f"Refused: {a.message}"
    return " · ".join(f"{f.title}: {f.summary()}" for f in a.findings)


def labelled_view(a: Analysis, max_side: int = 1024) -> np.ndarray:
    """The view with its overlay (``render``), a band above it saying it is RadiAI's output,
    what it found (or why it refused) and the notice; uint8 RGB. No patient text."""
    _, over = render(a, max_side=max_side)
    w = over.shape[1]
    size = max(10, w // 48)
    lines = [f"{AI_LABEL} · {NOTICE}", _summary(a)]
    band_h = (size + size // 2) * len(lines) + size // 2
    canvas = Image.new("RGB", (w, over.shape[0] + band_h), (0, 0, 0))
    canvas.paste(Image.fromarray(over), (0, band_h))
    draw = ImageDraw.Draw(canvas)
    font = _font(size)
    for i, line in enumerate(lines):
        while len(line) > 4 and draw.textlength(line, font=font) > w - size:
            line = line[:-5] + "…"
        draw.text((size // 2, size // 2 + i * (size + size // 2)), line, font=font,
                  fill=(255, 215, 0))
    return np.asarray(canvas)


def secondary_capture(a: Analysis, source: Dataset, max_side: int = 1024) -> Dataset:
    """A secondary capture of the view of ``a`` with its overlay, labelled as AI output in its
    Series Description and burned in, in ``source``'s study.

    Parameters
    ----------
    a
        The analysis of the image ``source`` is the header of.
    source
        The received image's dataset.
    max_side
        The capture's longest side in pixels (the picture; the label band adds to it).

    Returns
    -------
    Dataset
        A Secondary Capture Image instance (RGB, 8 bits, Explicit VR Little Endian).
    """
    identity = _identity(a.models)
    source = _header(source)
    pixels = np.ascontiguousarray(labelled_view(a, max_side))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*intended person name", category=UserWarning)
        sc = _capture(source, pixels, identity)
    sc.BurnedInAnnotation = "NO"  # the burned label names no patient
    sc.ImageComments = f"{AI_LABEL}. {NOTICE}"
    sc.ConversionType = "WSD"
    src = Dataset()
    src.ReferencedSOPClassUID = source.SOPClassUID
    src.ReferencedSOPInstanceUID = source.SOPInstanceUID
    sc.SourceImageSequence = [src]
    _stamp(sc)
    return sc


def _capture(source: Dataset, pixels: np.ndarray, identity: str) -> Dataset:
    given = [str(v) for v in (source.get("PatientOrientation") or [])]
    # The source's orientation when it has one (the capture is the same view, scaled), else
    # the convention of a frontal chest film shown as read: columns to the patient's left,
    # rows to the feet.
    orientation = (given[0], given[1]) if len(given) == 2 and all(given) else ("L", "F")
    return hd.sc.SCImage.from_ref_dataset(
        ref_dataset=source, pixel_array=pixels, photometric_interpretation="RGB",
        bits_allocated=8, coordinate_system="PATIENT",
        series_instance_uid=_uid(source.StudyInstanceUID, "radiai-sc", identity),
        series_number=SC_SERIES_NUMBER,
        sop_instance_uid=_uid(source.SOPInstanceUID, "radiai-sc", identity),
        instance_number=int(source.get("InstanceNumber") or 1), manufacturer=MANUFACTURER,
        patient_orientation=orientation, transfer_syntax_uid=ExplicitVRLittleEndian,
        series_description=AI_LABEL)


def _stamp(ds: Dataset) -> None:
    now = _dt.datetime.now()
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.ContentDate = now.strftime("%Y%m%d")
    ds.ContentTime = now.strftime("%H%M%S")
