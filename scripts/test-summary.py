#!/usr/bin/env python3
"""Counts the test cases of one or more meson build directories.

Each test program prints TAP; meson records its output in
meson-logs/testlog.json.  A program that crashed or timed out before its
plan was complete counts as one more failure.  Prints one line,
"N passed, N failed, N skipped", and exits 1 when anything failed.
"""
import json
import re
import sys

passed = failed = skipped = 0
for build in sys.argv[1:]:
    try:
        with open(f"{build}/meson-logs/testlog.json", encoding="utf-8") as f:
            records = [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        print(f"{build}: no test log", file=sys.stderr)
        failed += 1
        continue
    for rec in records:
        out = rec.get("stdout") or ""
        ok = len(re.findall(r"^ok \d+.*$", out, re.M))
        skip = len(re.findall(r"^ok \d+.*# SKIP", out, re.M))
        bad = len(re.findall(r"^not ok \d+", out, re.M))
        plan = re.search(r"^1\.\.(\d+)", out, re.M)
        passed += ok - skip
        skipped += skip
        failed += bad
        result = rec.get("result")
        if not plan and ok + bad == 0 and result == "OK":
            passed += 1  # a test judged by its exit status alone
            continue
        if result in ("FAIL", "TIMEOUT", "ERROR") and bad == 0:
            failed += 1  # crashed or timed out without a TAP failure
        elif plan and ok + bad < int(plan.group(1)) and result != "SKIP":
            failed += int(plan.group(1)) - ok - bad
        elif result == "SKIP" and ok + bad == 0:
            skipped += 1
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
