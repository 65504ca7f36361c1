"""Results: what happens to an ``Analysis`` — the history (SQLite), the PDF snapshot, the PNG of the
view, the CSV table, and the one runner every face uses (analyse, record, report failure).
"""

from .batch import BatchItem, CsvTable, Runner
from .history import History, HistoryEntry
from .report import write_pdf
from .snapshot import render, write_png

__all__ = ["BatchItem", "CsvTable", "History", "HistoryEntry", "Runner", "render", "write_pdf",
           "write_png"]
