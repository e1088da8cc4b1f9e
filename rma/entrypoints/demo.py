"""The sample batches of the Quick start, built in a folder of their own (``rma demo``).

``rma demo`` writes a fresh copy of the sample inbox and reference data into ``demo/`` and runs
the nightly job over it on its own SQLite database, so the repository's ``inbox/`` is never
consumed and the demo gives the same answer every time it runs. ``sample/make_sample.py``
writes the same files into the repository (``inbox/``, ``sample/``).
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from email import policy
from email.message import EmailMessage
from pathlib import Path

from openpyxl import Workbook

from rma.errors import ConfigError

#: the accounts registry of the sample (header first), as `rma accounts import` reads it
ACCOUNTS = [
    ('account_id', 'name', 'kind', 'partner_level', 'emails', 'country', 'active'),
    ('D-001', 'Solar Distribution GmbH', 'distributor', '',
     'claims@solar-distribution.example;ops@solar-distribution.example', 'DE', 'true'),
    ('I-007', 'Sunny Roofs Installers', 'installer', 'bronze', 'service@sunny-roofs.example', 'DE',
     'true'),
    ('I-042', 'Goldstar Energy', 'installer', 'gold', 'rma@goldstar.example', 'AT', 'yes'),
    ('D-099', 'Closed Trading Ltd', 'distributor', '', 'info@closed-trading.example', 'GB',
     'false'),
]

#: the RMA codes Customer Service registered for the sample (header first)
CODES = [
    ('code', 'account_id', 'serial_numbers', 'issued_at', 'expires_at', 'status', 'recipient_name',
     'recipient_company', 'recipient_phone', 'recipient_email', 'recipient_address',
     'recipient_city', 'recipient_postcode', 'recipient_country', 'site_address', 'site_city',
     'site_postcode', 'site_country', 'product_model', 'fault_description', 'error_code',
     'installation_date', 'assessment'),
    ('K7QX-P3MZ', 'I-007', 'HX5K2403001', '2026-11-02', '2099-12-31', 'issued', 'Jonas Weber',
     'Sunny Roofs Installers', '+49 89 5550123', 'jonas.weber@sunny-roofs.example', 'Lindenweg 12',
     'München', '80331', 'DE', 'Am Hang 4', 'Freising', '85354', 'DE', 'HX-5000',
     'Inverter trips with IE 01 (grid overvoltage) several times a day', 'IE 01', '2024-05-14',
     'Phone assessment: firmware 3.2 installed; relay fault suspected'),
    ('R4TN-8WDC', 'I-007', '', '2026-01-10', '2026-04-10', 'issued', 'Jonas Weber', '',
     '+49 89 5550123', '', 'Lindenweg 12', 'München', '80331', 'DE', 'Lindenweg 12', '', '', 'DE',
     'BAT-10', 'Battery module does not charge', '', '', 'E-mail assessment'),
]


DISTRIBUTOR_HEADER = ["Claim ref", "SN", "Model", "Fault description", "Error code",
                      "Installation date", "Fault date", "Recipient name", "Company", "Phone",
                      "E-mail", "Address", "City", "Postcode", "Country", "Site address",
                      "Site city", "Site postcode", "Site country", "Notes", "Internal memo"]

DISTRIBUTOR_ROWS: list[list[str | int | dt.date]] = [
    ["SD-1001", "HX5K2311042", "HX-5000", "No AC output after storm, display dark", "",
     dt.date(2024, 3, 11), dt.date(2026, 10, 2), "Petra Lang", "Lang Elektro", "+49 30 4402231",
     "service@lang-elektro.example", "Karl-Marx-Allee 90", "Berlin", "10243", "Germany",
     "Seestr. 7", "Potsdam", "14467", "DE", "", "urgent"],
    ["SD-1002", "HX5K2311043\nHX5K2311044", "HX-5000", "Both units show IE 07 fan failure",
     "IE 07", "2024-04-02", "2026-10-20", "Petra Lang", "Lang Elektro", "+49 30 4402231",
     "service@lang-elektro.example", "Karl-Marx-Allee 90", "Berlin", "10243", "DE",
     "Gartenweg 1", "Berlin", "10245", "DE", "Units swapped once already", ""],
    ["SD-1003", "BAT10-77821", "BAT-10", "Battery capacity dropped to 40 %", "",
     "12.06.2023", "01.11.2026", "Marco Rossi", "", "+39 02 5551234", "m.rossi@example.it",
     "Via Roma 5", "Milano", "20121", "ITA", "Via Roma 5", "Milano", "20121", "IT", "", ""],
    ["SD-1004", "HX#1", "HX-3000", "Relay clicks, no feed-in", "", "2025-01-10",
     "2026-09-30", "Jan de Vries", "", "+31 20 5550199", "jan@devries.example",
     "Keizersgracht 1", "Amsterdam", "1015CJ", "NL", "Keizersgracht 1", "Amsterdam",
     "1015CJ", "NL", "", ""],
    ["SD-1005", "HX5K2311050", "HX-5000", "Isolation fault IE 02 at sunrise", "IE 02",
     "03/04/2025", "2026-10-01", "", "", "+43 1 5550100", "office@example.at",
     "Ring 1", "Wien", 1010, "AT", "Ring 1", "Wien", 1010, "AT", "", ""],
    ["SD-1006", "HX5K2311042", "HX-5000", "Display flickers", "", "2024-03-11",
     "2026-10-05", "Petra Lang", "Lang Elektro", "+49 30 4402231", "not-an-email",
     "Karl-Marx-Allee 90", "Berlin", "10243", "DE", "Seestr. 7", "Potsdam", "14467", "DE",
     "", ""],
    ["SD-1007", "HX3K2209001", "HX-3000", "Communication board dead, no monitoring", "",
     "2023-09-01", "2026-11-03", "Sophie Martin", "", "+33 1 5550123",
     "sophie.martin@example.fr", "12 rue de Rivoli", "Paris", "75001", "France",
     "12 rue de Rivoli", "Paris", "75001", "FR", "", ""],
]


def distributor_batch(path: Path) -> None:
    wb = Workbook()
    ws = wb.worksheets[0]
    ws.title = "Claims"
    ws.append(["Solar Distribution GmbH — RMA claims November 2026"])
    ws.append(["Prepared by the service desk"])
    ws.append([])
    ws.append(DISTRIBUTOR_HEADER)
    for row in DISTRIBUTOR_ROWS:
        ws.append(row)
    for cell in ws["F"][4:] + ws["G"][4:]:
        if isinstance(cell.value, dt.date):
            cell.number_format = "yyyy-mm-dd"
    wb.create_sheet("Instructions").append(["Fill the Claims sheet, one SN per line."])
    wb.save(path)


INSTALLER_CSV = """\
claim_ref;rma_code;serial_number;fault_description;recipient_name;recipient_phone;\
recipient_address;recipient_city;recipient_postcode;recipient_country;site_address;site_country
SR-77;k7qx p3mz;HX5K2403001;;;;;Munich;;;;
SR-78;;HX5K2403002;Inverter restarts every hour;Jonas Weber;+49 89 5550123;Lindenweg 12;\
München;80331;DE;Lindenweg 12;DE
SR-79;R4TN-8WDC;BAT10-88001;;;;;;;;;
"""


def installer_batch(path: Path) -> None:
    path.write_text(INSTALLER_CSV, encoding="utf-8")


MAIL_FORM = """\
Hello Service team,

please register the following claims:

Claim ref: SD-2001
Serial number: HX5K2312001
Model: HX-5000
Fault description: Inverter restarts every few minutes, error IE 03
Recipient name: Petra Lang
Company: Lang Elektro
Phone: +49 30 4402231
Address: Karl-Marx-Allee 90
City: Berlin
Postcode: 10243
Country: DE
Site address: Seestr. 7
Site country: DE
---
Claim ref: SD-2002
SN: HX5K2312002
Fault description: dead
Recipient name: Petra Lang
Phone: +49 30 4402231
Address: Karl-Marx-Allee 90
City: Berlin
Postcode: 10243
Country: DE
Site address: Seestr. 7
Site country: DE

Best regards
--\x20
Petra Lang, Solar Distribution GmbH
"""


def mail_batch(path: Path) -> None:
    msg = EmailMessage(policy=policy.default)
    msg["From"] = "Petra Lang <claims@solar-distribution.example>"
    msg["To"] = "rma@inverter-maker.example"
    msg["Subject"] = "RMA claims SD-2001, SD-2002"
    msg["Date"] = "Tue, 24 Nov 2026 09:15:00 +0100"
    msg["Message-ID"] = "<sd-2001@solar-distribution.example>"
    msg.set_content(MAIL_FORM)
    msg.add_attachment(b"%PDF-1.4 photo of the type plate", maintype="application",
                       subtype="pdf", filename="type-plate.pdf")
    msg.set_boundary("rma-sample-boundary")  # the same bytes every time it is written
    path.write_bytes(bytes(msg))


def write_sample_inbox(inbox: Path) -> list[Path]:
    """The sample drop folders and mail of the Quick start, written into ``inbox``."""
    written = [inbox / "D-001" / "claims-2026-11.xlsx", inbox / "I-007" / "rma-claims.csv",
               inbox / "mail" / "claims-from-petra.eml"]
    for path in written:
        path.parent.mkdir(parents=True, exist_ok=True)
    distributor_batch(written[0])
    installer_batch(written[1])
    mail_batch(written[2])
    return written


def write_reference(folder: Path) -> tuple[Path, Path]:
    """The sample accounts registry and RMA codes as the CSV files operations import."""
    folder.mkdir(parents=True, exist_ok=True)
    accounts, codes = folder / "accounts.csv", folder / "codes.csv"
    for path, rows in ((accounts, ACCOUNTS), (codes, CODES)):
        with path.open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle, lineterminator="\n").writerows(rows)
    return accounts, codes


#: marks a folder that ``rma demo`` made, so that it only ever replaces its own folder
DEMO_MARKER = ".rma-demo"


def prepare_demo(folder: Path) -> tuple[Path, Path, Path]:
    """A fresh demo folder: the sample inbox and reference data; returns (inbox, accounts,
    codes). An earlier demo folder is replaced; any other non-empty folder is refused."""
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"{folder}: exists and is not a folder; choose another --dir")
    if folder.is_dir() and any(folder.iterdir()):
        if not (folder / DEMO_MARKER).is_file():
            raise ConfigError(f"{folder}: not empty and not made by `rma demo`; "
                              "choose another --dir")
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / DEMO_MARKER).write_text("made by `rma demo`; replaced when it runs again\n",
                                      encoding="utf-8")
    write_sample_inbox(folder / "inbox")
    accounts, codes = write_reference(folder)
    return folder / "inbox", accounts, codes
