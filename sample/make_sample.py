"""Regenerate the sample inbox: python sample/make_sample.py (from the repository root)."""

from __future__ import annotations

import datetime as dt
from email import policy
from email.message import EmailMessage
from pathlib import Path

from openpyxl import Workbook

ROOT = Path(__file__).resolve().parent.parent / "inbox"

DISTRIBUTOR_HEADER = ["Claim ref", "SN", "Model", "Fault description", "Error code",
                      "Installation date", "Fault date", "Recipient name", "Company", "Phone",
                      "E-mail", "Address", "City", "Postcode", "Country", "Site address",
                      "Site city", "Site postcode", "Site country", "Notes", "Internal memo"]

DISTRIBUTOR_ROWS = [
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
    ws = wb.active
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
    path.write_bytes(bytes(msg))


def main() -> None:
    (ROOT / "D-001").mkdir(parents=True, exist_ok=True)
    (ROOT / "I-007").mkdir(parents=True, exist_ok=True)
    distributor_batch(ROOT / "D-001" / "claims-2026-11.xlsx")
    installer_batch(ROOT / "I-007" / "rma-claims.csv")
    (ROOT / "mail").mkdir(exist_ok=True)
    mail_batch(ROOT / "mail" / "claims-from-petra.eml")


if __name__ == "__main__":
    main()
