#!/usr/bin/env bash
# The GPU checks and benchmarks, in one run sized for a short lease on one GPU machine:
#   1. the CUDA tests (every plan and gradient against the CPU in float64, streaming on the GPU);
#   2. planner calibration timings on CUDA (benchmarks/calibrate_planner.py);
#   3. plan choice with the weights fitted to them, on the benchmark grid (out of sample);
#   4. our layer against the store-everything layer (benchmarks/layer_speed.py).
# Each stage has its own time limit and writes its results as it goes, so a stage cut short still
# leaves its rows. Results go to $OUT (default benchmarks/results); fit the CUDA weights from the
# calibration timings afterwards with
#   python benchmarks/calibrate_planner.py --fit-only --json benchmarks/results/planner_calibration_cuda.json
# Usage: OUT=/some/dir bash benchmarks/gpu.sh   (SCALE=0.5 halves every stage's time limit;
#        STAGES="1 2 3" runs only those stages)
set -u
cd "$(dirname "$0")/.."
OUT=${OUT:-benchmarks/results}
SCALE=${SCALE:-1}
STAGES=${STAGES:-1 2 3 4}
PYTHON=${PYTHON:-python3}
export PYTHONUNBUFFERED=1 PYTHONPATH=.
mkdir -p "$OUT"
limit() { "$PYTHON" -c "print(max(10, int($1 * $SCALE)))"; }
wanted() { [[ " $STAGES " == *" $1 "* ]]; }

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$OUT/gpu.txt"
"$PYTHON" -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)" | tee -a "$OUT/gpu.txt"

wanted 1 && echo "== 1. CUDA tests" && timeout "$(limit 60)" "$PYTHON" -m pytest -q -p no:cacheprovider --confcutdir=tests/centaurus \
    tests/centaurus/test_cuda.py 2>&1 | tail -n 15 | tee "$OUT/cuda_tests.txt"

wanted 2 && echo "== 2. planner calibration timings" &&
timeout "$(limit 100)" "$PYTHON" benchmarks/calibrate_planner.py --device cuda --max-gflop 20 --max-bytes 2e10 --rounds 5 \
    --json "$OUT/planner_calibration_cuda.json" 2>&1 | tail -n 8

calibration=()
[ -s "$OUT/planner_calibration_cuda.json" ] && calibration=(--calibration "$OUT/planner_calibration_cuda.json")
wanted 3 && echo "== 3. plan choice, weights fitted to stage 2" && timeout "$(limit 150)" "$PYTHON" benchmarks/contraction_plans.py --device cuda --max-gflop 20 \
    --naive-max-gflop 5 --window 3 --repeats 5 "${calibration[@]}" \
    --csv "$OUT/contraction_plans_cuda.csv" 2>&1 | tail -n 12

wanted 4 && echo "== 4. our layer against the store-everything layer" && timeout "$(limit 170)" "$PYTHON" benchmarks/layer_speed.py --device cuda --rounds 5 \
    --csv "$OUT/layer_speed_cuda.csv" --json "$OUT/layer_speed_cuda.json" 2>&1 | tail -n 14
# Whatever a stage left, summarise it here too (a stage cut short prints no summary of its own).
wanted 3 && "$PYTHON" benchmarks/contraction_plans.py --summary-only --csv "$OUT/contraction_plans_cuda.csv" 2>&1 | tail -n 9
