"""Which disclosure rule a protocol clause has: its own `disclosure:` block, else the default for its data.

A clause with no block whose output is aggregates-only and whose datasets are all personal data (catalogue kind
"event": records of people or incidents, not counts a partner has already aggregated nor reference statistics)
gets the cell key method with the hub's perturbation table (`CELL_KEY_DEFAULT`); every other clause without a
block gets the NHS rule (`sharing_protocols.disclosure.DEFAULT_RULE`, given here as None). Every reader of a
clause's rule (figures, `hub protocols check` and `show`, the IG views, decisions) asks `clause_disclosure`.
"""

from __future__ import annotations

from collections.abc import Mapping

from sharing_protocols.catalogue import CATALOGUE
from sharing_protocols.dataset_spec import DatasetSpec
from sharing_protocols.disclosure import DEFAULT_RULE, DisclosureControl
from sharing_protocols.protocol import Clause

DEFAULT_CELL_KEY_TABLE = "hub-cell-key@1"  # the hub's perturbation table (sharing_protocols/perturbation_tables)
CELL_KEY_DEFAULT = DisclosureControl.model_validate({"method": "cell_key", "table": DEFAULT_CELL_KEY_TABLE})


def has_cell_key_default(clause: Clause, catalogue: Mapping[str, DatasetSpec] = CATALOGUE) -> bool:
    """Whether a clause without a block of its own gets the cell key method: aggregates-only, and every dataset is
    of kind "event" in `catalogue` (a dataset the catalogue does not hold is not)."""
    personal = all(name in catalogue and catalogue[name].kind == "event" for name in clause.datasets)
    return clause.output == "aggregates_only" and personal


def clause_disclosure(clause: Clause, catalogue: Mapping[str, DatasetSpec] = CATALOGUE) -> DisclosureControl | None:
    """The clause's rule: its own block; else `CELL_KEY_DEFAULT` where `has_cell_key_default`; else None (the
    NHS rule)."""
    if clause.disclosure is not None:
        return clause.disclosure
    return CELL_KEY_DEFAULT if has_cell_key_default(clause, catalogue) else None


def clause_rule_text(clause: Clause, catalogue: Mapping[str, DatasetSpec] = CATALOGUE) -> str:
    """The clause's rule in plain words, saying whether the clause states it or has it by default."""
    if clause.disclosure is not None:
        return str(clause.disclosure)
    if has_cell_key_default(clause, catalogue):
        return f"{CELL_KEY_DEFAULT} (the default for aggregates-only clauses over personal data)"
    nhs = DisclosureControl(min_cell_count=DEFAULT_RULE.min_cell_count, round_to=DEFAULT_RULE.round_to)
    return f"{nhs} (the NHS rule, the default)"
