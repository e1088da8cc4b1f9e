"""Remake the claim sheets saved by LibreOffice: python tests/data/libreoffice/make_files.py

Needs LibreOffice Calc (Debian: ``apt-get install libreoffice-calc-nogui``); the tests do not,
they read the .xlsx files committed beside this script. Each file is what a partner gets who
opens ``claims.csv`` in Calc and saves it as .xlsx:

- ``claims-en.xlsx``: Calc's default import (English locale): numbers are detected, so
  postcodes lose their leading zeros (01067 -> 1067), a 20-digit SN becomes 1.23456789012346E+19
  (15 significant digits), a 12-digit SN an exact number; ISO dates become real dates,
  DD.MM.YYYY stays text.
- ``claims-de.xlsx``: the same with a German locale: DD.MM.YYYY becomes a real date too.
- ``claims-text-columns.xlsx``: the careful partner who sets the SN and postcode columns to
  Text in the import dialog: every character kept as typed.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

HEADER = ["Claim ref", "Serial number", "Model", "Fault description", "Installation date",
          "Fault date", "Recipient name", "Phone", "Address", "City", "Postcode", "Country",
          "Site address", "Site city", "Site postcode", "Site country"]

#: One claim per row; the comment says what Calc's default import makes of it.
ROWS = [
    # postcodes 01067 / 04109 (DE, 5 digits) -> numbers 1067 / 4109
    ["LO-1", "HX5K2311042", "HX-5000", "No AC output after storm, display dark",
     "2024-03-11", "2025-10-02", "Petra Lang", "+49 351 4402231", "Prager Str. 10",
     "Dresden", "01067", "DE", "Markt 1", "Leipzig", "04109", "DE"],
    # two SNs split by ';'; AT postcodes have 4 digits: 1010 loses nothing
    ["LO-2", "HX5K2311043;HX5K2311044", "HX-5000", "Both units show IE 07 fan failure",
     "12.06.2023", "01.11.2025", "Karl Huber", "+43 1 5550100", "Ring 1", "Wien", "1010",
     "AT", "Ring 1", "Wien", "1010", "AT"],
    # two SNs on two lines of one cell; US ZIP 02134 -> 2134
    ["LO-3", "HX5K2311045\nHX5K2311046", "HX-3000", "Relay clicks, no feed-in",
     "2024-04-02", "2025-09-30", "Mary Smith", "+1 617 555 0101", "1 Harvard Ave",
     "Boston", "02134", "US", "1 Harvard Ave", "Boston", "02134", "US"],
    # a 20-digit SN: Calc keeps 15 significant digits of it
    ["LO-4", "12345678901234567890", "BAT-10", "Battery capacity dropped to 40 %",
     "2023-09-01", "2025-11-03", "Jonas Weber", "+49 30 5550123", "Lindenweg 12", "Berlin",
     "10115", "DE", "Lindenweg 12", "Berlin", "10115", "DE"],
    # a 12-digit SN: an exact number; IT CAP 00144 -> 144
    ["LO-5", "202311040001", "HX-5000", "Isolation fault IE 02 at sunrise", "2024-05-20",
     "2025-08-14", "Marco Rossi", "+39 06 5551234", "Via Roma 5", "Roma", "00144", "IT",
     "Via Roma 5", "Roma", "00144", "IT"],
    # a 20-character SN with letters stays text; 123456 is no German postcode
    ["LO-6", "HX5K-2311-0420-AB12C", "HX-5000", "Communication board dead", "2024-01-10",
     "2025-07-01", "Lea Fischer", "+49 89 5550199", "Bergstr. 3", "München", "123456", "DE",
     "Bergstr. 3", "München", "80331", "DE"],
    # letters keep a postcode text: GB and NL as typed
    ["LO-7", "GB7K2401001", "HX-3000", "Display flickers and resets", "2024-02-29",
     "2025-06-30", "Tom Brown", "+44 20 7946 0018", "10 Downing St", "London", "SW1A 2AA",
     "GB", "Keizersgracht 1", "Amsterdam", "1015 CJ", "NL"],
    # ES 08001 -> 8001; the UAE have no postcodes: 123 is kept; all-digit SNs on two lines
    ["LO-8", "202311040002\n202311040003", "BAT-10", "Battery does not charge above 20 %",
     "2024-06-01", "2025-05-15", "Ana García", "+34 93 5550123", "Carrer de Pelai 1",
     "Barcelona", "08001", "ES", "Sheikh Zayed Rd 1", "Dubai", "123", "AE"],
]

#: Calc's CSV import options: separator ',', quote '"', UTF-8, from line 1, column types,
#: locale (1033 English US, 1031 German)
FILES = {
    "claims-en.xlsx": "44,34,76,1,,1033",
    "claims-de.xlsx": "44,34,76,1,,1031",
    # columns 2 (SN), 11 and 15 (postcodes) as Text (type 2)
    "claims-text-columns.xlsx": "44,34,76,1,2/2/11/2/15/2,1033",
}


def write_csv(path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        writer.writerows(ROWS)


def convert(source: Path, options: str, target: Path, profile: Path) -> None:
    """``source`` opened in Calc with ``options`` and saved as ``target`` (.xlsx)."""
    with tempfile.TemporaryDirectory() as work:
        subprocess.run(
            ["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless",
             f"--infilter=CSV:{options}", "--convert-to", "xlsx", "--outdir", work,
             str(source)],
            check=True, capture_output=True, timeout=300)
        shutil.move(Path(work) / (source.stem + ".xlsx"), target)


def main() -> int:
    if shutil.which("soffice") is None:
        print("soffice not found: apt-get install libreoffice-calc-nogui", file=sys.stderr)
        return 1
    source = HERE / "claims.csv"
    write_csv(source)
    # a profile of its own: a user's running LibreOffice or its settings change nothing
    with tempfile.TemporaryDirectory() as profile:
        for name, options in FILES.items():
            convert(source, options, HERE / name, Path(profile))
            print(f"wrote {HERE / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
