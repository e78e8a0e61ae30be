"""BELOW_TARGET: the handout sets a target for a question (``target = { metric = "accuracy", at_least = 0.92 }`` in its
manifest section) and the answer reports a value of that metric that misses it — or reports no value of it at all.

A claim misses the target only when everything it allows does (:attr:`Claim.interval`: the written value give or take
rounding, or the bounds of "~92 %", "just under 92 %", "> 92 %"): "~92 %" may be 92 %, and "> 92 %" meets an
``at_least = 0.92``. Claims of the metric on the test set (or on no named split) in the lines the question owns are
read; a claim naming a run of the manifest that the section does not use, or a setting other than the one trained
("after 1 epoch"), is about something else. An answer that gives no number of the metric at all is not judged: the
flag says so (info, no marks) and leaves it to a human.
"""

from __future__ import annotations

from reportgen.config.specs import SectionSpec, Target
from reportgen.grade.checks import Findings, check, flag
from reportgen.grade.checks.identity import parts, run_named
from reportgen.grade.checks.vs_reference import claimed
from reportgen.grade.model import Claim, Flag
from reportgen.grade.questions import Answer, block_lines
from reportgen.grade.settings import settings_in

CODE = "BELOW_TARGET"
# The claim metrics (reportgen.grade.model.Claim.metric) and averagings that state each target metric.
CLAIM_METRIC = {"accuracy": ("accuracy", ("", "micro")), "f1_macro": ("f1", ("", "macro")), "loss": ("loss", ("",))}


@check(CODE, "A question whose manifest section sets a target (e.g. test accuracy at least 0.92): a claimed value "
             "of that metric misses it with every value the claim allows (warning); or the answer states no value "
             "of the metric at all (info, unclear: no marks taken).")
def below_target(f: Findings) -> list[Flag]:
    if f.manifest is None:
        return []
    flags = []
    for qid, answer in f.answers.items():
        section = f.manifest.sections.get(qid)
        if section is None or section.target is None or answer.status == "missing":
            continue  # a missing answer is MISSING_QUESTION's
        target = section.target
        owned = answer.owned or answer.lines()
        claims = [c for c in f.claims if c.location.line in owned and states(c, target.metric)]
        q = answer.question
        title = f"{q.number} {q.title}".strip()
        if not claims:
            where = _first_line(answer)
            flags.append(flag(CODE, "info", f"unclear: question {title} sets a target ({_describe(target)}), but the "
                              f"answer states no {_metric_words(target)}, so whether it meets the target cannot be "
                              "told — a human should check (no marks taken)",
                              where[1], where[0], where[2]))
            continue
        seen: set[tuple[str, float, float]] = set()
        for claim in claims:
            run = claim.run or ("" if claim.subject else run_named(claim.about, f.aliases) or "")
            if not _about_this_section(f, claim, run, section) or not misses(claim, target):
                continue
            low, high = claim.interval
            key = (run, round(low, 9), round(high, 9))
            if key in seen:
                continue  # the same number for the same run twice in one answer is one finding
            seen.add(key)
            flags.append(flag(CODE, "warning", _message(f, title, claim, run, target), claim.context,
                              claim.location.line, str(claim.location)))
    return flags


def states(claim: Claim, metric: str) -> bool:
    """Whether ``claim`` is a test-set (or unnamed split) value of the target's ``metric``."""
    name, averages = CLAIM_METRIC[metric]
    return claim.metric == name and claim.split in ("test", "") and claim.average in averages


def misses(claim: Claim, target: Target) -> bool:
    """Whether every value the claim allows misses the target."""
    kind, bound = _bound(target)
    low, high = claim.interval
    if kind == "at_least":
        return high < bound
    if kind == "at_most":
        return low > bound
    return high < bound - target.tolerance or low > bound + target.tolerance


def _about_this_section(f: Findings, claim: Claim, run: str, section: SectionSpec) -> bool:
    """A claim about a run the section uses, or about no run of the manifest, with no setting stated that differs
    from how (one of) the section's runs were trained."""
    if run and run not in section.all_runs:
        return False
    stated: dict = {}
    for piece in reversed(parts(claim.about)):
        stated.update(settings_in(piece))
    if any(k.startswith("label:") for k in stated):
        return False  # "Variation 2", "Task 3": another configuration than the section's runs
    candidates = [run] if run else list(section.all_runs)
    for name in candidates:
        trained = f.run_settings.get(name, {})
        if all(k in trained and float(v) == float(trained[k]) for k, v in stated.items()
               if isinstance(v, int | float)):
            return True
    return not candidates


def _message(f: Findings, title: str, claim: Claim, run: str, target: Target) -> str:
    label = f.manifest.runs[run].label if run and run in f.manifest.runs else claim.subject
    value = claimed(claim) if target.metric != "loss" else _claimed_plain(claim)
    who = f"{label}: " if label else ""
    kind, _ = _bound(target)
    side = {"at_least": "below", "at_most": "above", "about": "outside"}[kind]
    return (f"question {title}: {who}{_metric_words(target)} {value} here, {side} the target the handout sets "
            f"({_describe(target)})")


def _claimed_plain(claim: Claim) -> str:
    """A loss claim as written, or the values its hedge allows."""
    if not claim.approximate:
        return claim.as_written
    if claim.low is not None and claim.high is not None:
        return f"between {claim.low:g} and {claim.high:g}"
    if claim.low is not None:
        return f"at least {claim.low:g}"
    if claim.high is not None:
        return f"at most {claim.high:g}"
    return f"about {claim.value:g}"


def _metric_words(target: Target) -> str:
    return {"accuracy": "test accuracy", "f1_macro": "macro F1", "loss": "test loss"}[target.metric]


# Not reportgen.sections.target's helpers: importing the sections would load torch into ``reportgen grade``.
def _bound(target: Target) -> tuple[str, float]:
    """``("at_least" | "at_most" | "about", value)``: the one bound the manifest set."""
    kind = next(k for k in ("at_least", "at_most", "about") if getattr(target, k) is not None)
    return kind, float(getattr(target, kind))


def _describe(target: Target) -> str:
    """``"test accuracy at least 92 %"``, ``"test loss at most 0.3"``, ``"macro F1 about 46 % ± 1 point"``."""
    kind, bound = _bound(target)
    words = kind.replace("_", " ")
    if target.metric == "loss":
        text = f"{_metric_words(target)} {words} {bound:g}"
        return text + (f" ± {target.tolerance:g}" if kind == "about" else "")
    text = f"{_metric_words(target)} {words} {100 * bound:.6g} %"
    if kind == "about":
        points = f"{100 * target.tolerance:.6g}"
        text += f" ± {points} point{'' if float(points) == 1 else 's'}"
    return text


def _first_line(answer: Answer) -> tuple[int | None, str, str]:
    """(line number, text, location) of the answer's first line (its heading, when it has one)."""
    for block in answer.blocks:
        for line in block_lines(block):
            return line.number, line.text.strip(), str(line.location)
    return None, answer.question.text[:200], ""
