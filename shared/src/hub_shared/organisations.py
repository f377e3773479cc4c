"""Organisations of the ICS (NHS ODS codes) and who may act for whom.

A practice acts for itself, a place for itself and its practices, the ICB for everyone.
Reference data for the demo ICS ships with the package; a deployment points
``HUB_ORGANISATIONS_CSV`` at its own."""

import csv
import os
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field


class Kind(StrEnum):
    ICB = "icb"
    PLACE = "place"
    PRACTICE = "practice"


@dataclass(frozen=True)
class Organisation:
    code: str
    name: str
    kind: Kind
    parent: str | None
    successor: str | None


class Organisations:
    def __init__(self, organisations: list[Organisation]) -> None:
        self._by_code = {o.code: o for o in organisations}
        # Reference data never changes in a process: answer the questions every event asks
        # (who is above a code, which place, which code it counts for) from dictionaries.
        self._ancestors = {code: self._walk_ancestors(code) for code in self._by_code}
        self._counts_for = {code: self._walk_counts_for(code) for code in self._by_code}
        self._place_of = {code: self._find_place(code) for code in self._by_code}

    @classmethod
    def from_csv(cls, path: Path) -> "Organisations":
        with path.open(newline="") as f:
            return cls(
                [
                    Organisation(
                        code=row["code"].strip().upper(),
                        name=row["name"].strip(),
                        kind=Kind(row["kind"].strip()),
                        parent=row["parent"].strip().upper() or None,
                        successor=row["successor"].strip().upper() or None,
                    )
                    for row in csv.DictReader(f)
                ]
            )

    def get(self, code: str) -> Organisation | None:
        return self._by_code.get(code.upper())

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._by_code.values())

    def ancestors(self, code: str) -> list[str]:
        """The organisation's parents up to the ICB, nearest first."""
        return list(self._ancestors.get(code.upper(), ()))

    def _walk_ancestors(self, code: str) -> tuple[str, ...]:
        chain: list[str] = []
        org = self.get(code)
        while org is not None and org.parent:
            chain.append(org.parent)
            org = self.get(org.parent)
        return tuple(chain)

    def descendants(self, code: str) -> list[str]:
        """The organisation itself and everything under it."""
        found = [code.upper()]
        for org in self._by_code.values():
            if org.parent == code.upper():
                found.extend(self.descendants(org.code))
        return found

    def counts_for(self, code: str) -> str:
        """The organisation a code's figures belong to now: a merged practice's successor."""
        upper = code.upper()
        return self._counts_for.get(upper, upper)

    def _walk_counts_for(self, code: str) -> str:
        org = self.get(code)
        seen = set()
        while org is not None and org.successor and org.code not in seen:
            seen.add(org.code)
            org = self.get(org.successor)
        return org.code if org is not None else code.upper()

    def place_of(self, code: str) -> str | None:
        return self._place_of.get(code.upper())

    def _find_place(self, code: str) -> str | None:
        org = self.get(code)
        if org is None:
            return None
        if org.kind is Kind.PLACE:
            return org.code
        return next((a for a in self._walk_ancestors(code) if (p := self.get(a)) and p.kind is Kind.PLACE), None)

    def icb_of(self, code: str | None = None) -> str:
        """The ICB above ``code`` (or the ICB itself); without a code, this deployment's one
        ICB (for what belongs to no practice, such as a hear-back contact)."""
        if code is not None:
            org = self.get(code)
            if org is None:
                raise KeyError(f"'{code}' is not an organisation of this ICS")
            if org.kind is Kind.ICB:
                return org.code
            found = next((a for a in self._ancestors[org.code] if (o := self.get(a)) and o.kind is Kind.ICB), None)
            if found is None:
                raise KeyError(f"'{code}' has no ICB above it in the reference data")
            return found
        icbs = [o.code for o in self._by_code.values() if o.kind is Kind.ICB]
        if len(icbs) != 1:
            raise LookupError(f"the reference data has {len(icbs)} ICBs; name the organisation whose ICB is meant")
        return icbs[0]

    def ics_name(self, code: str | None = None) -> str:
        """What every email, page and report calls the ICS: its ICB's name in the reference
        data (the ICS of ``code`` when known, else this deployment's one)."""
        icb = self.icb_of(code if code is not None and self.get(code) is not None else None)
        return self._by_code[icb].name

    def practices_under(self, code: str) -> list[str]:
        """The practices an organisation covers: a practice itself, a place's, all the ICB's."""
        return [c for c in self.descendants(code) if (o := self.get(c)) and o.kind is Kind.PRACTICE]

    def may_act_for(self, caller: str, target: str) -> bool:
        caller = caller.upper()
        return caller == target.upper() or caller in self._ancestors.get(target.upper(), ())


@cache
def reference() -> Organisations:
    configured = os.environ.get("HUB_ORGANISATIONS_CSV")
    if configured:
        return Organisations.from_csv(Path(configured))
    with resources.as_file(resources.files("hub_shared") / "reference" / "organisations.csv") as path:
        return Organisations.from_csv(path)


def code_pattern(*kinds: Kind, organisations: Organisations | None = None) -> str:
    """A regular expression matching exactly the codes of this ICS's organisations (of these
    kinds, or all), in any case (the APIs take ``p81001`` for ``P81001``): the OpenAPI
    documents carry it, so that a code a client may send is one the hub knows, and an unknown
    one is invalid by contract."""
    codes = sorted(o.code for o in organisations or reference() if not kinds or o.kind in kinds)
    either = ("".join(f"[{c}{c.lower()}]" if c.isalpha() else c for c in code) for code in codes)
    return f"^(?:{'|'.join(either)})$"


# Filled in when an OpenAPI document is made, from the deployment's reference data (never at
# import); the code refuses any other (``authorise``: 422 naming the field).
def describe_code(schema: dict[str, Any]) -> None:
    schema["pattern"] = code_pattern()


def describe_practice_code(schema: dict[str, Any]) -> None:
    schema["pattern"] = code_pattern(Kind.PRACTICE)


ORGANISATION_CODE = Field(
    json_schema_extra=describe_code, description="ODS code of an organisation of this ICS (any case)"
)
OrganisationCode = Annotated[str, ORGANISATION_CODE]
