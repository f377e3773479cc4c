"""The ODS ORD API's organisation records (``GET /ORD/2-0-0/organisations/{code}``, JSON),
saved to a file, read into the same rows as ODS's CSV files (``hub_shared.ods_files``), so
they are checked and built into hierarchies the same way.

A file holds one record (``{"Organisation": {...}}``), a list of them, or
``{"Organisations": [...]}``. From each record: the code (``OrgId.extension``), ``Name``,
``Status`` (Active, Inactive), the operational dates (``Date`` of ``Type`` Operational,
``Start`` and ``End``), its roles (``Roles.Role[].id``), its active relationships
(``Rels.Rel[]``: ``Target.OrgId.extension`` and ``Target.PrimaryRoleId.id``) and its
successor (``Succs.Succ[]`` of ``Type`` Successor). What a record is comes from its roles:
``RO318`` (integrated care board) or primary ``RO261`` (strategic partnership) is an ICB;
``RO319`` (sub-ICB location) or primary ``RO98`` (clinical commissioning group) is a place,
under the ICB its active relationship points to; ``RO76`` (GP practice) is a practice, under
the sub-ICB location that commissions it (relationship ``RE4``). A record of any other kind is
skipped. "Line" in an error is the record's position in the file (1 for the first)."""

import json
from pathlib import Path
from typing import Any

from hub_shared.events.reference import OrganisationsPublishedV1
from hub_shared.ods_files import (
    GP_PRACTICE_SETTING,
    InvalidReferenceFiles,
    LineReader,
    OdsFiles,
    OdsRows,
    OrganisationRow,
    PracticeRow,
    SuccessionRow,
    build_hierarchies,
)

ICB_ROLES = {"RO318", "RO261"}
PLACE_ROLES = {"RO319", "RO98"}
PRACTICE_ROLE = "RO76"
COMMISSIONED_BY = "RE4"


def _records(path: Path, reader: LineReader) -> list[dict[str, Any]]:
    try:
        document = json.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        reader.fail(path, 0, "no such file")
        return []
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        reader.fail(path, 0, f"not the ORD API's JSON ({exc})")
        return []
    if isinstance(document, dict) and "Organisations" in document:
        document = document["Organisations"]
    items = document if isinstance(document, list) else [document]
    records: list[dict[str, Any]] = []
    for number, item in enumerate(items, start=1):
        record = item.get("Organisation") if isinstance(item, dict) else None
        if not isinstance(record, dict):
            reader.fail(path, number, "not an ORD organisation record (no 'Organisation')")
            records.append({})
            continue
        records.append(record)
    return records


def _operational(record: dict[str, Any]) -> tuple[str, str]:
    for entry in record.get("Date") or []:
        if isinstance(entry, dict) and entry.get("Type") == "Operational":
            return str(entry.get("Start") or "").replace("-", ""), str(entry.get("End") or "").replace("-", "")
    return "", ""


def _roles(record: dict[str, Any]) -> set[str]:
    roles = (record.get("Roles") or {}).get("Role") or []
    return {str(r.get("id")) for r in roles if isinstance(r, dict) and r.get("Status", "Active") == "Active"}


def _targets(record: dict[str, Any], relationship: str | None, roles: set[str]) -> list[str]:
    found = []
    for rel in (record.get("Rels") or {}).get("Rel") or []:
        if not isinstance(rel, dict) or rel.get("Status", "Active") != "Active":
            continue
        if relationship is not None and rel.get("id") != relationship:
            continue
        target = rel.get("Target") or {}
        if (target.get("PrimaryRoleId") or {}).get("id") in roles:
            found.append(str((target.get("OrgId") or {}).get("extension") or ""))
    return found


def read_ord_records(path: Path, only_icbs: list[str] | None = None) -> list[OrganisationsPublishedV1]:
    reader = LineReader()
    rows = OdsRows([], [], [], [])
    for number, record in enumerate(_records(path, reader), start=1):
        if not record:
            continue
        code = str((record.get("OrgId") or {}).get("extension") or "")
        opened, closed = _operational(record)
        common = {"code": code, "name": record.get("Name") or "", "opened_on": opened, "closed_on": closed}
        roles = _roles(record)
        if roles & ICB_ROLES:
            if isinstance(row := reader.parse(OrganisationRow, path, number, common), OrganisationRow):
                rows.icbs.append((number, row))
        elif roles & PLACE_ROLES:
            icbs = _targets(record, None, ICB_ROLES)
            row = reader.parse(
                OrganisationRow, path, number, {**common, "high_level_health_geography": icbs[0] if icbs else ""}
            )
            if isinstance(row, OrganisationRow):
                rows.places.append((number, row))
        elif PRACTICE_ROLE in roles:
            commissioners = _targets(record, COMMISSIONED_BY, PLACE_ROLES)
            status = "A" if record.get("Status") == "Active" else "C"
            values = {
                **common,
                "status": status,
                "commissioner": commissioners[0] if commissioners else "",
                "prescribing_setting": GP_PRACTICE_SETTING,
            }
            if isinstance(practice := reader.parse(PracticeRow, path, number, values), PracticeRow):
                rows.practices.append((number, practice))
            for succ in (record.get("Succs") or {}).get("Succ") or []:
                if isinstance(succ, dict) and succ.get("Type") == "Successor":
                    target = str(((succ.get("Target") or {}).get("OrgId") or {}).get("extension") or "")
                    values = {"old_code": code, "new_code": target}
                    if isinstance(succession := reader.parse(SuccessionRow, path, number, values), SuccessionRow):
                        rows.successions.append((number, succession))
    files = OdsFiles(practices=path, sub_icb_locations=path, icbs=path, successions=path)
    if reader.errors:
        raise InvalidReferenceFiles(reader.errors)
    return build_hierarchies(reader, files, rows, only_icbs or ())
