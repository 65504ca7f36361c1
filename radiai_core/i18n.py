"""The language of what the core writes for a reader (the PDF snapshot): English or Korean.

The viewer chooses it (``app.i18n``, Qt's translations); the core, which has no Qt, keeps its
few report phrases here. Unknown phrases stay in English.
"""

from __future__ import annotations

import re

_language = "en"

#: The PDF snapshot's phrases in Korean.
KOREAN = {
    "RadiAI — chest radiograph snapshot": "RadiAI — 흉부 방사선 사진 스냅샷",
    "Decision support, not a diagnosis.": "진단이 아니라 판독을 돕는 정보입니다.",
    " The reading radiologist decides.": " 최종 판단은 판독의가 합니다.",
    "Patient": "환자", "{code} (pseudonym)": "{code} (가명)", "Patient ID": "환자 ID",
    "Birth date": "생년월일", "Sex": "성별",
    "Age": "나이", "Institution": "기관", "Study date": "검사일", "Study": "검사",
    "Study UID": "검사 UID", "Image": "영상", "Size": "크기", "page": "쪽",
    "Radiograph": "방사선 사진",
    "Not analysed: lungs only": "분석하지 않음: 폐 윤곽만 표시",
    "Heat map and regions: {name}; lungs": "히트맵과 영역: {name}; 폐 윤곽",
    "No positive finding: lungs only, no heat map": "양성 소견 없음: 폐 윤곽만, 히트맵 없음",
    "Indeterminate: lungs only, no heat map": "판정 보류: 폐 윤곽만, 히트맵 없음",
    "score {score}: pneumonia at {high} or more, none below {low}, indeterminate between":
        "점수 {score}: {high} 이상 폐렴, {low} 미만 폐렴 아님, 그 사이 판정 보류",
    "No findings: the image was refused.": "소견 없음: 이 영상은 분석 대상이 아닙니다.",
    "No findings: the image was refused ({what}).":
        "소견 없음: 이 영상은 분석 대상이 아닙니다({what}).",
    "Findings": "소견", "Call: {call}": "판정: {call}",
    "score {score} at the threshold {threshold} chosen on validation data":
        "점수 {score}, 검증 데이터로 정한 임계값 {threshold}",
    "Suspected regions: {regions}": "의심 영역: {regions}",
    "{share} of the heat map": "히트맵의 {share}",
    "Models": "모델",
    "RadiAI is a reading aid for chest radiographs. ":
        "RadiAI는 흉부 방사선 사진 판독 보조 도구입니다. ",
    "The classifier was trained on pediatric radiographs (children aged 1–5); the lung masks on "
    "adult radiographs.":
        "분류 모델은 1–5세 소아 방사선 사진으로, 폐 분할 모델은 성인 방사선 사진으로 학습했습니다.",
    "This image {message}.": "이 영상은 {message}.",
    "pneumonia": "폐렴", "no pneumonia": "폐렴 아님",
    "indeterminate": "판정 보류", "indeterminate — read without the AI's call":
        "판정 보류 — AI 판정 없이 판독하세요",
    "normal": "정상", "bacterial pneumonia": "세균성 폐렴", "viral pneumonia": "바이러스성 폐렴",
    "Above threshold: {labels}": "임계값 이상: {labels}",
    "No label above its threshold": "임계값 이상인 소견 없음",
    "threshold {threshold}": "임계값 {threshold}",
    "Reader's verdict on the call: {verdict}": "판독의 의견(판정에 대해): {verdict}",
    "agree": "동의", "disagree": "동의하지 않음",
    # Where the evidence lies (zones.py): each lung in thirds of its height, the patient's
    # right lung on the image's left.
    "Evidence by lung zone: {zones}": "폐야별 근거: {zones}",
    "{zone} zone {share}": "{zone} {share}", "{share} outside the lungs": "폐 밖 {share}",
    "right upper": "우상폐야", "right middle": "우중폐야", "right lower": "우하폐야",
    "left upper": "좌상폐야", "left middle": "좌중폐야", "left lower": "좌하폐야",
    "no lung zone holds 10 % of the map": "히트맵의 10 % 이상인 폐야 없음",
    "Evidence diffuse: no single region stands out, so no box is drawn.":
        "근거가 미만성: 두드러진 한 영역이 없어 상자를 그리지 않습니다.",
    "mostly outside the lung contour": "대부분 폐 윤곽 밖",
    # The design card's seven pediatric classes (NIA), for a site's own model.
    "hyperinflation": "과팽창", "respiratory distress syndrome": "호흡곤란증후군",
    "atelectasis": "무기폐", "air leak": "공기 누출", "pleural effusion": "흉막 삼출",
    "abnormal finding": "이상 소견", "no abnormal finding": "이상 소견 없음",
}
_CATALOGS = {"ko": KOREAN}


def set_language(code: str) -> None:
    """"en" or "ko" (anything else is English)."""
    global _language
    _language = code if code in _CATALOGS or code == "en" else "en"


def language() -> str:
    """The language set for the core's reader-facing text."""
    return _language


def tr(text: str, lang: str | None = None) -> str:
    """``text`` in ``lang`` (default: the language set), or as it is."""
    return _CATALOGS.get(lang or _language, {}).get(text, text)


#: The core's reader-facing sentences (the gate's reasons, the age and patient lines) as
#: English templates → Korean. The data stay English (history, CSV, JSON); ``localized``
#: translates them where a reader sees them in Korean. {placeholders} match any text.
SENTENCES_KO: list[tuple[str, str]] = [
    ("is almost uniform (blank or nearly blank); there is no radiograph to analyse",
     "거의 균일한 영상입니다(빈 영상). 분석할 방사선 사진이 없습니다"),
    ("is too small to be a radiograph (fewer than 128 pixels on a side)",
     "방사선 사진이라기에는 너무 작습니다(한 변이 128 픽셀 미만)"),
    ("is a colour image (a photograph or screenshot?), not a radiograph",
     "컬러 영상(사진이나 화면 캡처?)으로, 방사선 사진이 아닙니다"),
    ("shows no lung fields; it does not look like a frontal chest radiograph",
     "폐야가 보이지 않습니다. 흉부 정면 방사선 사진으로 보이지 않습니다"),
    ("does not look like a frontal chest radiograph (implausible lung fields)",
     "흉부 정면 방사선 사진으로 보이지 않습니다(폐야가 비정상적)"),
    ("does not look like a frontal chest radiograph (the lung fields cannot be found with "
     "confidence)", "흉부 정면 방사선 사진으로 보이지 않습니다(폐야를 확실히 찾을 수 없음)"),
    ("is unlike the chest radiographs RadiAI was trained on; it is probably not a frontal chest "
     "radiograph", "RadiAI가 학습한 흉부 방사선 사진과 다릅니다. 흉부 정면 방사선 사진이 아닐 "
     "가능성이 높습니다"),
    ("does not look like a frontal chest radiograph with the usual grey levels (dark lungs, "
     "bright bones): it may be a negative (inverted) image, or not a radiograph",
     "일반적인 회색조(어두운 폐, 밝은 뼈)의 흉부 정면 방사선 사진으로 보이지 않습니다. 반전된 "
     "영상이거나 방사선 사진이 아닐 수 있습니다"),
    ("looks like a chest radiograph only when its grey levels are reversed; the image is "
     "probably inverted (negative)", "회색조를 반전해야 흉부 방사선 사진처럼 보입니다. 반전된 "
     "영상일 가능성이 높습니다"),
    ("shows the lungs brighter than the tissue around them; the image is probably inverted "
     "(negative)", "폐가 주변 조직보다 밝게 보입니다. 반전된 영상일 가능성이 높습니다"),
    ("looks like a CT slice, not a radiograph; RadiAI reads frontal chest radiographs only",
     "CT 단면으로 보이며 방사선 사진이 아닙니다. RadiAI는 흉부 정면 방사선 사진만 판독합니다"),
    ("looks like an MR image, not a radiograph; RadiAI reads frontal chest radiographs only",
     "MR 영상으로 보이며 방사선 사진이 아닙니다. RadiAI는 흉부 정면 방사선 사진만 판독합니다"),
    ("looks like an ultrasound image, not a radiograph; RadiAI reads frontal chest radiographs "
     "only", "초음파 영상으로 보이며 방사선 사진이 아닙니다. RadiAI는 흉부 정면 방사선 사진만 "
     "판독합니다"),
    ("looks like a radiograph of another part of the body, not of the chest; RadiAI reads "
     "frontal chest radiographs only", "흉부가 아닌 다른 부위의 방사선 사진으로 보입니다. RadiAI는 "
     "흉부 정면 방사선 사진만 판독합니다"),
    ("looks like a chest radiograph with its grey levels reversed (dark bones, bright lungs); "
     "the image is probably inverted (negative)", "회색조가 반전된 흉부 방사선 사진(어두운 뼈, "
     "밝은 폐)으로 보입니다. 반전된 영상일 가능성이 높습니다"),
    ("does not look like a frontal chest radiograph", "흉부 정면 방사선 사진으로 보이지 않습니다"),
    ("is a lateral view; RadiAI's models read frontal (AP or PA) chest radiographs only "
     "(View Position {view} in the DICOM header)", "측면 영상입니다(DICOM 헤더의 View Position "
     "{view}). RadiAI의 모델은 흉부 정면(AP 또는 PA) 방사선 사진만 판독합니다"),
    ("is a lateral view; RadiAI's models read frontal (AP or PA) chest radiographs only",
     "측면 영상입니다. RadiAI의 모델은 흉부 정면(AP 또는 PA) 방사선 사진만 판독합니다"),
    ("is of a patient aged {age} (DICOM header); RadiAI's classifier was made for children "
     "(under {limit} years; trained on children aged 1–5) and gives no findings for adults",
     "DICOM 헤더상 {age} 환자의 영상입니다. RadiAI의 분류 모델은 소아({limit}세 미만; 1–5세 "
     "소아로 학습)를 위해 만들어졌으며 성인에게는 소견을 제시하지 않습니다"),
    ("looks like a radiograph of an adult (the age is not in the file and was estimated from "
     "the image); RadiAI's classifier was made for children (under {limit} years; trained on "
     "children aged 1–5) and gives no findings for adults",
     "성인의 방사선 사진으로 보입니다(파일에 나이가 없어 영상으로 추정). RadiAI의 분류 모델은 "
     "소아({limit}세 미만; 1–5세 소아로 학습)를 위해 만들어졌으며 성인에게는 소견을 제시하지 "
     "않습니다"),
    ("{age} (from the DICOM header); outside the ages of the training patients ({lo}–{hi} "
     "years): read the findings with extra caution", "{age} (DICOM 헤더); 학습 환자의 나이"
     "({lo}–{hi}세) 밖입니다. 소견을 특히 신중하게 판독하세요"),
    ("{age} (from the DICOM header)", "{age} (DICOM 헤더)"),
    # The longer age lines first: the short one's {p} would swallow the cut-off.
    ("unknown (not in the file); estimated from the image: {estimate} (adult score {p}, over "
     "the cut-off {cut} for refusing an adult)", "알 수 없음(파일에 없음); 영상으로 추정: "
     "{estimate} (성인 점수 {p}, 성인으로 보고 분석하지 않는 기준 {cut} 초과)"),
    ("unknown (not in the file); estimated from the image: {estimate} (adult score {p}, not "
     "over the cut-off {cut} for refusing an adult)", "알 수 없음(파일에 없음); 영상으로 추정: "
     "{estimate} (성인 점수 {p}, 성인으로 보고 분석하지 않는 기준 {cut} 이하)"),
    ("unknown (not in the file); estimated from the image: {estimate} (adult score {p})",
     "알 수 없음(파일에 없음); 영상으로 추정: {estimate} (성인 점수 {p})"),
    # What a refused image is (gate.RefusedAs), in lists: "refused: CT slice".
    ("refused: {what}", "분석 대상 아님: {what}"), ("refused", "분석 대상 아님"),
    ("CT slice", "CT 단면"), ("MRI", "MRI"), ("ultrasound", "초음파"),
    ("lateral view", "측면 영상"), ("another body part", "다른 신체 부위"),
    ("inverted image", "반전 영상"), ("not a chest radiograph", "흉부 방사선 사진 아님"),
    ("blank image", "빈 영상"), ("image too small", "너무 작은 영상"),
    ("colour image", "컬러 영상"),
    ("No patient data in the file ({name})", "파일에 환자 정보 없음 ({name})"),
    ("age unknown", "나이 미상"), ("study {date}", "검사 {date}"),
    ("{n} years", "{n}세"), ("{n} months", "{n}개월"), ("{n} weeks", "{n}주"),
    ("{n} days", "{n}일"), ("child", "소아"), ("adult", "성인"), ("unknown", "알 수 없음"),
]


#: The PDF's caption of a refused image that is not a frontal chest radiograph (no contour).
KOREAN["Not analysed: not a frontal chest radiograph"] = (
    "분석하지 않음: 흉부 정면 방사선 사진이 아님")

#: The PDF's caption of a map the reader asked for, of a finding the model does not call.
KOREAN["Heat map: {name} {p}, not called (shown on request); lungs"] = (
    "히트맵: {name} {p}, 판정하지 않음(요청에 따라 표시); 폐 윤곽")

#: Why a file cannot be read (the reading layer's errors), where a reader sees it in Korean:
#: the viewer's findings panel, its view and the file's row.
SENTENCES_KO += [
    ("does not exist (moved or deleted?).", "존재하지 않습니다(옮겨졌거나 삭제되었나요?)."),
    ("cannot be read: permission denied. Ask for read access or copy the file somewhere you "
     "can read it.", "읽을 수 없습니다: 권한이 없습니다. 읽기 권한을 요청하거나 읽을 수 "
     "있는 곳으로 파일을 복사하세요."),
    ("is a folder; open it as a folder to scan it.", "폴더입니다. 폴더 열기로 검색하세요."),
    ("cannot be read ({reason}).", "읽을 수 없습니다({reason})."),
    ("is not a regular file (a pipe, socket or device); RadiAI reads image files only.",
     "일반 파일이 아닙니다(파이프, 소켓 또는 장치). RadiAI는 영상 파일만 읽습니다."),
    ("is empty (0 bytes); the transfer was probably interrupted.",
     "비어 있습니다(0바이트). 전송이 중단되었을 가능성이 높습니다."),
    ("is not an image (a {suffix} file); ignored.", "영상이 아닙니다({suffix} 파일). 무시합니다."),
    ("is not a DICOM file or an image RadiAI can read (PNG, JPEG, TIFF, BMP).",
     "DICOM 파일이나 RadiAI가 읽을 수 있는 영상(PNG, JPEG, TIFF, BMP)이 아닙니다."),
    ("is a truncated {fmt} file: its {stage} ends early ({text}); the transfer was probably "
     "interrupted.", "잘린 {fmt} 파일입니다: {stage} 부분이 일찍 끝납니다({text}). 전송이 "
     "중단되었을 가능성이 높습니다."),
    ("is a damaged {fmt} file: its {stage} cannot be decoded ({text}); copy it again from the "
     "archive.", "손상된 {fmt} 파일입니다: {stage} 부분을 해독할 수 없습니다({text}). 보관소에서 "
     "다시 복사하세요."),
    ("is a damaged DICOM file: an element of its header cannot be read ({text}); copy it again "
     "from the archive.", "손상된 DICOM 파일입니다: 헤더의 요소를 읽을 수 없습니다({text}). "
     "보관소에서 다시 복사하세요."),
    ("is not a readable DICOM file ({text}).", "읽을 수 있는 DICOM 파일이 아닙니다({text})."),
    ("has a DICOM header that could not be read ({text}); the file is truncated or damaged.",
     "DICOM 헤더를 읽을 수 없습니다({text}). 파일이 잘렸거나 손상되었습니다."),
    ("has a DICOM marker but no data set after its header; the file is truncated or damaged.",
     "DICOM 표식은 있지만 헤더 뒤에 데이터 세트가 없습니다. 파일이 잘렸거나 손상되었습니다."),
    ("is a DICOMDIR (the index of a DICOM folder, not an image); ignored. Open the folder that "
     "holds it.", "DICOMDIR(DICOM 폴더의 색인이며 영상이 아님)입니다. 무시합니다. 이 파일이 있는 "
     "폴더를 여세요."),
    ("is {what} (Modality {modality}); RadiAI reads chest radiographs (CR or DX).",
     "{what}입니다(Modality {modality}). RadiAI는 흉부 방사선 사진(CR 또는 DX)만 읽습니다."),
    ("is a DICOM file without pixel data (a report, presentation state or header-only object); "
     "there is no image to show.", "픽셀 데이터가 없는 DICOM 파일입니다(보고서, 표시 상태 또는 "
     "헤더만 있는 객체). 표시할 영상이 없습니다."),
    ("has less pixel data than its header declares ({text}); the file is truncated or damaged.",
     "헤더에 선언된 것보다 픽셀 데이터가 적습니다({text}). 파일이 잘렸거나 손상되었습니다."),
    ("has pixel data that could not be decoded ({text}).",
     "픽셀 데이터를 해독할 수 없습니다({text})."),
]

def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{(\w+)\}", template)
    regex = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.+?)"
                    for i, p in enumerate(parts))
    return re.compile(f"^{regex}$", re.DOTALL)


_SENTENCES = {"ko": [(_pattern(en), ko) for en, ko in SENTENCES_KO]}


def localized(text: str, lang: str | None = None) -> str:
    """One of the core's sentences in ``lang`` (default: the language set): the first template
    that matches, its placeholders localized in turn; a line of parts joined by " · " part by
    part; anything else as it is."""
    lang = lang or _language
    if lang not in _SENTENCES or not text:
        return text
    if " · " in text:
        return " · ".join(localized(part, lang) for part in text.split(" · "))
    for pattern, target in _SENTENCES[lang]:
        match = pattern.match(text)
        if match:
            return target.format(**{k: localized(v, lang) for k, v in match.groupdict().items()})
    return text
