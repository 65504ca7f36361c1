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
_pattern: re.Pattern[str] | None = None  # compiled on demand, when a log record needs it
_compiled_for = 0  # how many strings _pattern covers


def identifying_strings(meta: ImageMeta) -> list[str]:
    """Patient name (as stored, as displayed, and each part), patient id and birth date."""
    from .anonymize import person_name

    name = str(meta.patient_name or "")
    values = [name, person_name(name), meta.patient_id or "", meta.patient_birth_date or ""]
    values += [p for p in re.split(r"[\^=\s,]+", name) if p]
    return [v.strip() for v in values if len(v.strip()) >= MIN_LENGTH]


def remember(meta: ImageMeta) -> None:
    """Note the identifying strings of an image just read, so that logs never show them.
    Cheap (a set update): scanning an archive calls it once per header."""
    new = set(identifying_strings(meta))
    if not new <= _known:
        with _lock:
            _known.update(new)


def _current_pattern() -> re.Pattern[str] | None:
    global _pattern, _compiled_for
    with _lock:
        if _compiled_for != len(_known):
            words = sorted(_known, key=len, reverse=True)  # longest first: whole names win
            _pattern = re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)
            _compiled_for = len(_known)
        return _pattern


def redact(text: str) -> str:
    """``text`` with every remembered patient name, id and birth date replaced by the redaction
    mark."""
    pattern = _current_pattern() if text else None
    return pattern.sub(REDACTED, text) if pattern is not None else text


class RedactingFilter(logging.Filter):
    """A handler filter: the formatted message and any traceback lose every known patient
    name and id (file paths often contain them) before the record is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the record's message and arguments (and its traceback) in place; always keep it.
        """
        if not _known:
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
