#!/usr/bin/env python3
"""Runs a command N times and prints the medians of its wall time, CPU time (user + system) and peak RSS:
"wall_seconds cpu_seconds max_rss_kb exit_status". Microsecond resolution (GNU time's is 10 ms, too coarse
for runs of a few hundredths of a second). Usage: measure.py N command [args...]"""
import os, resource, statistics, subprocess, sys, time

n, cmd = int(sys.argv[1]), sys.argv[2:]
walls, cpus, rss, status = [], [], [], 0
for _ in range(n):
    # Each run in its own child process, so the RUSAGE_CHILDREN figures belong to that run alone.
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        t0 = time.perf_counter()
        p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wall = time.perf_counter() - t0
        u = resource.getrusage(resource.RUSAGE_CHILDREN)
        os.write(w, f"{wall} {u.ru_utime + u.ru_stime} {u.ru_maxrss} {p.returncode}".encode())
        os._exit(0)
    os.close(w)
    out = os.read(r, 200).decode().split()
    os.waitpid(pid, 0)
    walls.append(float(out[0])); cpus.append(float(out[1])); rss.append(int(out[2])); status = int(out[3])
print(f"{statistics.median(walls):.4f} {statistics.median(cpus):.4f} {int(statistics.median(rss))} {status}")
