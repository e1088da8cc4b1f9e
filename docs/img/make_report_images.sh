#!/bin/sh
# The report screenshots of the README: `rma demo`, then its distributor batch's
# rejections.xlsx through LibreOffice (as printed: the xlsx's own page setup) to PNG.
# Needs soffice (libreoffice-calc-nogui) and pdftoppm (poppler-utils). Run from the repository.
set -eu
rma=${RMA:-.venv/bin/rma}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$rma" demo --dir "$work/demo" >/dev/null 2>&1
cp "$work"/demo/reports/claims-2026-11.*.rejections.xlsx "$work/rejections.xlsx"
(cd "$work" && soffice --headless --convert-to pdf rejections.xlsx >/dev/null 2>&1)
pdftoppm -png -r 80 "$work/rejections.pdf" docs/img/rejections
ls docs/img/rejections-*.png
