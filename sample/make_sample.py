"""Regenerate the repository's sample: python sample/make_sample.py (from the repository root).

Writes the sample inbox into ``inbox/`` and the reference data into ``sample/``, from the same
definitions ``rma demo`` uses (``rma/entrypoints/demo.py``).
"""

from __future__ import annotations

from pathlib import Path

from rma.entrypoints.demo import write_reference, write_sample_inbox

REPOSITORY = Path(__file__).resolve().parent.parent

if __name__ == "__main__":
    write_sample_inbox(REPOSITORY / "inbox")
    write_reference(REPOSITORY / "sample")
