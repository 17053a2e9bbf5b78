"""Runs two commands alternately (A B, B A, A B, ...) so that the load of a shared machine falls
on both alike, and prints each one's median wall-clock and CPU time (user + system, from the
child's own rusage: what the process itself spent, in microseconds) and the medians of the
paired differences B - A.

    python3 bench/paired-runs.py RUNS "name A" "command A" "name B" "command B" [prepare]
"""
import os
import statistics
import subprocess
import sys
import time

runs, name_a, cmd_a, name_b, cmd_b = int(sys.argv[1]), *sys.argv[2:6]
prepare = sys.argv[6] if len(sys.argv) > 6 else None


def measure(command):
    if prepare:
        subprocess.run(["bash", "-c", prepare], check=True)
    t0 = time.perf_counter()
    child = subprocess.Popen(["bash", "-c", command], stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    wall = (time.perf_counter() - t0) * 1000
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{command}: exit {os.waitstatus_to_exitcode(status)}")
    return wall, (usage.ru_utime + usage.ru_stime) * 1000


measure(cmd_a)  # warm-up: file caches
measure(cmd_b)
a, b = [], []
for i in range(runs):
    first, second = ((cmd_a, a), (cmd_b, b)) if i % 2 == 0 else ((cmd_b, b), (cmd_a, a))
    first[1].append(measure(first[0]))
    second[1].append(measure(second[0]))


def row(label, xs):
    wall = statistics.median(x[0] for x in xs)
    cpu = statistics.median(x[1] for x in xs)
    return f"| {label} | {wall:.1f} | {cpu:.1f} |"


diffs = [(y[0] - x[0], y[1] - x[1]) for x, y in zip(a, b)]
print(f"| {runs} pairs, medians | wall ms | CPU ms |")
print("|---|---|---|")
print(row(name_a, a))
print(row(name_b, b))
print(row(f"{name_b} - {name_a}, paired", diffs))
