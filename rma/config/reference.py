"""docs/configuration.md, generated from the declaration of the settings (``declared``)."""

from __future__ import annotations

from rma.config import MiB, declared
from rma.config.declare import SECTIONS, Choice, Setting

COMMAND = "python -m rma.config --markdown > docs/configuration.md"

INTRO = f"""# Configuration

<!-- Generated from the declaration of the settings in rma/config: do not edit by hand.
     Regenerate with: {COMMAND} -->

Every setting is an environment variable, read once when a command starts; unset or blank
is the default. A wrong value stops the command with a one-line message naming the variable
(exit status 2). The first part lists what a deployment sets; the tuning knobs after it have
defaults that suit most deployments. Prefect's own settings (`PREFECT_API_URL`, …) are
Prefect's, and `RMA_HOME` (the project folder on a worker) is read by `prefect.yaml`."""


def markdown() -> str:
    """The configuration reference: a table per section, what a user sets first."""
    settings = list(declared())
    lines = [INTRO]
    for user, title in ((True, "What you set"), (False, "Tuning knobs")):
        lines += ["", f"## {title}"]
        for section in (s for s in SECTIONS if s.user is user):
            lines += ["", f"### {section.title}", "",
                      "| variable | default | what it does |", "|---|---|---|"]
            lines += [f"| `{s.env}` | {shown_default(s)} | {_cell(describe(s))} |"
                      for s in settings if s.section is section]
    return "\n".join(lines) + "\n"


def shown_default(s: Setting) -> str:
    if s.shown is not None:
        return s.shown
    if s.default is None:
        return "unset"
    value = s.default
    if isinstance(value, int) and s.env.endswith("_BYTES") and value % MiB == 0:
        return f"`{value}` ({value // MiB} MiB)"
    if isinstance(value, int) and s.env.endswith("_SECONDS") and value % 3600 == 0:
        return f"`{value}` ({value // 3600} h)"
    return f"`{value}`"


def describe(s: Setting) -> str:
    """The help line, and the values a choice allows."""
    if isinstance(s.parse, Choice):
        return f"{s.help} (one of {', '.join(f'`{v}`' for v in s.parse.allowed)})"
    return s.help


def _cell(text: str) -> str:
    return text.replace("|", "\\|")
