"""A Frictionless Table Schema equivalent to our raw-row checks, for the baseline of the
``csv200k`` target (``frictionless validate --schema claims.schema.json claims.csv``).

Built from ``rma.domain.vocabulary.columns`` / ``schemas.checks`` so it follows the
pipeline's own limits:

* every canonical column, as ``string``; the two date columns as ``date`` (ISO ``YYYY-MM-DD``,
  what the generated files hold; a ``31.02.2025`` fails both here and in the pipeline);
* ``required`` for the columns a distributor batch (no RMA codes, so no prefill) must fill
  (``REQUIRED_AFTER_PREFILL``, checked by the resolved-claims schema);
* ``maxLength`` per column (``MAX_LENGTH``), ``minLength`` 5 for the fault description;
* the serial-number ``pattern``: one or more ``[A-Z0-9-]{6,20}`` separated by commas,
  semicolons or white space (``checks.serial_numbers_valid``);
* ``format: email`` for the recipient e-mail.

Left out on purpose (so frictionless does *less* than the pipeline and the target is not made
easier): the phone (we normalise to E.164 first), country (names are mapped to ISO alpha-2
first), control-character and fault-date-not-before-installation checks.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rma.domain.vocabulary.columns import (
    CANONICAL,
    DATE_COLUMNS,
    EMAIL_COLUMNS,
    MAX_LENGTH,
    MIN_FAULT_DESCRIPTION,
    REQUIRED_AFTER_PREFILL,
)
from schemas.checks import SN_PATTERN, SN_SPLIT

#: A cell of serial numbers as one anchored regex (frictionless wraps it in ``^...$``).
SERIALS_PATTERN = rf"(?:{SN_SPLIT})?{SN_PATTERN}(?:{SN_SPLIT}{SN_PATTERN})*(?:{SN_SPLIT})?"


def table_schema() -> dict[str, Any]:
    fields: list[dict[str, Any]] = []
    for name in CANONICAL:
        field: dict[str, Any] = {"name": name,
                                 "type": "date" if name in DATE_COLUMNS else "string"}
        constraints: dict[str, Any] = {}
        if name in REQUIRED_AFTER_PREFILL:
            constraints["required"] = True
        if name not in DATE_COLUMNS:
            constraints["maxLength"] = MAX_LENGTH[name]
        if name == "fault_description":
            constraints["minLength"] = MIN_FAULT_DESCRIPTION
        if name == "serial_number":
            constraints["pattern"] = SERIALS_PATTERN
        if name in EMAIL_COLUMNS:
            field["format"] = "email"
        if constraints:
            field["constraints"] = constraints
        fields.append(field)
    return {"fields": fields, "missingValues": [""]}


def write_schema(folder: Path, name: str = "claims.schema.json") -> Path:
    path = folder / name
    path.write_text(json.dumps(table_schema(), indent=1))
    return path
