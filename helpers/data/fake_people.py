"""Fake but realistic protected health information (PHI) for generated headers.

Nothing here belongs to a real person: names are drawn at random from common
given and family names, IDs and dates from a seeded generator. The values are
realistic enough that de-identification (lesson 5) has something to remove:
Patient's Name (0010,0010), Patient ID (0010,0020), Patient's Birth Date
(0010,0030), Other Patient IDs, Institution Name and Address, Referring
Physician's Name, Accession Number (PS3.15 Annex E, Table E.1-1).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

GIVEN_F = ["Maria", "Anna", "Sofia", "Emma", "Olivia", "Chen", "Aisha", "Fatima", "Ingrid",
           "Lucia", "Hana", "Priya", "Grace", "Elena", "Zoe", "Amara", "Yuki", "Nadia"]
GIVEN_M = ["James", "Liam", "Noah", "Mateo", "Wei", "Omar", "Lars", "Arjun", "Kofi",
           "Diego", "Hiroshi", "Ivan", "Samuel", "Tomas", "Ali", "Felix", "Jonas", "Ravi"]
FAMILY = ["Smith", "Garcia", "Muller", "Rossi", "Nguyen", "Kowalski", "Okafor", "Silva",
          "Johansson", "Tanaka", "Dubois", "Haddad", "Novak", "Kim", "Patel", "Moreau",
          "Fischer", "Lopez", "Jensen", "Costa", "Ivanova", "Brown", "Wilson", "Sato"]
INSTITUTIONS = [
    ("Riverside General Hospital", "12 Harbour Road^^Riverton^^RV1 2AB"),
    ("St. Aldric Medical Centre", "400 Chapel Street^^Westford^^WF3 9QT"),
    ("Northlake University Clinic", "77 College Avenue^^Northlake^^NL5 1ZZ"),
]
PHYSICIANS = ["Hart^Eleanor^^Dr", "Obi^Chidi^^Dr", "Lindqvist^Per^^Dr", "Reyes^Carmen^^Dr"]


@dataclass(frozen=True)
class FakePatient:
    """One made-up patient: the header values that identify a person."""

    name: str            # PN, Family^Given
    patient_id: str      # LO
    birth_date: str      # DA, YYYYMMDD
    sex: str             # CS: M, F or O
    other_id: str        # another MRN-like identifier
    institution: str
    institution_address: str
    referring_physician: str

    def age_on(self, date: str) -> int:
        """Whole years between the birth date and ``date`` (both DA strings)."""
        b = dt.date(int(self.birth_date[:4]), int(self.birth_date[4:6]), int(self.birth_date[6:]))
        d = dt.date(int(date[:4]), int(date[4:6]), int(date[6:]))
        return d.year - b.year - ((d.month, d.day) < (b.month, b.day))


def fake_patient(rng: np.random.Generator, *, sex: str | None = None,
                 age: int | None = None, on_date: str = "20240101") -> FakePatient:
    """Draw a fake patient from ``rng`` (a seeded numpy Generator).

    ``sex`` and ``age`` (in whole years on ``on_date``) may be fixed by the caller;
    otherwise they are drawn too.
    """
    sex = sex or str(rng.choice(["M", "F"]))
    given = rng.choice(GIVEN_F if sex == "F" else GIVEN_M)
    family = rng.choice(FAMILY)
    age = int(rng.integers(18, 90)) if age is None else int(age)
    ref = dt.date(int(on_date[:4]), int(on_date[4:6]), int(on_date[6:]))
    birth = ref - dt.timedelta(days=int(age * 365.25 + rng.integers(1, 364)))
    inst, addr = INSTITUTIONS[int(rng.integers(len(INSTITUTIONS)))]
    return FakePatient(
        name=f"{family}^{given}",
        patient_id=f"MRN{int(rng.integers(10**6, 10**7))}",
        birth_date=birth.strftime("%Y%m%d"),
        sex=sex,
        other_id=f"NHS{int(rng.integers(10**8, 10**9))}",
        institution=inst,
        institution_address=addr,
        referring_physician=str(rng.choice(PHYSICIANS)),
    )
