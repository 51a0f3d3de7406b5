#!/usr/bin/env python3
"""Writes the workbook fixtures of tests/it/malformed.rs (run from the crate
root: python3 tests/data/make_workbooks.py). Standard library only: an .xlsx
is a zip of XML parts, written here with inline strings, so that a formula
cell can be stored without its cached result, as a program that does not
compute formulas writes it.

- capitalised_sheets.xlsx: data/dunkirk's firms, flows and distances in
  sheets named Firms, FLOWS and Distances, plus a sheet "impact" (a
  misspelt table: header only) and a README sheet.
- uncached_formula.xlsx: tests/data/split_by_distance as sheets; s1's
  quantity is the formula 50*2 with its result 100 saved, d1's quantity the
  formula E2*0.6 with no saved result.
"""
import csv
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent.parent


def column_letters(index):
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def cell_xml(ref, value):
    """A cell: str (inline string), int/float (number), or ("formula", text,
    cached number or None)."""
    if isinstance(value, tuple):
        _, formula, cached = value
        saved = "" if cached is None else f"<v>{cached}</v>"
        return f'<c r="{ref}"><f>{escape(formula)}</f>{saved}</c>'
    if isinstance(value, (int, float)):
        return f'<c r="{ref}" t="n"><v>{value}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t>{escape(value)}</t></is></c>'


def sheet_xml(rows):
    body = []
    for r, row in enumerate(rows, start=1):
        cells = "".join(
            cell_xml(f"{column_letters(c)}{r}", value) for c, value in enumerate(row) if value != ""
        )
        body.append(f'<row r="{r}">{cells}</row>')
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData>{''.join(body)}</sheetData></worksheet>"
    )


def write_workbook(path, sheets):
    """sheets: list of (name, rows)."""
    content_types = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        + "".join(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            for i in range(1, len(sheets) + 1)
        )
        + "</Types>"
    )
    root_rels = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
        'Target="xl/workbook.xml"/></Relationships>'
    )
    workbook = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
        + "".join(
            f'<sheet name="{escape(name)}" sheetId="{i}" r:id="rId{i}"/>'
            for i, (name, _) in enumerate(sheets, start=1)
        )
        + "</sheets></workbook>"
    )
    workbook_rels = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        + "".join(
            f'<Relationship Id="rId{i}" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
            f'Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, len(sheets) + 1)
        )
        + "</Relationships>"
    )
    # A fixed timestamp keeps the bytes the same from run to run.
    def add(archive, name, text):
        info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, text)

    with zipfile.ZipFile(path, "w") as archive:
        add(archive, "[Content_Types].xml", content_types)
        add(archive, "_rels/.rels", root_rels)
        add(archive, "xl/workbook.xml", workbook)
        add(archive, "xl/_rels/workbook.xml.rels", workbook_rels)
        for i, (_, rows) in enumerate(sheets, start=1):
            add(archive, f"xl/worksheets/sheet{i}.xml", sheet_xml(rows))


def typed(cell):
    """A CSV cell as Excel would hold it: numbers as numbers."""
    try:
        number = float(cell)
    except ValueError:
        return cell
    return int(number) if number.is_integer() and "." not in cell and "e" not in cell.lower() else number


def csv_rows(path):
    with open(path, newline="", encoding="utf-8-sig") as file:
        rows = list(csv.reader(file))
    return [rows[0]] + [[typed(cell) for cell in row] for row in rows[1:]]


def main():
    data = ROOT / "tests" / "data"
    dunkirk = ROOT / "data" / "dunkirk"
    write_workbook(
        data / "capitalised_sheets.xlsx",
        [
            ("Firms", csv_rows(dunkirk / "firms.csv")),
            ("FLOWS", csv_rows(dunkirk / "flows.csv")),
            ("Distances", csv_rows(dunkirk / "distances.csv")),
            ("impact", [["subject", "category", "amount_per_unit"]]),
            ("README", [["data/dunkirk with capitalised sheet names"]]),
        ],
    )
    split = data / "split_by_distance"
    flows = csv_rows(split / "flows.csv")
    # flows.csv columns: flow_id, firm_id, kind, resource, quantity (E), fallback.
    flows[1][4] = ("formula", "50*2", 100)
    flows[2][4] = ("formula", "E2*0.6", None)
    write_workbook(
        data / "uncached_formula.xlsx",
        [("firms", csv_rows(split / "firms.csv")), ("flows", flows)]
        + [
            (name, csv_rows(split / f"{name}.csv"))
            for name in ["distances", "resources", "routes", "impacts", "externalities"]
        ],
    )


if __name__ == "__main__":
    main()
