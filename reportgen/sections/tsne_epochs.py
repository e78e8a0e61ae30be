"""``tsne_epochs``: how the last hidden layer's features organise during training (ITU A2 item 7).

Per run: the penultimate-layer features of one stratified test subset after an early epoch ``k`` (kept by the
trainer when the run lists ``feature_snapshots = [k]``) and at the end of training, embedded by t-SNE side by
side. How much better the classes separate is measured, not eyeballed: silhouette and leave-one-out 5-NN
accuracy in the raw feature space (every finished seed, mean ± std, epoch k against the end by a paired t-test on
the per-seed gains) and in the t-SNE plane (first finished seed, one embedding per epoch, so untested).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Annotated, Any

import numpy as np

from reportgen.config.params import Range
from reportgen.sections.base import SECTIONS, Figure, RunGroup, Section, SectionContext
from reportgen.sections.embedding import effective_perplexity, separation, stratified_subset, timed_tsne
from reportgen.sections.stats import PAIRED_RULE, compare_paired, holm, power_note, rule, summarize, verdict
from reportgen.text import pct, points
from reportgen.training.result import RunResult

MEASURES = ("silhouette", "knn_accuracy")


@SECTIONS.register("tsne_epochs")
class TsneEpochsSection(Section):
    @dataclass(frozen=True)
    class Options:
        epoch: Annotated[int, Range(1)] = 1  # early snapshot compared with the end (in the runs' feature_snapshots)
        tsne_points: Annotated[int, Range(50, 20000)] = 1000  # test images embedded (stratified subsample)
        tsne_perplexity: Annotated[float, Range(1.0, 200.0)] = 30.0  # capped at (points - 1) / 3
        seed: Annotated[int, Range(0)] = 0  # seeds the subsample and t-SNE

    run_count = (1, None)
    template = "sections/tsne_epochs.html.j2"
    version = 4  # 3: a paired test on the per-seed gains; 4: Holm over the section, CIs
    example_options = {"epoch": 1}

    def compute(self, ctx: SectionContext) -> dict[str, Any]:
        o = self.options
        entries = [self.entry(g) for g in ctx.groups]
        done = [e for e in entries if e["status"] == "ok"]
        for i, e in enumerate(entries):
            e["figure"] = f"tsne-{i + 1}-{re.sub(r'[^A-Za-z0-9_-]+', '-', e['run'])}" if e["status"] == "ok" else None
        n_points = done[0]["tsne"]["points"] if done else 0
        # Every run's two changes (5-NN, silhouette) are one family, corrected before any sentence quotes them.
        tests = holm([e["features"][m]["test"] for e in done for m in MEASURES])
        family = sum(1 for t in tests if t is not None and t["testable"])
        result = {
            "epoch": o.epoch,
            "runs": entries,
            "classes": done[0]["classes"] if done else [],
            "seeds": ctx.groups[0].seeds,
            "rule": rule(family, PAIRED_RULE), "power": power_note(len(ctx.groups[0].seeds)),
            "tsne": {"points": n_points, "perplexity": effective_perplexity(n_points, o.tsne_perplexity),
                     "seed": o.seed, "same_subset": len({e["tsne"]["subset_id"] for e in done}) <= 1,
                     "seconds": sum(e["tsne"]["seconds"] for e in done)},
        }
        result["analysis"] = analysis(result)
        return result

    def entry(self, group: RunGroup) -> dict[str, Any]:
        """One run: separation after epoch k and at the end over its seeds, and the first seed's embeddings."""
        k, o = self.options.epoch, self.options
        base = {"run": group.name, "label": group.label, "epochs": group.spec.train.epochs,
                "failures": group.failures}
        if not group.results:
            return {**base, "status": "no_results", "message": f"{group.label}: no seed finished training."}
        missing = missing_snapshot(group, k)
        if missing:
            return {**base, "status": "missing", "message": missing}
        seeds = [(s, r) for s, r in zip(group.seeds, group.outcomes, strict=True) if isinstance(r, RunResult) and r.ok]
        kept = [(s, r) for s, r in seeds if k in r.feature_snapshots]
        first_seed, first = kept[0]
        subset = stratified_subset(first.test_true, o.tsne_points, o.seed)
        y = first.test_true[subset]
        early = [separation(r.feature_snapshots[k][subset], r.test_true[subset]) for _, r in kept]
        end = [separation(r.test_features[subset], r.test_true[subset]) for _, r in kept]
        features = {"dims": int(first.test_features.shape[1])}
        for m in MEASURES:
            a, b = [s[m] for s in early], [s[m] for s in end]
            gains = [e - s for s, e in zip(a, b, strict=True) if s is not None and e is not None]
            # The same seeds at two epochs: a paired test on the per-seed gains, not Welch's on two lists.
            features[m] = {"early": summarize(a), "end": summarize(b), "gain": summarize(gains),
                           "test": compare_paired(gains) if gains else None}
        coords = {}
        seconds = 0.0
        for when, feats in (("early", first.feature_snapshots[k]), ("end", first.test_features)):
            xy, took = timed_tsne(feats[subset], seed=o.seed, perplexity=o.tsne_perplexity)
            seconds += took
            coords[when] = {**separation(xy, y), "coords": np.round(xy, 3).tolist()}
        trained = [len(r.history.get("train_loss", [])) for _, r in kept]
        return {
            **base,
            "status": "ok",
            "classes": list(first.classes),
            "first_seed": first_seed,
            "seeds_used": [s for s, _ in kept],
            # Finished seeds without the snapshot (early stopping ended them before epoch k).
            "seeds_without": [s for s, r in seeds if k not in r.feature_snapshots],
            "trained": {"min": min(trained), "max": max(trained)},
            # Where "the end" is for each seed: its last epoch, or the epoch early stopping restored.
            "ends": [{"seed": s, "trained": n, "restored": restored_epoch(r)}
                     for (s, r), n in zip(kept, trained, strict=True)],
            "events": [{"epoch": int(e["epoch"]), "kind": str(e["kind"]), "detail": str(e.get("detail", ""))}
                       for e in first.events],
            "features": features,
            "tsne": {**coords, "seconds": seconds, "points": len(subset), "labels": y.tolist(),
                     "subset_id": hashlib.sha256(subset.tobytes() + y.tobytes()).hexdigest()[:12]},
        }

    def figures(self, result: dict[str, Any]) -> list[Figure]:
        from reportgen.figures.scatter import plot_embedding_grid

        k, t = result["epoch"], result["tsne"]
        multi = len(result["seeds"]) > 1
        out = []
        for e in (e for e in result["runs"] if e["status"] == "ok"):
            seed_note = f" (seed {e['first_seed']})" if multi else ""
            panels = [{"label": f"After epoch {k}", "coords": e["tsne"]["early"]["coords"],
                       "labels": e["tsne"]["labels"], "note": _note(e["tsne"]["early"])},
                      {"label": "End of training", "coords": e["tsne"]["end"]["coords"],
                       "labels": e["tsne"]["labels"], "note": _note(e["tsne"]["end"])}]
            out.append(Figure(
                e["figure"],
                f"{e['label']}: t-SNE of the penultimate-layer features of the same {t['points']} test images "
                f"(stratified), after epoch {k} (left) and at the end of training ({end_text(e['ends'][0])}, "
                f"right), coloured by true class{seed_note}; perplexity {t['perplexity']:g}. The two embeddings "
                "are computed separately, so their axes and orientation are unrelated. Beside each title: "
                "silhouette and leave-one-out 5-NN accuracy of the classes in that plane.",
                f"Two scatter plots of the 2-D t-SNE embedding of {e['label']}'s test-image features, after epoch "
                f"{k} and at the end of training, coloured by class.",
                lambda panels=panels, classes=e["classes"]: plot_embedding_grid(panels, classes),
                wide=True,
            ))
        return out


def missing_snapshot(group: RunGroup, k: int) -> str | None:
    """Why ``group`` has no features after epoch ``k`` to compare with the end (``None`` when it has them)."""
    listed = list(group.spec.train.feature_snapshots)
    where = f"[runs.{group.name}]"
    if k not in listed:
        add = (f"add `feature_snapshots = [{k}]` to {where}" if not listed
               else f"add {k} to the `feature_snapshots` of {where} (now {listed})")
        return (f"{group.label}: the run keeps no test-set features after epoch {k}; {add} in the manifest "
                "(the run is then retrained).")
    epochs = group.spec.train.epochs
    if k >= epochs:
        return (f"{group.label}: epoch {k} is not before the last epoch (epochs = {epochs}), so there is no "
                f"earlier snapshot to compare with the end; set the section's `epoch` below {epochs}.")
    if not any(k in r.feature_snapshots for r in group.results):
        stopped = max(len(r.history.get("train_loss", [])) for r in group.results)
        if stopped < k:
            return (f"{group.label}: every finished seed stopped training early (after at most {stopped} "
                    f"epoch{'s' if stopped != 1 else ''}), "
                    f"before epoch {k}; choose an earlier `epoch` or a larger `early_stopping` patience.")
        return f"{group.label}: the stored runs hold no features after epoch {k}; rebuild with --force."
    return None


def restored_epoch(r) -> int | None:
    """The epoch whose weights early stopping restored (the first lowest validation loss), or ``None``."""
    if not any(e["kind"] == "early_stop" for e in r.events) or not r.history.get("val_loss"):
        return None
    return int(np.argmin(r.history["val_loss"])) + 1


def end_text(end: dict[str, Any]) -> str:
    """One seed's end of training: "epoch 10", or "stopped early after epoch 6, weights of epoch 4 restored"."""
    if end["restored"] is not None:
        return f"stopped early after epoch {end['trained']}, weights of epoch {end['restored']} restored"
    return f"epoch {end['trained']}"


def ends_text(ends: list[dict[str, Any]]) -> str:
    """Every seed's end of training, or one "epoch N" when they all ran the same full course."""
    if len(ends) == 1 or all(e["restored"] is None and e["trained"] == ends[0]["trained"] for e in ends):
        return end_text(ends[0])
    return "; ".join(f"seed {e['seed']}: {end_text(e)}" for e in ends)


def _note(t: dict[str, Any]) -> str:
    return f"silhouette {_num(t['silhouette'])} · 5-NN {pct(t['knn_accuracy'])}"


def _num(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def _and(items: list) -> str:
    """``[5] -> "5"``, ``[5, 7] -> "5 and 7"``, ``[1, 2, 3] -> "1, 2 and 3"``."""
    words = [str(i) for i in items]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def _signed_points(d: float) -> str:
    return f"{'+' if d >= 0 else '−'}{points(d)}"


def _signed(d: float) -> str:
    return f"{'+' if d >= 0 else '−'}{abs(d):.3f}"


def change_sentence(e: dict[str, Any], k: int) -> str:
    """Feature-space separation after epoch k against the end, each change judged against seed noise."""
    f = e["features"]
    knn, sil = f["knn_accuracy"], f["silhouette"]
    n = knn["end"]["n"]
    over = f" (mean over {n} seeds)" if n > 1 else ""
    parts = [f"leave-one-out 5-NN accuracy goes from {pct(knn['early']['mean'])} to {pct(knn['end']['mean'])} "
             f"({_signed_points(knn['gain']['mean'])})"]
    if sil["gain"]["n"]:
        parts.append(f"the silhouette from {_num(sil['early']['mean'])} to {_num(sil['end']['mean'])} "
                     f"({_signed(sil['gain']['mean'])})")
    text = (f"{e['label']}: from epoch {k} to the end of training ({ends_text(e['ends'])}), in the "
            f"{f['dims']}-dimensional penultimate-layer features of the same {e['tsne']['points']} test "
            f"images{over}, " + " and ".join(parts))
    tests = {m: f[m]["test"] for m in MEASURES if f[m]["test"] is not None}
    if not all(t["testable"] for t in tests.values()):
        return text + "; with one seed neither change is tested against seed-to-seed noise."
    said = {m: verdict(t, 100.0, " points") if m == "knn_accuracy" else verdict(t, 1.0, "") for m, t in tests.items()}
    text += "; " + ", ".join(f"the {'5-NN' if m == 'knn_accuracy' else 'silhouette'} change is {said[m]}"
                             for m in tests)
    real = [t for t in tests.values() if t["significant"]]
    if len(real) == len(tests) and all(t["diff"] > 0 for t in real):
        return text + f". The classes separate better at the end of training than after epoch {k}."
    if len(real) == len(tests) and all(t["diff"] < 0 for t in real):
        return text + f". The classes separate less well at the end of training than after epoch {k}."
    if not real:
        return text + f". The data do not show the separation to differ between epoch {k} and the end."
    return text + ". The two measures do not agree, so no overall change in separation is claimed."


def analysis(result: dict[str, Any]) -> list[str]:
    """Per shown run: the change in separation (feature space, tested over seeds; t-SNE plane, untested) and
    the trainer's events; then the cost of the embeddings. Runs that cannot be shown carry a ``message``."""
    k, text = result["epoch"], []
    for e in result["runs"]:
        if e["status"] != "ok":
            continue  # the template shows the reason as a warning above the tables
        text.append(change_sentence(e, k))
        early, end = e["tsne"]["early"], e["tsne"]["end"]
        text.append(f"In the t-SNE plane of seed {e['first_seed']} (one embedding per epoch, so not tested), the "
                    f"silhouette goes from {_num(early['silhouette'])} to {_num(end['silhouette'])} and 5-NN accuracy "
                    f"from {pct(early['knn_accuracy'])} to {pct(end['knn_accuracy'])}.")
        decays = [ev["epoch"] for ev in e["events"] if ev["kind"] == "lr_decay"]
        if decays:
            text.append(f"The learning rate of seed {e['first_seed']} was decayed after epoch"
                        f"{'s' if len(decays) > 1 else ''} {_and(decays)} (validation loss on a "
                        "plateau).")
        if e["seeds_without"]:
            many = len(e["seeds_without"]) > 1
            text.append(f"Seed{'s' if many else ''} {_and(e['seeds_without'])} of {e['label']} "
                        f"stopped training before epoch {k} and {'are' if many else 'is'} left out of the comparison.")
    done = [e for e in result["runs"] if e["status"] == "ok"]
    if done:
        t = result["tsne"]
        text.append(f"The {2 * len(done)} t-SNE embeddings of {t['points']} points took {t['seconds']:.1f} s in all"
                    + ("." if t["same_subset"] else "; the runs' test sets differ, so their subsets differ too."))
    return text
