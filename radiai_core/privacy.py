"""Keep patient names and ids out of log files: every one read is redacted from log records."""

from __future__ import annotations

import logging
import re
import threading

from .image import ImageMeta

REDACTED = "[redacted]"
MIN_LENGTH = 3  # shorter values ("1", "M") cannot be told apart from ordinary log text

_lock = threading.Lock()
_known: set[str] = set()
_pattern: re.Pattern[str] | None = None


def identifying_strings(meta: ImageMeta) -> list[str]:
    """Patient name (as stored, as displayed, and each part), patient id and birth date."""
    from .anonymize import person_name

    name = str(meta.patient_name or "")
    values = [name, person_name(name), meta.patient_id or "", meta.patient_birth_date or ""]
    values += [p for p in re.split(r"[\^=\s,]+", name) if p]
    return [v.strip() for v in values if len(v.strip()) >= MIN_LENGTH]


def remember(meta: ImageMeta) -> None:
    """Note the identifying strings of an image just read, so that logs never show them."""
    global _pattern
    new = set(identifying_strings(meta)) - _known
    if not new:
        return
    with _lock:
        _known.update(new)
        words = sorted(_known, key=len, reverse=True)  # longest first: whole names win
        _pattern = re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)


def redact(text: str) -> str:
    pattern = _pattern
    return pattern.sub(REDACTED, text) if pattern is not None and text else text


class RedactingFilter(logging.Filter):
    """A handler filter: the formatted message and any traceback lose every known patient
    name and id (file paths often contain them) before the record is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _pattern is None:
            return True
        record.msg, record.args = redact(record.getMessage()), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def protect(handler: logging.Handler) -> logging.Handler:
    """Add the redacting filter to a log handler (idempotent); returns the handler."""
    if not any(isinstance(f, RedactingFilter) for f in handler.filters):
        handler.addFilter(RedactingFilter())
    return handler
