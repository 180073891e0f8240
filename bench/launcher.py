#!/usr/bin/env python3
"""What a launcher alone costs: each variant runs `/usr/bin/true` (no Python start-up to hide it in),
once per round in a shuffled order, each with a warm cache of its own, the CA presets removed.
The floors are bench/startup.py's (the smallest Rust exec, dynamic, +crt-static, musl); every
binary is timed as a copy in the work directory (see `startup.same_footing`).

    python3 bench/launcher.py [--rounds N] [--trustrun PATH] [--also LABEL=PATH ...]
"""

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import tempfile
import time

from startup import REPO, build_floors, clean_env, same_footing


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=1000)
    parser.add_argument("--trustrun", default=os.path.join(REPO, "target/release/trustrun"))
    parser.add_argument("--also", action="append", default=[], metavar="LABEL=PATH")
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="trustrun-launcher-")
    base = clean_env()
    trustrun = same_footing(work, args.trustrun)
    plan = json.loads(
        subprocess.run(
            [trustrun, "env", "--format", "json"],
            env=dict(base, TRUSTRUN_CACHE_DIR=os.path.join(work, "plan")),
            capture_output=True,
            check=True,
        ).stdout
    )
    variants = [("/usr/bin/true alone", [])]
    variants += [(label, [exe]) for label, exe in build_floors(work, plan)]
    variants.append(("trustrun", [trustrun]))
    for also in args.also:
        label, _, path = also.partition("=")
        variants.append((label, [same_footing(work, path)]))
    envs = {
        name: dict(base, TRUSTRUN_CACHE_DIR=os.path.join(work, "cache-%d" % i))
        for i, (name, _) in enumerate(variants)
    }
    for name, launcher in variants:
        for _ in range(2):  # cold, then warm
            subprocess.run(launcher + ["/usr/bin/true"], env=envs[name], check=True)

    wall = {name: [] for name, _ in variants}
    cpu = {name: [] for name, _ in variants}
    load_before = os.getloadavg()
    shuffle = random.Random(20261206).shuffle
    for _ in range(args.rounds):
        order = list(variants)
        shuffle(order)
        for name, launcher in order:
            start = time.perf_counter()
            child = subprocess.Popen(launcher + ["/usr/bin/true"], env=envs[name])
            _, status, usage = os.wait4(child.pid, 0)
            wall[name].append(time.perf_counter() - start)
            cpu[name].append(usage.ru_utime + usage.ru_stime)
            if os.waitstatus_to_exitcode(status) != 0:
                raise SystemExit("%s failed" % name)

    floor = variants[1][0] if len(variants) > 2 else None
    print("%d rounds; load average before/after: %s / %s" % (args.rounds, load_before, os.getloadavg()))
    print()
    print("| launcher, then /usr/bin/true | wall median ms | above floor ms | CPU median ms | above floor ms |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, _ in variants:
        w, c = statistics.median(wall[name]) * 1e3, statistics.median(cpu[name]) * 1e3
        fw = statistics.median(wall[floor]) * 1e3 if floor else w
        fc = statistics.median(cpu[floor]) * 1e3 if floor else c
        print("| %s | %.3f | %+.3f | %.3f | %+.3f |" % (name, w, w - fw, c, c - fc))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
