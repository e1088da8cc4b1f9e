#!/bin/sh
# The portal screenshots of the README (docs/img/portal-*.png): the browser tier's main path
# (tests/browser/test_review_path.py: upload, review, correct, submit, find the claim) keeps
# them in tests/browser/screenshots; this runs it and copies the upload page, the review page
# (scrolled to its first marked cell) and the claims list. Needs Debian's chromium
# (/usr/bin/chromium) and the test extras. Run from the repository.
set -eu
python=${PYTHON:-.venv/bin/python}
"$python" -m pytest -q -p no:cacheprovider \
  "tests/browser/test_review_path.py::test_a_bad_cell_corrected_in_place_is_re_checked_submitted_and_found_in_the_claims"
for page in upload review claims; do
  cp "tests/browser/screenshots/portal-$page.png" "docs/img/portal-$page.png"
done
ls docs/img/portal-*.png
