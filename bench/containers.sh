#!/usr/bin/env bash
# Cost per `docker run` under trustrun, against plain `docker run` in the same run (hyperfine).
#   TRUSTRUN=target/release/trustrun IMAGE=<local image with /usr/bin/sleep> bash bench/containers.sh
# `cargo test --test containers` builds such an image (trustrun-test-curl:*). Needs a running engine.
set -euo pipefail
cd "$(dirname "$0")/.."
TRUSTRUN=$(realpath "${TRUSTRUN:-target/release/trustrun}")
IMAGE=${IMAGE:-$(docker images --format '{{.Repository}}:{{.Tag}}' 'trustrun-test-curl' | head -1)}
RUNS=${RUNS:-30}
[ -n "$IMAGE" ] || { echo "no IMAGE: run cargo test --test containers first, or name one" >&2; exit 2; }
export TRUSTRUN_CACHE_DIR; TRUSTRUN_CACHE_DIR=$(mktemp -d)
"$TRUSTRUN" bundle >/dev/null   # warm cache: what every later run finds
fake=$(mktemp -d)
ln -s /bin/true "$fake/docker"
run="run --rm --network host $IMAGE /usr/bin/sleep 0"

echo "## a whole docker run (container start included)"
hyperfine -N --warmup 3 --runs "$RUNS" --export-markdown /dev/stdout \
  -n "docker run (plain)" "docker $run" \
  -n "trustrun docker run" "$TRUSTRUN docker $run" \
  -n "trustrun --no-containers docker run" "$TRUSTRUN --no-containers docker $run"

echo "## adding the override alone (docker is /bin/true; the image inspect is measured below)"
PATH="$fake:$PATH" hyperfine -N --warmup 10 --runs $((RUNS * 10)) --export-markdown /dev/stdout \
  -n "trustrun docker ps (pass-through)" "$TRUSTRUN docker ps" \
  -n "trustrun docker run (override added)" "$TRUSTRUN docker $run"

echo "## the image inspect trustrun makes for each docker run"
hyperfine -N --warmup 3 --runs "$RUNS" --export-markdown /dev/stdout \
  -n "docker image inspect" "docker image inspect --format '{{json .Config.Env}}' $IMAGE"

echo "## every other program: the engine shims on PATH (containers on vs off)"
hyperfine -N --warmup 10 --runs $((RUNS * 10)) --export-markdown /dev/stdout \
  -n "trustrun true (containers on)" "env TRUSTRUN_CONTAINERS=1 $TRUSTRUN true" \
  -n "trustrun true (containers off)" "env TRUSTRUN_CONTAINERS=0 $TRUSTRUN true" \
  -n "true (plain)" "env TRUSTRUN_CONTAINERS=0 true"
