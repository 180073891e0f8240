"""Trusted image builds against plain ones (BENCHMARKS.md#image-builds): the same Dockerfile (two
stages, three RUNs, no network) built with the private engine's docker 26.1, plainly and through
`trustrun docker build`, in an order shuffled every round. `warm`: every layer cached (what trustrun's
own work costs); `cold`: --no-cache (a whole build). Run it in a directory holding the Dockerfile,
with `.ci/engine env` in the environment:

    eval "$(.ci/engine env)"; cd DIR; python3 bench/builds.py warm 15; python3 bench/builds.py cold 8
"""
import os, subprocess, time, statistics, random, sys
docker = os.environ["TRUSTRUN_ENGINE_DOCKER"]
env = dict(os.environ, PATH=os.environ["TRUSTRUN_ENGINE_BIN_DIR"] + ":/usr/bin:/bin", TRUSTRUN_CACHE_DIR=os.path.abspath("trustrun-cache"))
for k in list(env):
    if k in ("SSL_CERT_FILE","REQUESTS_CA_BUNDLE","CURL_CA_BUNDLE"): del env[k]
tr = os.environ.get("TRUSTRUN", "trustrun")
def run(cmd):
    t = time.perf_counter(); subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); return time.perf_counter() - t
variants = {
  "plain": [docker, "build", "--network", "host", "-q", "-t", "bench-plain", "."],
  "trustrun": [tr, "docker", "build", "--network", "host", "-q", "-t", "bench-trusted", "."],
}
mode = sys.argv[1]; rounds = int(sys.argv[2])
res = {k: [] for k in variants}
for _ in range(rounds):
    order = list(variants); random.shuffle(order)
    for k in order:
        cmd = list(variants[k])
        if mode == "cold": cmd.insert(cmd.index("-q"), "--no-cache")
        res[k].append(run(cmd))
for k, v in res.items():
    print(f"{mode} {k}: median {statistics.median(v)*1000:.0f} ms (min {min(v)*1000:.0f}, max {max(v)*1000:.0f}, n={len(v)})")
