#!/usr/bin/env python3
"""Runs one libFuzzer target for a bounded time (docs/fuzzing.md).

The fuzz build's tests call it (suite 'fuzz'), and so does `make fuzz`.
With FUZZ_KEEP=1 (`make fuzz`) new inputs go to the working corpus folder,
and the next run starts from them; else (the short runs of `make test`)
to a temporary folder removed after the run, so that those stay short.
The seed folders that exist are read too, regressions included, so every
run replays them first.  A crash, a leak, a sanitizer report or a
hang fails the run and leaves its input in the artifact folder.

The time comes from FUZZ_TIME (seconds, default 10); FUZZ_ARGS adds
libFuzzer options (say "-len_control=0" to try long inputs at once).  Exit status: 0 when
nothing was found, 77 (skipped) with --skip, else libFuzzer's.
"""
import argparse
import os
import re
import subprocess
import shutil
import sys
import tempfile
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--skip", help="print this reason and exit 77")
    ap.add_argument("--fuzzer")
    ap.add_argument("--name")
    ap.add_argument("--max-len", type=int, default=4096)
    ap.add_argument("--corpus", help="the working corpus folder")
    ap.add_argument("--artifacts", help="where crashing inputs are written")
    ap.add_argument("--dict")
    ap.add_argument("seeds", nargs="*")
    args = ap.parse_args()
    if args.skip:
        print(f"1..0 # SKIP {args.skip}")
        return 77

    seconds = int(os.environ.get("FUZZ_TIME", "10"))
    keep = os.environ.get("FUZZ_KEEP") == "1"
    corpus = args.corpus if keep else tempfile.mkdtemp(prefix="tm-corpus-")
    os.makedirs(corpus, exist_ok=True)
    os.makedirs(args.artifacts, exist_ok=True)
    seeds = [s for s in args.seeds if os.path.isdir(s)]
    cmd = [
        args.fuzzer,
        f"-max_total_time={seconds}",
        f"-max_len={args.max_len}",
        "-timeout=30",
        "-rss_limit_mb=2048",
        "-error_exitcode=1",  # libFuzzer's default, 77, reads as a skip
        "-print_final_stats=1",
        f"-artifact_prefix={args.artifacts}/",
    ]
    if args.dict and os.path.isfile(args.dict):
        cmd.append(f"-dict={args.dict}")
    cmd += os.environ.get("FUZZ_ARGS", "").split()
    cmd += [corpus] + seeds
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    print("#", " ".join(cmd), flush=True)

    status, last, stats, artifact = "", "", {}, None
    start = time.monotonic()
    with subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, text=True,
                          errors="replace") as p:
        for line in p.stderr:
            sys.stderr.write(line)
            if re.match(r"#\d+\s", line) and "cov:" in line:
                last = line.strip()
            m = re.match(r"stat::(\w+):\s+(\d+)", line)
            if m:
                stats[m.group(1)] = int(m.group(2))
            m = re.search(r"Test unit written to (\S+)", line)
            if m:
                artifact = m.group(1)
        status = p.wait()
    if not keep:
        shutil.rmtree(corpus, ignore_errors=True)

    elapsed = time.monotonic() - start
    cov = re.search(r"cov: (\d+)", last)
    ft = re.search(r"ft: (\d+)", last)
    corp = re.search(r"corp: (\d+)", last)
    print(f"{args.name}: {elapsed:.0f} s, "
          f"{stats.get('number_of_executed_units', 0)} runs, "
          f"{stats.get('average_exec_per_sec', 0)}/s, "
          f"cov {cov.group(1) if cov else '?'}, "
          f"ft {ft.group(1) if ft else '?'}, "
          f"corpus {corp.group(1) if corp else '?'} "
          f"({stats.get('new_units_added', 0)} new), "
          f"peak RSS {stats.get('peak_rss_mb', 0)} MB")
    if status != 0:
        print(f"{args.name}: libFuzzer exited with {status}")
        if artifact:
            print(f"{args.name}: the input is {artifact}; minimise it with\n"
                  f"  {args.fuzzer} -minimize_crash=1 -runs=20000 "
                  f"-exact_artifact_path=MIN {artifact}\n"
                  f"then fix the bug and keep MIN in "
                  f"fuzz/regressions/{args.name}/")
    return 0 if status == 0 else (status if status != 77 else 1)


if __name__ == "__main__":
    sys.exit(main())
