"""The language of what the core writes for a reader (the PDF snapshot): English or Korean.

The viewer chooses it (``app.i18n``, Qt's translations); the core, which has no Qt, keeps its
few report phrases here. Unknown phrases stay in English.
"""

from __future__ import annotations

_language = "en"

#: The PDF snapshot's phrases in Korean.
KOREAN = {
    "RadiAI — chest radiograph snapshot": "RadiAI — 흉부 방사선 사진 스냅샷",
    "Decision support, not a diagnosis.": "진단이 아닌 판독 보조 도구입니다.",
    " The reading radiologist decides.": " 최종 판단은 판독의가 합니다.",
    "Patient": "환자", "Patient ID": "환자 ID", "Birth date": "생년월일", "Sex": "성별",
    "Age": "나이", "Institution": "기관", "Study date": "검사일", "Study": "검사",
    "Study UID": "검사 UID", "Image": "영상", "Size": "크기", "page": "쪽",
    "Radiograph": "방사선 사진",
    "Not analysed: lungs only": "분석하지 않음: 폐 윤곽만 표시",
    "Heat map and regions: {name}; lungs": "히트맵과 영역: {name}; 폐 윤곽",
    "No positive finding: lungs only, no heat map": "양성 소견 없음: 폐 윤곽만, 히트맵 없음",
    "No findings: the image was refused.": "소견 없음: 이 영상은 분석 대상이 아닙니다.",
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
    "This image {message}.": "분석하지 않음 (This image {message}.)",
    "pneumonia": "폐렴", "no pneumonia": "폐렴 아님",
    "normal": "정상", "bacterial pneumonia": "세균성 폐렴", "viral pneumonia": "바이러스성 폐렴",
}
_CATALOGS = {"ko": KOREAN}


def set_language(code: str) -> None:
    """"en" or "ko" (anything else is English)."""
    global _language
    _language = code if code in _CATALOGS or code == "en" else "en"


def language() -> str:
    return _language


def tr(text: str, lang: str | None = None) -> str:
    """``text`` in ``lang`` (default: the language set), or as it is."""
    return _CATALOGS.get(lang or _language, {}).get(text, text)
