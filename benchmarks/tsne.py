"""t-SNE at the report's sizes: as the report runs it, and scikit-learn vs openTSNE on the same points.

The library comparison uses the same schedule for both (1000 iterations, 250 of them exaggerated, all cores),
so a difference is the implementation's, not a shorter run's; the report's own call uses whatever
``timed_tsne`` does today (its library, iterations and threads).

The points are what the manifest's t-SNE section embeds: the test-split penultimate-layer features of its
first run's first seed (from the report folder's run cache; without one, a 2-epoch training of that run),
stratified-subsampled to the section's ``tsne_points``. The report's own call (``timed_tsne``) is memoised in
the process, so the memo is emptied before each timing.
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np

from benchmarks.common import Row, Settings, median_of, skipped

TSNE_SECTIONS = ("ablation", "tsne", "tsne_epochs")  # manifests name types by their canonical name
QUICK_POINTS = 200
TIE = 1.10  # medians closer than this are called a tie on this noisy machine
ITERATIONS = 1000  # scikit-learn's default: 250 early-exaggeration + 750 (openTSNE's default is 250 + 500)
QUICK_ITERATIONS = 250  # --quick: scikit-learn's smallest max_iter (a smoke test, not a measurement)


def report_points(settings: Settings) -> tuple[np.ndarray, dict]:
    """The features the report embeds, and how they were chosen."""
    from reportgen.config.manifest import load_manifest
    from reportgen.runs.cache import RunCache
    from reportgen.runs.plan import make_plan
    from reportgen.sections import SECTIONS
    from reportgen.sections.embedding import stratified_subset

    manifest = load_manifest(settings.manifest)
    plan = make_plan(manifest)
    section = next((s for s in manifest.sections.values() if s.type in TSNE_SECTIONS), None)
    if section is not None:
        options = SECTIONS.get(section.type)(section).options
        run_names = [r for r in section.all_runs]
    else:  # no t-SNE in this manifest: the default options on its first run
        defaults = SECTIONS.get("ablation").Options
        options = defaults(**{f.name: f.default for f in dataclasses.fields(defaults)})
        run_names = list(plan.by_name)
    planned = plan.by_name[run_names[0]][0]
    result = RunCache(settings.report_dir / "cache").load(planned.key)
    source = "run cache"
    if result is None:
        result = _train_briefly(planned, plan, settings)
        source = "2-epoch training (no cached run)"
    points = QUICK_POINTS if settings.quick else options.tsne_points
    subset = stratified_subset(result.test_true, points, options.seed)
    info = {"run": planned.run.name, "source": source, "points": len(subset),
            "dims": int(result.test_features.shape[1]), "perplexity": options.tsne_perplexity, "seed": options.seed,
            "embeddings_per_report": len(run_names) if section is not None else 0}
    return result.test_features[subset], info


def _train_briefly(planned, plan, settings: Settings):
    import torch

    from benchmarks.trainer import quick_data
    from reportgen.runs.plan import PlannedRun, load_run_data
    from reportgen.training.train import train

    data = load_run_data(plan.manifest, planned.run)
    run = dataclasses.replace(planned.run, train=dataclasses.replace(planned.run.train, epochs=2))
    return train(PlannedRun(run, planned.seed, planned.key, planned.spec),
                 quick_data(data) if settings.quick else data, torch.device("cpu"))


def _kl(values: list[float]) -> str:
    """The median final KL divergence (a quality check: a faster library must not embed worse)."""
    kl = float(np.median(values))
    return f"{kl:.3f}" if np.isfinite(kl) and kl < 1e6 else "n/a (no iteration after exaggeration)"


def _pca50(x: np.ndarray, seed: int) -> np.ndarray:
    from sklearn.decomposition import PCA

    from reportgen.sections.embedding import PCA_DIMS

    if x.shape[1] > PCA_DIMS and x.shape[0] > PCA_DIMS:
        return PCA(n_components=PCA_DIMS, random_state=seed).fit_transform(x)
    return x


def tsne_rows(settings: Settings) -> list[Row]:
    """The report's own call and each library on the same points, interleaved within each repetition (a noisy
    minute then slows every candidate alike)."""
    from sklearn.manifold import TSNE
    from threadpoolctl import threadpool_limits

    from reportgen.sections import embedding
    from reportgen.sections.embedding import effective_perplexity, timed_tsne

    x, info = report_points(settings)
    x = np.ascontiguousarray(x, dtype=np.float32)
    seed = info["seed"]
    perplexity = effective_perplexity(len(x), info["perplexity"])
    iterations = QUICK_ITERATIONS if settings.quick else ITERATIONS
    size = f"{len(x)}×{info['dims']}"
    pca = "PCA-50 first" if info["dims"] > 50 else f"PCA-50 is a no-op at {info['dims']} dims"
    kl: dict[str, list[float]] = {}

    def report_call() -> None:
        embedding._MEMO.clear()  # the report memoises per process; time the computation, not the lookup
        timed_tsne(x, seed=seed, perplexity=info["perplexity"])

    def sklearn_call(jobs: int) -> None:
        tsne = TSNE(n_components=2, perplexity=perplexity, init="pca", learning_rate="auto", random_state=seed,
                    max_iter=iterations, n_jobs=jobs)
        # n_jobs covers only the neighbour search: the gradient's OpenMP loop takes every core unless limited.
        with threadpool_limits(limits=jobs, user_api="openmp"):
            tsne.fit_transform(_pca50(x, seed))
        kl.setdefault(f"sklearn {jobs}", []).append(float(tsne.kl_divergence_))

    def open_call(method: str, jobs: int) -> None:
        early = min(250, iterations // 2)  # scikit-learn's schedule: 250 exaggerated iterations, then the rest
        tsne = openTSNE.TSNE(perplexity=perplexity, initialization="pca", early_exaggeration_iter=early,
                             n_iter=iterations - early, n_jobs=jobs, negative_gradient_method=method,
                             random_state=seed, verbose=False)
        kl.setdefault(f"{method} {jobs}", []).append(float(tsne.fit(_pca50(x, seed)).kl_divergence))

    # (key, row label, call): one thread (as timed_tsne runs it: reproducible, and a noisy neighbour cannot stall a
    # thread barrier) and every core. openTSNE's "auto" picks Barnes-Hut below 10,000 points, FFT above; FFT costs
    # ~10 s at any size (its grid), so it is tried on every core only.
    cores = os.cpu_count() or 1
    thread_counts = (1,) if settings.quick else tuple(dict.fromkeys((1, cores)))
    candidates = [("report", f"t-SNE as the report runs it ({size})", report_call)]
    candidates += [(f"sklearn {j}", f"t-SNE scikit-learn, {_threads(j)} ({size})", lambda j=j: sklearn_call(j))
                   for j in thread_counts]
    try:
        import openTSNE
    except ImportError as err:
        openTSNE, missing = None, f"openTSNE is not installed ({err}); pip install openTSNE"
    else:
        methods = [("bh", j) for j in thread_counts] + ([] if settings.quick else [("fft", cores)])
        candidates += [(f"{m} {j}", f"t-SNE openTSNE {openTSNE.__version__} {m}, {_threads(j)} ({size})",
                        lambda m=m, j=j: open_call(m, j)) for m, j in methods]
    times: dict[str, list[float]] = {key: [] for key, _, _ in candidates}
    for _ in range(1 if settings.quick else settings.repeat):
        for key, _, call in candidates:  # interleaved: a noisy minute slows every candidate alike
            times[key] += median_of(call, 1)

    per_report = info["embeddings_per_report"]
    count = f"the report embeds {per_report} such sets" if per_report else "no t-SNE section: its defaults"
    names = {"sklearn": "Barnes-Hut", "bh": "Barnes-Hut", "fft": "FFT"}
    rows = []
    for key, label, _ in candidates:
        if key == "report":
            rows.append(Row(label, times[key], "s", note=f"sections.embedding.timed_tsne as it stands, perplexity "
                            f"{perplexity:g}; features of {info['run']} seed 0 from the {info['source']}; {count}",
                            extra={"tsne": info}))
            continue
        method, jobs = key.split()
        note = f"{names[method]}, {iterations} iterations, {pca}; KL {_kl(kl[key])}"
        if method != "sklearn" and f"sklearn {jobs}" in times:
            note += "; " + _verdict(np.median(times[f"sklearn {jobs}"]), np.median(times[key]), jobs)
        rows.append(Row(label, times[key], "s", note=note))
    if openTSNE is None:
        rows.append(skipped(f"t-SNE openTSNE ({size})", missing))
    return rows


def _verdict(sklearn_s: float, open_s: float, jobs: str) -> str:
    slow, fast = max(sklearn_s, open_s), min(sklearn_s, open_s)
    if slow / fast < TIE:
        return f"vs scikit-learn at {_threads(int(jobs))}: a tie ({slow / fast:.2f}×)"
    winner = "openTSNE" if open_s < sklearn_s else "scikit-learn"
    return f"vs scikit-learn at {_threads(int(jobs))}: {winner} {slow / fast:.1f}× faster"


def _threads(n: int) -> str:
    return f"{n} thread{'s' if n != 1 else ''}"
