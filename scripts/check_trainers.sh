#!/usr/bin/env bash
# Check hardgen's exports against the trainers users train with: LLaMA-Factory's and Verl's own dataset
# code, datasets' JSON loader and Verl's reward manager. By hand only, never in CI: it installs
# llamafactory and verl (about 6 minutes and 7 GB, torch included) into a throwaway venv outside the repo.
#
#   scripts/check_trainers.sh [RUN_DIR]
#
# RUN_DIR defaults to a fresh quickstart run. TRAINERS_VENV (default: $TMPDIR/hardgen-trainers) is reused
# when it already has both libraries. HARDGEN (default: .venv/bin/hardgen, else hardgen on PATH).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${TRAINERS_VENV:-${TMPDIR:-/tmp}/hardgen-trainers}"
HARDGEN="${HARDGEN:-$( [ -x .venv/bin/hardgen ] && echo .venv/bin/hardgen || echo hardgen )}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/hardgen-check-XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

if ! "$VENV/bin/python" -c "import llamafactory, verl" 2>/dev/null; then
    echo "installing llamafactory and verl into $VENV (several minutes)"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q llamafactory verl
fi
"$VENV/bin/pip" list 2>/dev/null | grep -iE '^(llamafactory|verl|transformers|datasets|tokenizers) ' || true

RUN="${1:-$WORK/run}"
if [ -z "${1:-}" ]; then
    "$HARDGEN" run examples/quickstart.yaml --run-dir "$RUN" > "$WORK/run.log"
fi
EXPORTS="$WORK/exports"
"$HARDGEN" export "$RUN" --format llamafactory -o "$EXPORTS/lf"
"$HARDGEN" export "$RUN" --format openai -o "$EXPORTS/openai.jsonl"
"$HARDGEN" export "$RUN" --format verl -o "$EXPORTS/verl" | tee "$WORK/verl.txt"
# with the failed calls of --with-recovery, to check that they get no loss
"$HARDGEN" export "$RUN" --format verl-sft -o "$EXPORTS/verl-sft" --with-recovery | tee "$WORK/verl-sft.txt"
"$HARDGEN" verify "$EXPORTS"
LIMIT="$(sed -n 's/.*max_prompt_length >= \([0-9]*\).*/\1/p' "$WORK/verl.txt")"
SFT_LIMIT="$(sed -n 's/.*data.max_length .* >= \([0-9]*\) .*/\1/p' "$WORK/verl-sft.txt")"
"$VENV/bin/python" scripts/check_trainers.py "$EXPORTS" "${LIMIT:-8192}" "${SFT_LIMIT:-8192}"
