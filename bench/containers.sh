#!/usr/bin/env bash
# Cost per `docker run` under trustrun, against plain `docker run` in the same run (hyperfine).
#   TRUSTRUN=target/release/trustrun IMAGE=<local image with /usr/bin/sleep> bash bench/containers.sh
# `cargo test containers::` builds such an image (trustrun-test-curl:*). Needs a running engine.
set -euo pipefail
cd "$(dirname "$0")/.."
TRUSTRUN=$(realpath "${TRUSTRUN:-target/release/trustrun}")
IMAGE=${IMAGE:-$(docker images --format '{{.Repository}}:{{.Tag}}' 'trustrun-test-curl' | head -1)}
RUNS=${RUNS:-30}
[ -n "$IMAGE" ] || { echo "no IMAGE: run cargo test containers:: first, or name one" >&2; exit 2; }
export TRUSTRUN_CACHE_DIR; TRUSTRUN_CACHE_DIR=$(mktemp -d)
"$TRUSTRUN" bundle >/dev/null   # warm cache: what every later run finds
fake=$(mktemp -d)
ln -s /bin/true "$fake/docker"
run="run --rm --network host $IMAGE /usr/bin/sleep 0"
out=$(mktemp -d)
n=0

echo "## a whole docker run (container start included)"
hyperfine -N --warmup 3 --runs "$RUNS" --style none --export-json "$out/$((n+=1)).json" \
  -n "docker run (plain)" "docker $run" \
  -n "trustrun docker run" "$TRUSTRUN docker $run" \
  -n "trustrun --no-containers docker run" "$TRUSTRUN --no-containers docker $run"

echo "## adding the override alone (docker is /bin/true; the image inspect is measured below)"
PATH="$fake:$PATH" hyperfine -N --warmup 10 --runs $((RUNS * 10)) --style none --export-json "$out/$((n+=1)).json" \
  -n "trustrun docker ps (pass-through)" "$TRUSTRUN docker ps" \
  -n "trustrun docker run (override added)" "$TRUSTRUN docker $run"

echo "## the image inspect trustrun makes for each docker run"
hyperfine -N --warmup 3 --runs "$RUNS" --style none --export-json "$out/$((n+=1)).json" \
  -n "docker image inspect" "docker image inspect --format '{{json .Config.Env}}' $IMAGE"

echo "## every other program: the engine shims on PATH (containers on vs off)"
hyperfine -N --warmup 10 --runs $((RUNS * 10)) --style none --export-json "$out/$((n+=1)).json" \
  -n "trustrun true (containers on)" "env TRUSTRUN_CONTAINERS=1 $TRUSTRUN true" \
  -n "trustrun true (containers off)" "env TRUSTRUN_CONTAINERS=0 $TRUSTRUN true" \
  -n "true (plain)" "env TRUSTRUN_CONTAINERS=0 true"

# Medians (the machine is shared: means drift with other people's builds), each against the first
# command of its group.
python3 - "$out" <<'PY'
import json, pathlib, statistics, sys
for f in sorted(pathlib.Path(sys.argv[1]).glob("*.json"), key=lambda p: int(p.stem)):
    results = json.loads(f.read_text())["results"]
    base = statistics.median(results[0]["times"])
    print("| command | median ms | vs first | extra ms |\n| --- | ---: | ---: | ---: |")
    for r in results:
        m = statistics.median(r["times"])
        print(f"| {r['command']} | {m*1000:.1f} | {m/base:.3f}x | {1000*(m-base):+.1f} |")
    print()
PY
