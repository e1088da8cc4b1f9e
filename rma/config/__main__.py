"""``python -m rma.config --markdown``: print docs/configuration.md."""

import sys

from rma.config.reference import markdown

if sys.argv[1:] != ["--markdown"]:
    sys.exit("usage: python -m rma.config --markdown  (prints docs/configuration.md)")
sys.stdout.write(markdown())
