#!/usr/bin/env python3
"""Memory per slot agent, by mapping: runs N agents (the bench scenario, offline
model, 3 steps) in one slot agentd and prints the agentd's peak PSS split by
what is mapped (heap, anonymous, the shared LMDB store, libraries).

    scripts/memory-by-mapping.py [N] [BINDIR]     default 2000 build/bin
"""
import collections
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402

n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
bindir = sys.argv[2] if len(sys.argv) > 2 else os.path.join(bench.ROOT, "build", "bin")
d = tempfile.mkdtemp(prefix="tt-memmap-")
bench.scenario(f"{d}/sc.json", n, 3)
p = subprocess.Popen([f"{bindir}/coordinator", "run", f"{d}/sc.json", "--out", f"{d}/out",
                      "--quiet", "--max-concurrency", str(n), "--slots", str(n)],
                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def kind(name):
    if name.endswith("data.mdb") or name.endswith("lock.mdb"):
        return os.path.basename(name)
    return "libraries" if name.startswith("/") else name


best = (0, {})
while p.poll() is None:
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read()
            if b"agentd" not in cmd or d.encode() not in cmd:
                continue
            agg, cur = collections.Counter(), None
            with open(f"/proc/{pid}/smaps") as f:
                for line in f:
                    if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                        parts = line.split(maxsplit=5)
                        cur = kind(parts[5].strip() if len(parts) > 5 else "[anon]")
                    elif line.startswith("Pss:"):
                        agg[cur] += int(line.split()[1])
            if sum(agg.values()) > best[0]:
                best = (sum(agg.values()), agg)
        except OSError:
            pass
    time.sleep(0.5)
err = p.stderr.read().decode()
if p.returncode != 0:
    sys.exit(f"the run failed ({p.returncode}):\n{err[-2000:]}")
total, agg = best
print(f"{n} agents in one agentd: peak PSS {total} kB, {total / n:.1f} kB per agent")
for k, v in sorted(agg.items(), key=lambda kv: -kv[1]):
    if v:
        print(f"  {k:12s} {v:9d} kB  {v / n:6.1f} kB per agent")
subprocess.run(["rm", "-rf", d])
