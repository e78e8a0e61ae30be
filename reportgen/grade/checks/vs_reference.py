"""VS_REFERENCE: a claimed accuracy far outside the reproduction's seed-to-seed spread for the same run."""

from __future__ import annotations

from reportgen.grade.checks import Findings, check, flag
from reportgen.grade.checks.identity import parts, run_named
from reportgen.grade.model import Flag
from reportgen.grade.settings import settings_in

TRAIN_KEYS = ("epochs", "lr", "batch_size")


@check("VS_REFERENCE", "With --reference: a claimed test accuracy more than [grading] reference_sds seed standard "
                       "deviations from the reproduction's mean for the run it is about.")
def vs_reference(f: Findings) -> list[Flag]:
    if f.reference is None:
        return []
    flags = []
    seen: set[tuple[str, str]] = set()
    for claim in f.claims:
        if claim.metric != "accuracy" or claim.split not in ("test", ""):
            continue
        run = run_named(claim.about, f.aliases)
        ref = f.reference.runs.get(run) if run else None
        summary = ref.metrics.get("accuracy") if ref else None
        if summary is None:
            continue
        # A claim about another setting of the run ("Epoch = 1") is not about the reproduced run.
        stated: dict = {}
        for piece in reversed(parts(claim.about)):  # the most specific piece (row label, caption) has the last word
            stated.update(settings_in(piece))
        trained = f.run_settings.get(run, {})
        if any(k in stated and k in trained and float(stated[k]) != float(trained[k]) for k in TRAIN_KEYS):
            continue
        sd = max(float(summary.get("std") or 0.0), f.grading.reference_min_sd)
        z = (claim.value - float(summary["mean"])) / sd
        if abs(z) <= f.grading.reference_sds or (run, claim.as_written) in seen:
            continue  # the same number for the same run, repeated in later answers, is one finding
        seen.add((run, claim.as_written))
        n = summary.get("n", 1)
        flags.append(flag("VS_REFERENCE", "warning",
                          f"{ref.label}: {100 * claim.value:.1f} % here vs {100 * summary['mean']:.1f} % ± "
                          f"{100 * float(summary.get('std') or 0):.1f} % over {n} seed{'s' if n != 1 else ''} in the "
                          f"reproduction: {abs(z):.1f} SDs {'above' if z > 0 else 'below'}",
                          claim.context, claim.location.line, str(claim.location)))
    return flags
