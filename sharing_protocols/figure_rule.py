"""Which rule a figure gets: the one principle every aggregate endpoint applies (docs/protocols.md).

1. The clauses that justify an event for a caller are the caller's clauses in force that permit the figure (its
   dataset, the level's precision, every field it reads, and pseudonym linkage and the day where it links records)
   and that released the event; a clause with a geographic scope justifies only events inside the caller's area.
2. An event may be shown under the laxest rule of the clauses that justify it: the caller could have it under that
   clause alone. A clause without a rule of its own gives its default (`sharing_protocols.clause_rule`); for the
   public no threshold rule is laxer than the NHS rule, and a cell key rule stays a cell key rule.
3. Every figure of a dataset takes the strictest of those rules over every event of the dataset the caller holds
   under the clauses permitting the figure (all months and areas, not only those asked), so the rule does not
   change with the months, areas or categories asked, nor from one endpoint to another.
4. Datasets under different rules (another method, perturbation table, minimum or rounding) are never combined in
   one released figure: `figure_rule` raises `MixedRules`, naming each dataset's rule, and the caller asks for
   them apart.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace

from sharing_protocols.disclosure import DEFAULT_RULE, DisclosureControl, Rule, Source, rule_for


@dataclass(frozen=True)
class Holding:
    """One dataset as a figure counts it: the caller's clauses permitting the figure (ref -> the clause's own rule)
    and the distinct sets of them that justify the events of the dataset the caller holds (none: it holds none)."""

    clauses: Mapping[str, DisclosureControl | None]
    justifying: Collection[Sequence[str]] = ()


class MixedRules(ValueError):
    """Datasets under different rules asked for in one figure; `rules` holds each dataset's rule."""

    def __init__(self, rules: Mapping[str, Rule]) -> None:
        self.rules = dict(rules)
        named = "; ".join(f"{dataset}: {rule.describe()}" for dataset, rule in self.rules.items())
        super().__init__(
            "these datasets are released under different disclosure rules and are never combined in one figure "
            f"(ask for each apart): {named}"
        )


def strength(rule: Rule) -> tuple[str, str, int, int]:
    """What a rule does to counts (two rules with the same strength release the same figures): its method, its
    perturbation table and, for the threshold method, its minimum and rounding."""
    if rule.method == "cell_key":
        return rule.method, str(rule.table), 0, 0
    return rule.method, "", rule.min_cell_count, rule.round_to


def laxest_clause(clauses: Sequence[str], own: Mapping[str, DisclosureControl | None]) -> str | None:
    """Of `clauses`, the one in `own` whose rule (its own, else the NHS default) is laxest; ties by ref. A cell_key
    clause ranks as the NHS rule it carries."""

    def rank(ref: str) -> tuple[int, int, str]:
        rule = own[ref] or DEFAULT_RULE
        return rule.min_cell_count, rule.round_to, ref

    return min((ref for ref in clauses if ref in own), key=rank, default=None)


def at_least_nhs(rule: Rule) -> Rule:
    """The rule for the public: a threshold rule raised to at least the NHS rule ("combined", still naming its
    clauses, where that made it stricter); a cell_key rule unchanged.

    The cell key method is designed for public release (the ONS used it for Census 2021): it never shows 1..js, and
    the same events get the same figure on every route, so the public and a keyed caller whose clauses cover the
    same events see the same cell."""
    if rule.method == "cell_key":
        return rule
    if rule.min_cell_count >= DEFAULT_RULE.min_cell_count and rule.round_to >= DEFAULT_RULE.round_to:
        return rule
    return Rule(
        max(rule.min_cell_count, DEFAULT_RULE.min_cell_count),
        max(rule.round_to, DEFAULT_RULE.round_to),
        "combined",
        rule.clauses,
    )


def threshold_only(rule: Rule) -> Rule:
    """The rule for figures the cell key method cannot perturb (counts of linked people or cases, not of events
    with record keys): a cell_key rule becomes the NHS rule its clauses carry ("combined", naming them)."""
    if rule.method == "threshold":
        return rule
    return Rule(rule.min_cell_count, rule.round_to, "combined", rule.clauses)


def dataset_rule(holding: Holding, public: bool = False) -> Rule:
    """The rule of every figure of one dataset: the strictest, over the sets of clauses justifying its events, of
    the laxest clause of each set; holding no events, the strictest of the clauses. For the public, `at_least_nhs`."""
    own = holding.clauses
    chosen = [(ref, own[ref]) for ref in (laxest_clause(refs, own) for refs in holding.justifying) if ref]
    rule = rule_for(chosen or list(own.items()))
    return at_least_nhs(rule) if public else rule


def figure_rule(holdings: Mapping[str, Holding], public: bool = False) -> Rule:
    """The rule of figures counting the datasets of `holdings` (dataset -> `Holding`); `public` for the public.

    Datasets the caller holds no events of add nothing to a figure and do not count; MixedRules when the others'
    rules differ in strength (a cell_key rule and a threshold rule always do). The rule names the clauses of every
    dataset.
    """
    rules = {dataset: dataset_rule(holding, public) for dataset, holding in holdings.items()}
    counted = {dataset: rule for dataset, rule in rules.items() if holdings[dataset].justifying} or rules
    if len({strength(rule) for rule in counted.values()}) > 1:
        raise MixedRules(counted)
    if not counted:
        return at_least_nhs(DEFAULT_RULE) if public else DEFAULT_RULE
    first = next(iter(counted.values()))
    sources = {rule.source for rule in counted.values()}
    source: Source = first.source if len(sources) == 1 else "combined"
    clauses = tuple(dict.fromkeys(ref for rule in counted.values() for ref in rule.clauses))
    if source == "default" or not clauses:
        return first
    return replace(first, source=source, clauses=clauses)
