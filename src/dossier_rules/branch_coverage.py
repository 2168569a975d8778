"""Branch coverage of the rule tests: every condition node seen both true and false by some case.

Rule coverage ("a case fires, a case passes") says little about a condition
with five members: a pass case ``fees: []`` makes the rule pass without any
fee comparison being evaluated. Branch coverage counts, per rule, each node
of its checked condition (every ``all``/``any`` member, every comparison,
presence test, look-up and aggregate, inside ``some``/``every`` and an
aggregate's ``where`` too: the nodes :func:`conditions.walk` yields) and
asks for a case under which it was evaluated true and one under which it was
evaluated false. Outcomes come from the rule's trace on each case's dossier
(:mod:`dossier_rules.trace`), so a node that was never reached (an empty
list, a member after the one that decided) counts for nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import conditions as cond
from .packs import CompiledRule
from .trace import RuleTrace, Step

Outcome = tuple[str, bool]
"""(node key, result): the key is the node's position in the condition, like ``/1/not/where``."""


def nodes(node: cond.Node) -> list[tuple[str, cond.Node]]:
    """Every node of a condition with its key, parents first (:func:`conditions.walk`)."""
    return list(cond.walk(node))


def outcomes(rule: CompiledRule, trace: RuleTrace) -> set[Outcome]:
    """The (node, result) pairs one case's trace exercised."""
    found: set[Outcome] = set()
    for step in trace.steps:
        if rule.for_each is not None and step.item is None:
            continue  # "no items": the condition itself was not evaluated
        _collect(rule.condition, step, "", found)
    return found


def _collect(node: cond.Node, step: Step, key: str, found: set[Outcome]) -> None:
    """The outcomes of ``step`` and of its children, each matched to the child node it evaluated by its key."""
    if step.result is not None:
        found.add((key, step.result))
    children = dict(node.children())
    for child in step.children:  # members after the deciding one were not evaluated (result None)
        if child.key is not None:
            _collect(children[child.key], child, f"{key}/{child.key}", found)


@dataclass
class BranchCoverage:
    """Outcomes exercised per rule, over every case run (under every pack that applies the rule)."""

    rules: dict[str, CompiledRule] = field(default_factory=dict)
    seen: dict[str, set[Outcome]] = field(default_factory=dict)

    def add(self, rule: CompiledRule, trace: RuleTrace) -> None:
        self.rules[rule.id] = rule
        self.seen.setdefault(rule.id, set()).update(outcomes(rule, trace))

    def missing(self) -> list[tuple[CompiledRule, str, bool]]:
        """(rule, node text, the outcome no case produced), in rule order."""
        out = []
        for rule_id, rule in sorted(self.rules.items()):
            seen = self.seen.get(rule_id, set())
            for key, node in nodes(rule.condition):
                for result in (True, False):
                    if (key, result) not in seen:
                        out.append((rule, str(node), result))
        return out

    @property
    def total(self) -> int:
        return sum(2 * len(nodes(rule.condition)) for rule in self.rules.values())

    @property
    def covered(self) -> int:
        return self.total - len(self.missing())

    @property
    def percent(self) -> float:
        return 100.0 * self.covered / self.total if self.total else 100.0
