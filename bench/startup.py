#!/usr/bin/env python3
"""Start-up cost of trustrun, interleaved in one run: `python -c pass` plain against the same
through trustrun and its alternatives. Each round runs every variant once, in a shuffled order, so
drift on the machine (other load, frequency) and after-effects of one variant on the next touch all
variants alike. Reports the median and
the ratio to plain.

    python3 bench/startup.py [--rounds N] [--trustrun PATH] [--python PATH] [--also LABEL=PATH ...]

Defaults: 200 rounds, target/release/trustrun, the test venv's python (it has truststore, which
the hand-fix variant needs). The CA presets of this machine are removed from every child, as a
user behind a proxy does not have them. `--also LABEL=PATH` adds a warm variant with another
trustrun binary (a static build, the wheel's), timed in the same rounds.

The floor variants are the smallest Rust program that execs python with our sitecustomize and
variables (std; built here by rustc from a few lines: dynamically linked, +crt-static, and musl
where that target is installed):
what any Rust launcher pays before its own work. trustrun's own cost is its distance from the
floor of the same run.
"""

import argparse
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def clean_env():
    env = {}
    for name, value in os.environ.items():
        upper = name.upper()
        if (
            upper.startswith("TRUSTRUN_")
            or upper == "PYTHONPATH"
            or "CERT" in upper
            or "CA_BUNDLE" in upper
            or "CAINFO" in upper
            or "CA_CERTS" in upper
            or "CAFILE" in upper
        ):
            continue
        env[name] = value
    return env


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--trustrun", default=os.path.join(REPO, "target/release/trustrun"))
    parser.add_argument("--python", default=os.path.join(REPO, "target/e2e-venv/bin/python"))
    parser.add_argument("--also", action="append", default=[], metavar="LABEL=PATH")
    args = parser.parse_args()

    python = args.python
    work = tempfile.mkdtemp(prefix="trustrun-bench-")
    trustrun = same_footing(work, args.trustrun)
    base = clean_env()
    warm_cache = os.path.join(work, "warm-cache")
    base_warm = dict(base, TRUSTRUN_CACHE_DIR=warm_cache)

    hand_fix = os.path.join(work, "hand-fix")
    os.makedirs(hand_fix)
    with open(os.path.join(hand_fix, "sitecustomize.py"), "w") as f:
        f.write("import truststore\ntruststore.inject_into_ssl()\n")

    shim_dir = os.path.join(work, "shims")
    os.makedirs(shim_dir)
    os.symlink(trustrun, os.path.join(shim_dir, "python"))
    with open(os.path.join(shim_dir, ".trustrun-shims"), "w") as f:
        f.write("trustrun shims\n")
    # The shim finds the real python further down PATH: put the venv's bin right after it.
    shim_path = shim_dir + os.pathsep + os.path.dirname(python) + os.pathsep + base.get("PATH", "")

    config_home = os.path.join(work, "config-home")
    os.makedirs(os.path.join(config_home, "trustrun"))
    with open(os.path.join(config_home, "trustrun", "config.toml"), "w") as f:
        f.write('truststore = "auto"\nleave_alone = ["CARGO_HTTP_CAINFO"]\n')

    cold_counter = [0]

    def cold_env():
        cold_counter[0] += 1
        return dict(base, TRUSTRUN_CACHE_DIR=os.path.join(work, "cold-%d" % cold_counter[0]))

    # The warm path stats every OpenSSL-named entry of a directory the user names (SSL_CERT_DIR);
    # the OS store's own directory only as a whole (the plain warm variant). A user's directory
    # of the OS store's size (its hashed links, re-created elsewhere) shows what a stat per entry
    # of it would cost on every run.
    os_dir = "/etc/ssl/certs"
    hashed = [n for n in os.listdir(os_dir) if re.fullmatch(r"[0-9a-f]{8}\.[0-9]+", n)] if os.path.isdir(os_dir) else []
    user_dir = os.path.join(work, "user-cert-dir")
    os.makedirs(user_dir)
    for n in hashed:
        os.symlink(os.path.realpath(os.path.join(os_dir, n)), os.path.join(user_dir, n))

    variants = [
        ("plain python -c pass", lambda: ([python, "-c", "pass"], base)),
        ("trustrun, warm cache", lambda: ([trustrun, python, "-c", "pass"], base_warm)),
        (
            "trustrun, warm, SSL_CERT_DIR of %d hashed links (each stat'd)" % len(hashed),
            lambda: ([trustrun, python, "-c", "pass"], dict(base_warm, SSL_CERT_DIR=user_dir)),
        ),
        ("trustrun, empty cache (cold)", lambda: ([trustrun, python, "-c", "pass"], cold_env())),
        (
            "trustrun --truststore always, warm",
            lambda: ([trustrun, "--truststore", "always", python, "-c", "pass"], base_warm),
        ),
        ("shim: python -c pass via shim dir, warm", lambda: (["python", "-c", "pass"], dict(base_warm, PATH=shim_path))),
        (
            "trustrun with a config file, warm",
            lambda: ([trustrun, python, "-c", "pass"], dict(base_warm, XDG_CONFIG_HOME=config_home)),
        ),
        (
            "our sitecustomize alone (its env, no trustrun process)",
            lambda: ([python, "-c", "pass"], sitecustomize_only),
        ),
        (
            "hand fix: sitecustomize with truststore.inject_into_ssl()",
            lambda: ([python, "-c", "pass"], dict(base, PYTHONPATH=hand_fix)),
        ),
    ]

    for i, also in enumerate(args.also):
        label, _, path = also.partition("=")
        path = same_footing(work, path)
        # A cache of its own: an older trustrun may relink the engine shims of a shared one.
        env = dict(base, TRUSTRUN_CACHE_DIR=os.path.join(work, "also-%d" % i))
        variants.insert(
            2, ("%s, warm" % label, lambda path=path, env=env: ([path, python, "-c", "pass"], env))
        )

    # The environment trustrun gives python, taken from `trustrun env`, applied without trustrun.
    plan = json.loads(
        subprocess.run([trustrun, "env", "--format", "json"], env=base_warm, capture_output=True, check=True).stdout
    )
    sitecustomize_only = dict(base_warm)
    for name, value in plan.items():
        if value is None:
            sitecustomize_only.pop(name, None)
        else:
            sitecustomize_only[name] = value

    floors = build_floors(work, plan)
    for i, (label, exe) in enumerate(floors):
        variants.insert(1 + i, (label, lambda exe=exe: ([exe, python, "-c", "pass"], base_warm)))

    # Prime the warm cache and check every variant works before timing anything.
    for name, make in variants:
        cmd, env = make()
        result = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if result.returncode != 0:
            sys.exit("%s failed: %s" % (name, result.stderr.strip()))

    load_before = os.getloadavg()
    times = {name: [] for name, _ in variants}
    cpu = {name: [] for name, _ in variants}
    shuffle = random.Random(20261130).shuffle
    for _ in range(args.rounds):
        order = list(variants)
        # A fresh order each round: no variant always follows the same one (the cold variant
        # writes a cache and would slow whichever came next).
        shuffle(order)
        for name, make in order:
            cmd, env = make()
            start = time.perf_counter()
            child = subprocess.Popen(cmd, env=env)
            # wait4 gives the CPU time of the whole exec chain (trustrun, then python, same pid):
            # steadier than wall time on a shared machine.
            _, status, usage = os.wait4(child.pid, 0)
            times[name].append(time.perf_counter() - start)
            cpu[name].append(usage.ru_utime + usage.ru_stime)
            child.returncode = os.waitstatus_to_exitcode(status)
            if child.returncode != 0:
                sys.exit("%s exited with %d" % (name, child.returncode))

    plain = statistics.median(times[variants[0][0]])
    plain_cpu = statistics.median(cpu[variants[0][0]])
    floor = statistics.median(times[floors[0][0]]) if floors else None
    floor_cpu = statistics.median(cpu[floors[0][0]]) if floors else None
    print("%d rounds, interleaved; trustrun: %s; python: %s" % (args.rounds, trustrun, python))
    print("load average before/after: %s / %s" % (load_before, os.getloadavg()))
    print()
    print(
        "| variant | wall median ms | vs plain | extra ms | vs floor | above floor ms "
        "| CPU median ms | CPU vs plain | CPU vs floor |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, _ in variants:
        med = statistics.median(times[name])
        med_cpu = statistics.median(cpu[name])
        vs_floor = "%.3fx | %+.2f" % (med / floor, (med - floor) * 1000) if floor else "| "
        cpu_floor = "%.3fx" % (med_cpu / floor_cpu) if floor_cpu else ""
        print(
            "| %s | %.2f | %.3fx | %+.2f | %s | %.2f | %.3fx | %s |"
            % (
                name,
                med * 1000,
                med / plain,
                (med - plain) * 1000,
                vs_floor,
                med_cpu * 1000,
                med_cpu / plain_cpu,
                cpu_floor,
            )
        )
    shutil.rmtree(work, ignore_errors=True)


FLOOR_SOURCE = """\
// The floor: exec argv[1..] with trustrun's variables set on the Command, as trustrun does.
use std::os::unix::process::CommandExt;
const VARS: &[(&str, Option<&str>)] = &%s;
fn main() {
    let mut args = std::env::args_os().skip(1);
    let program = args.next().expect("a program");
    let mut cmd = std::process::Command::new(program);
    cmd.args(args);
    for (name, value) in VARS {
        match value {
            Some(v) => cmd.env(name, v),
            None => cmd.env_remove(name),
        };
    }
    let err = cmd.exec();
    eprintln!("floor: {err}");
    std::process::exit(126);
}
"""


def same_footing(work, binary):
    """A copy of `binary` in `work`, named as it is (trustrun dispatches on its name): every
    binary timed is then a file written the same way. A file as the linker left it faults in
    slower than a copy of it (0.13 ms for trustrun in front of /usr/bin/true on this machine
    kind), and an installed binary is a copy."""
    n = len([d for d in os.listdir(work) if d.startswith("bin-")])
    target = os.path.join(work, "bin-%d" % n)
    os.makedirs(target)
    copy = os.path.join(target, os.path.basename(binary))
    shutil.copy2(os.path.abspath(binary), copy)
    return copy


def build_floors(work, plan):
    """The floor program, dynamically linked and with +crt-static; none when rustc is missing."""
    rustc = shutil.which("rustc")
    if rustc is None:
        print("no rustc: no floor variants", file=sys.stderr)
        return []
    pairs = ", ".join(
        "(%s, %s)" % (json.dumps(k), "None" if v is None else "Some(%s)" % json.dumps(v)) for k, v in sorted(plan.items())
    )
    src = os.path.join(work, "floor.rs")
    with open(src, "w") as f:
        f.write(FLOOR_SOURCE % ("[" + pairs + "]"))
    floors = []
    # trustrun's release profile: opt-level 3, one codegen unit, abort, and cargo's default strip
    # of debug info (without it std's debug info makes the floor a 4 MB file).
    common = [
        "-C", "opt-level=3", "-C", "codegen-units=1", "-C", "panic=abort", "-C", "strip=debuginfo",
        "--edition", "2021",
    ]
    for label, extra in [
        ("floor: smallest Rust exec of python, our variables (dynamic)", []),
        ("floor: the same, static (+crt-static)", ["-C", "target-feature=+crt-static"]),
        # Only where the target is installed (rustup target add x86_64-unknown-linux-musl).
        ("floor: the same, musl (static)", ["--target", "x86_64-unknown-linux-musl"]),
    ]:
        out = os.path.join(work, "floor-%d" % len(floors))
        result = subprocess.run([rustc, *common, *extra, "-o", out, src], capture_output=True, text=True)
        if result.returncode != 0:
            print("floor build failed (%s): %s" % (label, result.stderr.strip()[-300:]), file=sys.stderr)
            continue
        floors.append((label, same_footing(work, out)))
    return floors


if __name__ == "__main__":
    main()
