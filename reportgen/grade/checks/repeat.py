"""INCONSISTENT_REPEAT: one configuration reported with values that differ beyond rounding in different answers.

Students report the baseline again and again (in the comparison, the confusion-matrix answer, the sweeps); a run
whose test accuracy is 97.2 % in one answer and 95.1 % in another means one of them is stale or wrong. Only claims
that surely are about the same configuration are compared: the same run of the manifest (by its label, name or
the course's aliases), the same metric, split, averaging and statistic ("max" vs "final"), and no setting stated
that differs from the run's own (a claim about "C4 after 1 epoch" is about another configuration).
"""

from __future__ import annotations

from collections import defaultdict

from reportgen.grade.checks import Findings, check, flag
from reportgen.grade.checks.identity import parts
from reportgen.grade.model import Claim, Flag
from reportgen.grade.settings import settings_in

MAX_LISTED = 6


@check("INCONSISTENT_REPEAT", "One configuration (a run of the manifest, by its label or an alias) is reported with "
                              "values that differ beyond rounding in different answers; every value is listed.")
def inconsistent_repeat(f: Findings) -> list[Flag]:
    groups: dict[tuple, list[Claim]] = defaultdict(list)
    for claim in f.claims:
        if claim.run and _same_configuration(f, claim):
            groups[(claim.run, claim.metric, claim.split, claim.average, claim.stat)].append(claim)
    owner = _owners(f)
    flags = []
    for (run, metric, split, _, _), claims in groups.items():
        pairs = [(a, b) for i, a in enumerate(claims) for b in claims[i + 1:]
                 if _apart(a, b) and _different_answers(f, owner, a, b)]
        if not pairs:
            continue
        values: dict[str, list[Claim]] = defaultdict(list)
        for claim in claims:
            values[claim.as_written].append(claim)
        listed = "; ".join(f"{written} at {', '.join(str(c.location) for c in found[:3])}"
                           for written, found in list(values.items())[:MAX_LISTED])
        label = next((c.subject for c in claims if c.subject), run)
        what = " ".join(p for p in (split if split else "", metric) if p)
        later = max((b for _, b in pairs), key=lambda c: c.location.line)
        flags.append(flag("INCONSISTENT_REPEAT", "warning",
                          f"{label}'s {what} is reported with {len(values)} different values in different answers: "
                          f"{listed} — which is the run's result?",
                          " / ".join(dict.fromkeys(c.context for c in claims))[:400], later.location.line,
                          str(later.location)))
    return flags


def _same_configuration(f: Findings, claim: Claim) -> bool:
    """Whether nothing stated around the claim makes it another configuration of its run."""
    trained = f.run_settings.get(claim.run, {})
    for piece in parts(claim.about):
        for key, value in settings_in(piece).items():
            if key.startswith("label:") or key not in trained:
                return False  # "Variation 2", "dropout 0.5": not the run as the manifest trains it
            if float(value) != float(trained[key]):
                return False
    return True


def _apart(a: Claim, b: Claim) -> bool:
    """The two values cannot both be right, even with rounding and hedges."""
    low_a, high_a = a.interval
    low_b, high_b = b.interval
    return high_a < low_b or high_b < low_a


def _owners(f: Findings) -> dict[int, str]:
    owner: dict[int, str] = {}
    for qid, answer in f.answers.items():
        for line in answer.owned:
            owner.setdefault(line, qid)
    return owner


def _different_answers(f: Findings, owner: dict[int, str], a: Claim, b: Claim) -> bool:
    qa, qb = owner.get(a.location.line), owner.get(b.location.line)
    if qa and qb:
        return qa != qb
    return not f.same_block(a.location.line, b.location.line)
