"""Concordance between the WIOD 2013 sectors (35, NACE rev. 1 / ISIC rev. 3) and the sectors of the
ICIO 2023 trade cubes (27 ISIC rev. 4 goods sectors and one services aggregate).

The two classifications are linked through 16 *bridge* groups, the finest partition on which both
sides map one to one (the connected components of the many-to-many correspondence). A WIOD sector
belongs to exactly one bridge group and so does an ICIO sector:

====  =====================  ============================  ==================================
no.   bridge group           WIOD sectors                  ICIO sectors
====  =====================  ============================  ==================================
1     agriculture            c1 (AtB)                      A01, A02, A03
2     mining                 c2 (C)                        B05, B06, B07, B08, B09
3     food                   c3 (15t16)                    C10T12
4     textiles               c4 (17t18), c5 (19)           C13T15
5     wood                   c6 (20)                       C16
6     paper                  c7 (21t22)                    C17_18
7     petroleum              c8 (23)                       C19
8     chemicals              c9 (24)                       C20, C21
9     rubber_plastics        c10 (25)                      C22
10    nonmetallic_minerals   c11 (26)                      C23
11    metals                 c12 (27t28)                   C24A, C24B, C25
12    machinery              c13 (29)                      C28
13    electrical_optical     c14 (30t33)                   C26, C27
14    transport_equipment    c15 (34t35)                   C29, C301, C302T309
15    other_manufacturing    c16 (36t37)                   C31T33
16    services               c17 ... c35                   Services (aggregate)
====  =====================  ============================  ==================================

Known mismatches between ISIC rev. 3 and rev. 4 that the bridge groups cannot resolve (they are
small and are ignored): publishing (rev. 3 22.1, inside c7) is a service in rev. 4 (J58);
recycling (rev. 3 37, inside c16) is E38; repair and installation of machinery (rev. 4 C33, inside
C31T33) was part of rev. 3 29-35 (c13-c15); domestic appliances (rev. 3 29.7, c13) are rev. 4 C27;
weapons and ammunition (rev. 3 29.6, c13) are rev. 4 C25; medical and dental instruments (rev. 3
33.1, c14) are partly rev. 4 C32 (in C31T33).

Sources: UN Statistics Division correspondence tables ISIC rev. 3.1 - ISIC rev. 4; Timmer et al.
(2015) for the WIOD sectors; OECD ICIO 2023 sector list.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

BRIDGE = (
    ("agriculture", ("c1",), ("A01", "A02", "A03")),
    ("mining", ("c2",), ("B05", "B06", "B07", "B08", "B09")),
    ("food", ("c3",), ("C10T12",)),
    ("textiles", ("c4", "c5"), ("C13T15",)),
    ("wood", ("c6",), ("C16",)),
    ("paper", ("c7",), ("C17_18",)),
    ("petroleum", ("c8",), ("C19",)),
    ("chemicals", ("c9",), ("C20", "C21")),
    ("rubber_plastics", ("c10",), ("C22",)),
    ("nonmetallic_minerals", ("c11",), ("C23",)),
    ("metals", ("c12",), ("C24A", "C24B", "C25")),
    ("machinery", ("c13",), ("C28",)),
    ("electrical_optical", ("c14",), ("C26", "C27")),
    ("transport_equipment", ("c15",), ("C29", "C301", "C302T309")),
    ("other_manufacturing", ("c16",), ("C31T33",)),
    ("services", tuple(f"c{k}" for k in range(17, 36)), ("Services (aggregate)",)),
)
"""(bridge group, WIOD sectors, ICIO sectors), in WIOD order."""

GROUPS = tuple(b[0] for b in BRIDGE)

WIOD16_BRIDGE = (
    ("agriculture", ("c1",), ("Agriculture, forestry, fishing",)),
    ("mining", ("c2",), ("Mining and quarrying",)),
    ("food", ("c3",), ("Food, beverages, tobacco",)),
    ("textiles", ("c4", "c5"), ("Textiles, apparel, leather",)),
    ("wood_paper", ("c6", "c7"), ("Wood, paper, printing",)),
    ("petroleum", ("c8",), ("Coke and refined petroleum",)),
    ("chemicals", ("c9",), ("Chemicals, pharmaceuticals",)),
    ("rubber_plastics_minerals", ("c10", "c11"), ("Rubber, plastics, non-metallic minerals",)),
    ("metals", ("c12",), ("Basic metals", "Fabricated metals")),
    ("machinery", ("c13",), ("Machinery and equipment n.e.c.",)),
    ("electrical_optical", ("c14",), ("Computer, electronic, optical", "Electrical equipment")),
    ("transport_equipment", ("c15",), ("Transport equipment",)),
    ("other_manufacturing", ("c16",), ("Other manufacturing; repair",)),
    ("services", tuple(f"c{k}" for k in range(17, 36)), ("Services (aggregate)",)),
)
"""Bridge groups between the WIOD 2013 sectors and the 16 sectors of the tariffwar cubes built on the
WIOD 2016 release (ISIC rev. 4 groups, by the cubes' sector names): 14 groups, coarser than
:data:`BRIDGE` where the WIOD 2016 cube merges sectors (wood with paper, rubber and plastics with
non-metallic minerals). Used by the back-test of :mod:`cge.sources.update`."""


def wiod_icio_concordance() -> pd.DataFrame:
    """Long table of the concordance: one row per (WIOD sector, ICIO sector) pair in a bridge group.

    Columns ``wiod_sector, icio_sector, bridge``; a WIOD sector appears once per ICIO sector of its
    group (many-to-many inside a group).
    """
    rows = [(w, i, g) for g, ws, iss in BRIDGE for w in ws for i in iss]
    return pd.DataFrame(rows, columns=["wiod_sector", "icio_sector", "bridge"])


def bridge_of_wiod() -> dict[str, str]:
    """WIOD sector code -> bridge group."""
    return {w: g for g, ws, _ in BRIDGE for w in ws}


def bridge_of_icio() -> dict[str, str]:
    """ICIO sector code -> bridge group."""
    return {i: g for g, _, iss in BRIDGE for i in iss}


def indicator(labels: list[str], mapping: dict[str, str], targets: list[str] | tuple[str, ...] = GROUPS) -> np.ndarray:
    """0/1 matrix (len(labels), len(targets)) with a one where ``mapping[label] == target``."""
    out = np.zeros((len(labels), len(targets)))
    pos = {t: n for n, t in enumerate(targets)}
    for k, lab in enumerate(labels):
        if lab not in mapping:
            raise KeyError(f"concordance: {lab!r} is not mapped (known: {sorted(mapping)[:8]}...)")
        out[k, pos[mapping[lab]]] = 1.0
    return out


__all__ = ["BRIDGE", "GROUPS", "WIOD16_BRIDGE", "bridge_of_icio", "bridge_of_wiod", "indicator", "wiod_icio_concordance"]
