"""The registered population reporting counts against: the demo ICS's figures, shipped as
data, or the file REPORTING_POPULATION_CSV names (in the shape of NHS Digital's "Patients
Registered at a GP Practice" publication), read once."""

import csv
import os
from functools import cache
from importlib import resources
from pathlib import Path

from reporting.rules.population import Population


@cache
def population() -> Population:
    configured = os.environ.get("REPORTING_POPULATION_CSV")
    ref = resources.files("reporting") / "reference" / "registered_population.csv"
    with resources.as_file(ref) as default:
        path = Path(configured) if configured else default
        with path.open(newline="") as f:
            rows = [
                (r["practice_code"], r["age_band"], r["sex"], int(r["registered_patients"])) for r in csv.DictReader(f)
            ]
    return Population(rows)
