#!/usr/bin/env bash
# benchmarks/gpu.sh: everything a GPU machine should measure, in one go, inside 8 minutes.
#
#   bash benchmarks/gpu.sh                 on a machine with a CUDA GPU (from the repository root or anywhere)
#   bash benchmarks/gpu.sh --cpu-dry-run   the same steps on the CPU at tiny sizes (CI runs it: tests/test_gpu_script.py)
#
# Steps, each timed (one "[gpu.sh] ..." line per step) and logged; the script goes on after a failed step and exits
# non-zero at the end if any failed or ran out of time. The last thing it prints is a Markdown table for the README's
# Performance table.
#   env       nvidia-smi, torch / CUDA / cuDNN versions, the device (fails without CUDA, except in the dry run)
#   default   a cold build of experiments.toml on CUDA, --jobs $JOBS processes sharing the GPU, into a temporary folder
#   train     the trainer-vs-floor table on CUDA (python benchmarks/run.py --only train --device cuda)
#   plain, det1, det2
#             `--section compare` of experiments.toml (6 trainings), cold, without and twice with --deterministic:
#             what --deterministic costs
#   same      the two --deterministic builds give identical results.json (timings left out): required
#   same_plain  without vs with --deterministic: reported on a GPU (their algorithms differ), required on the CPU
#   course    examples/cs671-a2.toml at the course's 1,000 images per class (96,000 line images): last, since its
#             time is the least known; it gets what is left of the 8 minutes
# The dry run builds the tests' tiny manifest instead of experiments.toml, times the trainer with --quick and builds
# only the CS-671 example's lines section, at 10 images per class, 1 epoch, 1 seed.
# Environment: PYTHON (default python3), JOBS (trainings sharing the GPU; default 4), GPU_SH_SECONDS (the overall
# budget; default 470).
set -uo pipefail
cd "$(dirname "$0")/.."

DRY=0
case "${1:-}" in
  --cpu-dry-run) DRY=1 ;;
  "") ;;
  *) echo "usage: bash benchmarks/gpu.sh [--cpu-dry-run]" >&2; exit 2 ;;
esac

PY=${PYTHON:-python3}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/reportgen-gpu.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
STEPS=$WORK/steps.tsv
: > "$STEPS"
BUDGET=${GPU_SH_SECONDS:-470}
STARTED=$EPOCHREALTIME
export MPLBACKEND=Agg PYTHONWARNINGS=${PYTHONWARNINGS:-ignore}

if (( DRY )); then
  DEVICE=cpu JOBS=1 PDF=--no-pdf
  "$PY" -m benchmarks.gpu tiny "$WORK/tiny/experiments.toml" || exit 1
  DEFAULT=$WORK/tiny/experiments.toml
  DEFAULT_LABEL="cold build of the tests' tiny manifest (dry run, CPU)"
  COURSE_ARGS=(--per-class 10 --epochs 1 --seeds 0)
  COURSE_ONLY=(--section lines)
  COURSE_LABEL="examples/cs671-a2.toml's lines section at 10 images per class, 1 epoch, 1 seed (dry run, CPU)"
  TRAIN_ARGS=(--quick)
else
  DEVICE=cuda JOBS=${JOBS:-4} PDF=
  DEFAULT=experiments.toml
  DEFAULT_LABEL="cold build of the default report (54 trainings, \`--device cuda --jobs $JOBS\`)"
  COURSE_ARGS=(--per-class 1000)
  COURSE_ONLY=()
  COURSE_LABEL="CS-671 example at 1,000 images per class (21 trainings, \`--device cuda --jobs $JOBS\`)"
  TRAIN_ARGS=(--repeat 2)
fi
BUILD=("$PY" -m reportgen build --device "$DEVICE" --jobs "$JOBS" --quiet)
FAILED=0

elapsed() { awk -v a="$STARTED" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d", b - a }'; }

# step ID "LABEL" CAP_SECONDS COMMAND...: run COMMAND (output shown and kept in $WORK/ID.log) under a time limit of
# CAP_SECONDS or what is left of the budget, whichever is less; log its time and status; the note is the last line
# of its output unless the caller sets NOTE afterwards.
step() {
  local id=$1 label=$2 cap=$3; shift 3
  local left=$(( BUDGET - $(elapsed) ))
  (( cap > left )) && cap=$left
  local status=ok t0=$EPOCHREALTIME rc=0
  if (( cap < 5 )); then
    status="not run (out of time)"; rc=1
  else
    timeout --kill-after=10 "$cap" "$@" 2>&1 | tee "$WORK/$id.log"
    rc=${PIPESTATUS[0]}
    (( rc == 124 || rc == 137 )) && status="timed out" || { (( rc )) && status="failed (exit $rc)"; }
  fi
  local seconds
  seconds=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
  (( rc )) && FAILED=1
  NOTE=$( [[ -f "$WORK/$id.log" ]] && grep -v '^\s*$' "$WORK/$id.log" | tail -n 1 | tr '\t' ' ' || true)
  printf '[gpu.sh] %s: %s s, %s (limit %s s; %s s of %s used) - %s\n' "$id" "$seconds" "$status" "$cap" \
    "$(elapsed)" "$BUDGET" "$label"
  printf '%s\t%s\t%s\t%s\t%s\n' "$id" "$label" "$seconds" "$status" "$NOTE" >> "$STEPS"
  return $rc
}

# The note of the last logged step replaced by NOTE (the build's own summary, shortened).
set_note() { awk -F'\t' -v OFS='\t' -v n="$1" 'NR == FNR { last = FNR; next } FNR == last { $5 = n } 1' \
  "$STEPS" "$STEPS" > "$STEPS.new" && mv "$STEPS.new" "$STEPS"; }
build_note() { sed -n 's/.*runs: \(.*\); \([0-9.]*\) s$/\1; build() \2 s/p' "$WORK/$1.log" | tail -n 1; }

# 1. The environment.
echo "[gpu.sh] $(date -u +%FT%TZ) on $(hostname); $([[ $DRY == 1 ]] && echo 'CPU dry run' || echo 'CUDA')"
if command -v nvidia-smi > /dev/null; then
  nvidia-smi || true
else
  echo "nvidia-smi: not found"
fi
if ! step env "environment" 30 "$PY" -m benchmarks.gpu env $( (( DRY )) || echo --require-cuda ); then
  echo "[gpu.sh] no CUDA device that torch can use: nothing to measure" >&2
  exit 1
fi
set_note "$(sed -n 's/^device: //p' "$WORK/env.log" | tail -n 1)"

# 2. A cold build of the default manifest.
step default "$DEFAULT_LABEL" 150 "${BUILD[@]}" "$DEFAULT" --out "$WORK/default" $PDF && set_note "$(build_note default)"

# 3. The trainer against its floor, per model.
step train "trainer vs floor" 90 "$PY" benchmarks/run.py --only train --device "$DEVICE" --manifest "$DEFAULT" \
  "${TRAIN_ARGS[@]}" --json "$WORK/train.json"

# 4. Same seeds, same numbers; and what --deterministic costs.
SECTION=(--section compare --no-pdf)
step plain "\`--section compare\`, cold" 60 "${BUILD[@]}" "$DEFAULT" "${SECTION[@]}" --out "$WORK/plain" \
  && set_note "$(build_note plain)"
step det1 "\`--section compare --deterministic\`, cold" 60 "${BUILD[@]}" "$DEFAULT" "${SECTION[@]}" --deterministic \
  --out "$WORK/det1" && set_note "$(build_note det1)"
step det2 "\`--section compare --deterministic\`, cold, again" 60 "${BUILD[@]}" "$DEFAULT" "${SECTION[@]}" \
  --deterministic --out "$WORK/det2" && set_note "$(build_note det2)"
step same "same seeds, same numbers: two \`--deterministic\` builds" 20 \
  "$PY" -m benchmarks.gpu same "$WORK/det1" "$WORK/det2" --require
step same_plain "same seeds, without vs with \`--deterministic\`" 20 \
  "$PY" -m benchmarks.gpu same "$WORK/plain" "$WORK/det1" $( (( DRY )) && echo --require )

# 5. The CS-671 example at the course's size.
if "$PY" -m benchmarks.gpu course examples/cs671-a2.toml "$WORK/course/cs671-a2.toml" "${COURSE_ARGS[@]}"; then
  step course "$COURSE_LABEL" 300 "${BUILD[@]}" "$WORK/course/cs671-a2.toml" "${COURSE_ONLY[@]}" \
    --out "$WORK/course/out" $PDF && set_note "$(build_note course)"
else
  printf 'course\t%s\t0\tfailed (manifest copy)\t\n' "$COURSE_LABEL" >> "$STEPS"
  FAILED=1
fi

echo
echo "[gpu.sh] done in $(elapsed) s (budget $BUDGET s); paste into the README's Performance table:"
"$PY" -m benchmarks.gpu table "$STEPS" --train-json "$WORK/train.json" --device "$DEVICE" || FAILED=1
exit $FAILED
