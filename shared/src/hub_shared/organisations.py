"""Organisations of the ICS (NHS ODS codes) and who may act for whom.

A practice acts for itself, a place for itself and its practices, an ICB for everyone under
it. The organisations are what NHS ODS publishes, imported by an operator
(``hub reference import``, ``hub_shared.ods_files``) and published per ICB on the
``reference.organisations`` topic; every process follows that topic
(``hub_shared.organisation_feed``) and swaps what ``reference()`` answers without a restart.
Until a hierarchy has been published, ``reference()`` answers the demo ICS in development
mode (read from files in ODS's own layouts shipped with the package, ``reference/demo/``) and
nothing in a deployment, whose ``/readyz`` says so."""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from typing import Annotated, Any

from pydantic import Field

from hub_shared.events.reference import OrganisationKind, OrganisationsPublishedV1
from hub_shared.ods_files import OdsFiles, read_hierarchies
from hub_shared.settings import development_mode

Kind = OrganisationKind
SEVERAL_ICBS_NAME = "NHS"  # what a page about no one ICB calls the hub when it serves several


@dataclass(frozen=True)
class Organisation:
    code: str
    name: str
    kind: Kind
    parent: str | None
    successor: str | None
    opened_on: date | None = None
    closed_on: date | None = None


class _Index:
    """Answers to the questions every event asks (who is above a code, which place, which
    code it counts for), worked out once per hierarchy."""

    def __init__(self, organisations: Iterable[Organisation]) -> None:
        self.by_code = {o.code: o for o in organisations}
        self.ancestors = {code: self._walk_ancestors(code) for code in self.by_code}
        self.counts_for = {code: self._walk_counts_for(code) for code in self.by_code}
        self.place_of = {code: self._find_place(code) for code in self.by_code}

    def _walk_ancestors(self, code: str) -> tuple[str, ...]:
        chain: list[str] = []
        org = self.by_code.get(code)
        while org is not None and org.parent and org.parent not in chain:
            chain.append(org.parent)
            org = self.by_code.get(org.parent)
        return tuple(chain)

    def _walk_counts_for(self, code: str) -> str:
        org = self.by_code.get(code)
        seen = set()
        while org is not None and org.successor and org.code not in seen:
            seen.add(org.code)
            org = self.by_code.get(org.successor)
        return org.code if org is not None else code

    def _find_place(self, code: str) -> str | None:
        org = self.by_code[code]
        if org.kind is Kind.PLACE:
            return org.code
        return next(
            (a for a in self._walk_ancestors(code) if (p := self.by_code.get(a)) and p.kind is Kind.PLACE), None
        )


class Organisations:
    """The organisations one process knows. ``replace`` swaps them all at once (a new
    hierarchy was published): whoever holds this object sees the new ones from then on."""

    def __init__(self, organisations: Iterable[Organisation]) -> None:
        self._index = _Index(organisations)

    @classmethod
    def from_hierarchies(cls, hierarchies: Iterable[OrganisationsPublishedV1]) -> "Organisations":
        return cls(
            Organisation(
                code=r.code,
                name=r.name,
                kind=r.kind,
                parent=r.parent,
                successor=r.successor,
                opened_on=r.opened_on,
                closed_on=r.closed_on,
            )
            for hierarchy in hierarchies
            for r in hierarchy.organisations
        )

    def replace(self, other: "Organisations") -> None:
        self._index = other._index  # one assignment: a reader sees the old set or the new one

    @property
    def generation(self) -> object:
        """Changes (by identity) whenever ``replace`` swaps the organisations."""
        return self._index

    def get(self, code: str) -> Organisation | None:
        return self._index.by_code.get(code.upper())

    def __iter__(self) -> Iterator[Organisation]:
        return iter(list(self._index.by_code.values()))

    def ancestors(self, code: str) -> list[str]:
        """The organisation's parents up to the ICB, nearest first."""
        return list(self._index.ancestors.get(code.upper(), ()))

    def descendants(self, code: str) -> list[str]:
        """The organisation itself and everything under it."""
        index = self._index
        found = [code.upper()]
        for org in index.by_code.values():
            if org.parent == code.upper():
                found.extend(self.descendants(org.code))
        return found

    def counts_for(self, code: str) -> str:
        """The organisation a code's figures belong to now: a merged practice's successor."""
        upper = code.upper()
        return self._index.counts_for.get(upper, upper)

    def place_of(self, code: str) -> str | None:
        return self._index.place_of.get(code.upper())

    def icbs(self) -> list[str]:
        return [o.code for o in self._index.by_code.values() if o.kind is Kind.ICB]

    def only_icb(self) -> str | None:
        """This deployment's ICB when it holds exactly one, else None (several ICBs, or none
        published yet): what something that belongs to no organisation may fall back to."""
        icbs = self.icbs()
        return icbs[0] if len(icbs) == 1 else None

    def icb_of(self, code: str | None = None) -> str:
        """The ICB above ``code`` (or the ICB itself); without a code, this deployment's one
        ICB (for what belongs to no practice, such as a hear-back contact)."""
        index = self._index
        if code is not None:
            org = index.by_code.get(code.upper())
            if org is None:
                raise KeyError(f"'{code}' is not an organisation of this ICS")
            if org.kind is Kind.ICB:
                return org.code
            found = next(
                (a for a in index.ancestors[org.code] if (o := index.by_code.get(a)) and o.kind is Kind.ICB), None
            )
            if found is None:
                raise KeyError(f"'{code}' has no ICB above it in the reference data")
            return found
        icbs = self.icbs()
        if len(icbs) != 1:
            raise LookupError(f"the reference data has {len(icbs)} ICBs; name the organisation whose ICB is meant")
        return icbs[0]

    def ics_name(self, code: str | None = None) -> str:
        """What every email, page and report calls the ICS: its ICB's name in the reference
        data (the ICS of ``code`` when known, else this deployment's one). A page of a hub
        serving several ICBs that is about no organisation of theirs says ``NHS``."""
        if code is not None and self.get(code) is not None:
            return self._index.by_code[self.icb_of(code)].name
        only = self.only_icb()
        return self._index.by_code[only].name if only is not None else SEVERAL_ICBS_NAME

    def practices_under(self, code: str) -> list[str]:
        """The practices an organisation covers: a practice itself, a place's, all the ICB's."""
        return [c for c in self.descendants(code) if (o := self.get(c)) and o.kind is Kind.PRACTICE]

    def may_act_for(self, caller: str, target: str) -> bool:
        caller = caller.upper()
        return caller == target.upper() or caller in self._index.ancestors.get(target.upper(), ())


DEMO_FILES = ("epraccur.csv", "eccg.csv", "icbs.csv", "succ.csv")


def demo_hierarchies() -> list[OrganisationsPublishedV1]:
    """The demo ICS, from files in ODS's published layouts shipped with the package."""
    with resources.as_file(resources.files("hub_shared") / "reference" / "demo") as folder:
        practices, sub_icb_locations, icbs, successions = (folder / name for name in DEMO_FILES)
        return read_hierarchies(OdsFiles(practices, sub_icb_locations, icbs, successions))


def starting_hierarchies() -> list[OrganisationsPublishedV1]:
    """What a process holds while nothing is published: the demo ICS in development mode
    (``make run``, the tests), nothing at all in a deployment (which imports its own)."""
    return demo_hierarchies() if development_mode() else []


@cache
def reference() -> Organisations:
    """This process's organisations: the hierarchies published so far (``starting_hierarchies``
    until one is). The same object for the life of the process; its contents are swapped."""
    return Organisations.from_hierarchies(starting_hierarchies())


def code_pattern(*kinds: Kind, organisations: Organisations | None = None) -> str:
    """A regular expression matching exactly the codes of this ICS's organisations (of these
    kinds, or all), in any case (the APIs take ``p81001`` for ``P81001``): the OpenAPI
    documents carry it, so that a code a client may send is one the hub knows, and an unknown
    one is invalid by contract."""
    codes = sorted(o.code for o in organisations or reference() if not kinds or o.kind in kinds)
    either = ("".join(f"[{c}{c.lower()}]" if c.isalpha() else c for c in code) for code in codes)
    return f"^(?:{'|'.join(either)})$"


# Filled in when an OpenAPI document is made, from the deployment's reference data (never at
# import); the code refuses any other (``authorise``: 422 naming the field). An import changes
# them without a restart, so ``hub_shared.web`` makes the document again when they change.
def describe_code(schema: dict[str, Any]) -> None:
    schema["pattern"] = code_pattern()


def describe_practice_code(schema: dict[str, Any]) -> None:
    schema["pattern"] = code_pattern(Kind.PRACTICE)


ORGANISATION_CODE = Field(
    json_schema_extra=describe_code, description="ODS code of an organisation of this ICS (any case)"
)
OrganisationCode = Annotated[str, ORGANISATION_CODE]
