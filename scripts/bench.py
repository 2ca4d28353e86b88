#!/usr/bin/env python3
"""Troupe benchmarks: distance to the LLM-latency floor, throughput, tokens, memory.

Run through scripts/bench.sh (which builds in Release first). Every figure is
the median of several runs, with its spread (min..max); nothing here asserts.

  1. step efficiency: wall time of a world step / the floor, where the floor is
     fakellm's latency x the longest chain of model calls one agent made in
     that step (at 10, 100, 1,000 agents; 100 ms latency; one agentd per agent,
     and 1,000 agents in four agentds of 250 slots)
  2. framework throughput with the offline model: agent-steps/s at 100 and
     1,000 agents (one agentd per agent) and 1,000 with --slots
  3. replay throughput: agent-steps/s replaying a recorded 100 x 10 log
  4. prompt tokens per agent-step once agents remember 30+ events
  5. peak RSS per agentd, per agent in slot mode, coordinator at 1,000 agents
  6. time to start and register 1,000 agentds (one agent each), until all are ready
  7. at the model's pace over HTTP: 10,000 agents at 2 s latency and 200 agents
     with default options (no flags, no config) at 100 ms: step wall / floor,
     Troupe's own CPU per agent-step (coordinator + agentds) and fakellm's CPU
     per request (so that fakellm is seen not to be what is measured)
"""
import argparse
import json
import os
import platform
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
AGENTS = ["lisa_carter", "oscar_ramos", "marcos_oliveira", "amara_okafor"]


def scenario(path, n, steps):
    """n agents from the example personas (copies), a broadcast at step 1."""
    per, extra = divmod(n, len(AGENTS))
    agents = []
    for i, a in enumerate(AGENTS):
        count = per + (1 if i < extra else 0)
        if count:
            agents.append({"file": f"{ROOT}/examples/agents/{a}.agent.json", "count": count})
    doc = {"name": f"bench {n} agents", "seed": 7, "world": {"step": "PT10M"},
           "agents": agents, "steps": steps, "faculties": ["recall"],
           "events": [{"step": 1, "source": "Host", "broadcast":
                       "Welcome. Today we discuss a new bus line through the neighbourhood: "
                       "would you use it, and what worries you about it?"}]}
    with open(path, "w") as f:
        json.dump(doc, f)


class RssSampler(threading.Thread):
    """Peak memory (kB) per process whose command line mentions a marker: RSS,
    PSS (shared pages divided among the processes that map them, which is
    what one more agentd really costs when a hundred of them share libraries)
    and the anonymous part of PSS (heap and stacks: what is not a mapped file,
    such as the agents' LMDB memory files)."""

    def __init__(self, marker, coordinator_pid):
        super().__init__(daemon=True)
        self.marker, self.cpid, self.stop = marker, coordinator_pid, False
        self.peak, self.peak_pss, self.peak_anon = {}, {}, {}

    def run(self):
        while not self.stop:
            began = time.monotonic()
            self.sweep()
            # smaps_rollup walks every page table entry: at 100,000 agents a
            # sweep takes a good part of a second, so sample less often
            # rather than take a core from the run being measured
            time.sleep(max(0.1, 9 * (time.monotonic() - began)))

    def sweep(self):
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
                if self.marker not in cmd and int(pid) != self.cpid:
                    continue
                with open(f"/proc/{pid}/smaps_rollup") as f:
                    vals = {l.split(":")[0]: int(l.split()[1]) for l in f if l.endswith("kB\n")}
                rss, pss, anon = vals["Rss"], vals["Pss"], vals.get("Pss_Anon", 0)
            except (OSError, StopIteration, ValueError, KeyError, IndexError):
                continue
            kind = "coordinator" if int(pid) == self.cpid else "agentd"
            key = (kind, int(pid))
            self.peak[key] = max(self.peak.get(key, 0), rss)
            self.peak_pss[key] = max(self.peak_pss.get(key, 0), pss)
            self.peak_anon[key] = max(self.peak_anon.get(key, 0), anon)


class Bench:
    def __init__(self, bindir, quick):
        self.bin, self.quick = bindir, quick
        self.tmp = tempfile.mkdtemp(prefix="tt-bench-")
        self.fake = None

    def coord(self, *args, env=None, sample=False, out=None):
        cmd = [f"{self.bin}/coordinator", *args]
        e = dict(os.environ, **(env or {}))
        p = subprocess.Popen(cmd, env=e, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        sampler = RssSampler(out or "\0none", p.pid) if sample else None
        if sampler:
            sampler.start()
        _, err = p.communicate()
        if sampler:
            sampler.stop = True
            sampler.join()
        if p.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{err.decode()[-2000:]}")
        return (sampler.peak, sampler.peak_pss, sampler.peak_anon) if sampler else None

    def fakellm(self, latency_ms):
        self.stop_fakellm()
        self.fake = subprocess.Popen([f"{self.bin}/fakellm", "--port", "0", "--latency-ms",
                                      str(latency_ms), "--max-connections", "16384", "--quiet"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        port = self.fake.stdout.readline().decode().strip()
        return f"http://127.0.0.1:{port}/v1"

    def stop_fakellm(self):
        if self.fake:
            self.fake.send_signal(signal.SIGTERM)
            self.fake.wait()
            self.fake = None

    def run(self, n, steps, tag, *extra, env=None, sample=False):
        sc = f"{self.tmp}/{tag}.json"
        out = f"{self.tmp}/{tag}"
        shutil.rmtree(out, ignore_errors=True)
        scenario(sc, n, steps)
        peak = self.coord("run", sc, "--out", out, "--quiet", "--max-concurrency", str(n), *extra,
                          env=env, sample=sample, out=out)
        with open(f"{out}/results.json") as f:
            results = json.load(f)
        return out, results, peak

    def run_defaults(self, n, steps, tag):
        """A run with default options (no --slots, no --max-concurrency, no
        config), sampled: (results, peak kB of all processes summed, largest
        record in the log in bytes). Memory is PSS: the slot agentds of a host map
        one shared memory store, which RSS would count once per agentd."""
        sc = f"{self.tmp}/{tag}.json"
        out = f"{self.tmp}/{tag}"
        shutil.rmtree(out, ignore_errors=True)
        scenario(sc, n, steps)
        _, pss, _ = self.coord("run", sc, "--out", out, "--quiet", sample=True, out=out)
        with open(f"{out}/results.json") as f:
            results = json.load(f)
        return results, sum(pss.values()), largest_record(f"{out}/sim.tlog")

    def dump(self, log):
        out = subprocess.run([f"{self.bin}/coordinator", "log", "dump", log],
                             capture_output=True, check=True).stdout.decode()
        return [json.loads(l) for l in out.splitlines()]


def largest_record(path):
    """Bytes of the largest frame in a log (16-byte header, then frames of a
    12-byte head -- magic, length, CRC -- and the payload)."""
    biggest = 0
    with open(path, "rb") as f:
        f.seek(16)
        while True:
            head = f.read(12)
            if len(head) < 12:
                return biggest
            length = int.from_bytes(head[4:8], "little")
            biggest = max(biggest, 12 + length)
            f.seek(length, 1)


def step_s(results):
    walls = [s["wall_ms"] for s in results["steps"]]
    return statistics.median(walls) / 1000.0 if walls else None


def spread(values):
    values = [v for v in values if v is not None]
    if not values:
        return {"median": None}
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "runs": len(values)}


def floor_ratio(b, out, res, latency_ms):
    """Median over a run's steps of wall / floor, the floor being the latency
    x the longest chain of model calls one agent made in that step."""
    walls = {s["step"]: s["wall_ms"] for s in res["steps"]}
    per_step = []
    for rec in b.dump(f"{out}/sim.tlog"):
        if rec["kind"] != "step":
            continue
        step = rec["body"]["step"]["step"]
        chain = max((sum(1 for x in a.get("exchanges", []) if not x.get("replayed"))
                     for a in rec["telemetry"].get("agents", [])), default=0)
        if chain:
            per_step.append(walls[step] / (chain * latency_ms))
    return statistics.median(per_step) if per_step else None


def step_efficiency(b, n, latency_ms, runs, *extra):
    """Median over runs of the median over steps of wall / floor."""
    url = b.fakellm(latency_ms)
    ratios = []
    for r in range(runs):
        out, res, _ = b.run(n, 4, f"eff{n}-{r}", "--llm", "openai", *extra,
                            env={"OPENAI_BASE_URL": url})
        ratios.append(floor_ratio(b, out, res, latency_ms))
    b.stop_fakellm()
    return spread(ratios)


def proc_cpu_s(pid):
    """CPU seconds (user + system) a live process has used."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def http_pace(b, n, steps, latency_ms, defaults):
    """n agents against fakellm over HTTP: wall / floor, Troupe's CPU seconds
    per agent-step (the coordinator and the agentds it reaped) and fakellm's
    CPU milliseconds per request. defaults: no option beyond --llm openai."""
    url = b.fakellm(latency_ms)
    sc, out = f"{b.tmp}/pace{n}.json", f"{b.tmp}/pace{n}"
    shutil.rmtree(out, ignore_errors=True)
    scenario(sc, n, steps)
    extra = [] if defaults else ["--max-concurrency", str(n)]
    fake_before = proc_cpu_s(b.fake.pid)
    mine = resource.getrusage(resource.RUSAGE_CHILDREN)
    b.coord("run", sc, "--out", out, "--quiet", "--llm", "openai", *extra,
            env={"OPENAI_BASE_URL": url})
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    fake_cpu = proc_cpu_s(b.fake.pid) - fake_before
    with urllib.request.urlopen(f"{url[:-3]}/stats") as f:
        requests = json.load(f)["requests"]
    b.stop_fakellm()
    with open(f"{out}/results.json") as f:
        res = json.load(f)
    cpu = (after.ru_utime - mine.ru_utime) + (after.ru_stime - mine.ru_stime)
    return {"ratio": floor_ratio(b, out, res, latency_ms), "step_s": step_s(res),
            "cpu_ms_per_agent_step": 1000.0 * cpu / max(1, res["agent_steps"]),
            "fakellm_cpu_ms_per_request": 1000.0 * fake_cpu / max(1, requests),
            "requests": requests}


def throughput(results, n):
    """Agent-steps per second over the steps after the first (warm)."""
    walls = [s["wall_ms"] for s in results["steps"]][1:]
    return n * len(walls) / (sum(walls) / 1000.0) if sum(walls) else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=f"{ROOT}/build-release/bin")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default=f"{ROOT}/bench")
    args = ap.parse_args()
    quick = args.quick
    b = Bench(args.bin, quick)
    runs = 3 if quick else 5
    started = time.time()
    res = {"quick": quick}
    try:
        res["step_efficiency"] = {}
        for n in ([10, 100] if quick else [10, 100, 1000]):
            # one agentd per agent, said outright: by default a population
            # beyond a few hundred gets slot agentds
            eff = step_efficiency(b, n, 100, 1 if n >= 1000 else runs, "--slots", "1")
            res["step_efficiency"][str(n)] = eff["median"]
            res.setdefault("step_efficiency_spread", {})[str(n)] = eff
        # the way to run a large population on one machine: four agentds with slots
        res["step_efficiency_slots"], res["step_efficiency_slots_spread"] = {}, {}
        for n in ([1000] if quick else [100, 1000]):
            eff = step_efficiency(b, n, 100, 1 if quick else 3, "--slots", str(n // 4))
            res["step_efficiency_slots"][str(n)] = eff["median"]
            res["step_efficiency_slots_spread"][str(n)] = eff

        tp = {}
        def agentds(peak):
            return [v for (k, _), v in peak.items() if k == "agentd"]

        for r in range(runs):
            _, r100, (rss, pss, _) = b.run(100, 10, f"tp100-{r}", "--slots", "1", sample=True)
            tp.setdefault("100", []).append(throughput(r100, 100))
            tp.setdefault("rss_agentd", []).append(statistics.median(agentds(rss)))
            tp.setdefault("pss_agentd", []).append(statistics.median(agentds(pss)))
        for r in range(1):
            _, r1k, (rss, pss, anon) = b.run(1000, 10, f"tpslots-{r}", "--slots", "250",
                                             sample=True)
            tp.setdefault("1000_slots", []).append(throughput(r1k, 1000))
            tp.setdefault("rss_slot", []).append(sum(agentds(rss)) / 1000.0)
            tp.setdefault("pss_slot", []).append(sum(agentds(pss)) / 1000.0)
            tp.setdefault("anon_slot", []).append(sum(agentds(anon)) / 1000.0)
        if not quick:
            _, r1k, (rss, _, _) = b.run(1000, 10, "tp1000", "--slots", "1", sample=True)
            tp["1000"] = [throughput(r1k, 1000)]
            tp["coord_rss_1000"] = [max(v for (k, _), v in rss.items() if k == "coordinator")]
            # start-up on its own, unsampled: reading 1,000 processes' smaps
            # over and over takes the CPU the agentds start with
            for r in range(runs):
                _, rs, _ = b.run(1000, 1, f"start1000-{r}", "--slots", "1")
                tp.setdefault("start_1000", []).append(
                    int(rs.get("notes", {}).get("startup_ms", "0")) / 1000.0)
        res["agent_steps_per_s_100"] = spread(tp["100"])["median"]
        res["agent_steps_per_s_1000_slots"] = spread(tp["1000_slots"])["median"]
        res["agent_steps_per_s"] = spread(tp.get("1000", tp["1000_slots"]))["median"]
        res["agent_steps_per_s_mode"] = ("1000 agents, one agentd each" if "1000" in tp
                                         else "1000 agents, --slots 250 (quick)")
        # the headline memory figures are PSS: RSS counts every shared library
        # page in full in every process (both are in the table and the JSON)
        res["rss_kb_per_agentd"] = spread(tp["pss_agentd"])["median"]
        res["rss_kb_per_slot_agent"] = spread(tp["pss_slot"])["median"]
        res["rss_raw_kb_per_agentd"] = spread(tp["rss_agentd"])["median"]
        res["rss_raw_kb_per_slot_agent"] = spread(tp["rss_slot"])["median"]
        res["anon_kb_per_slot_agent"] = spread(tp["anon_slot"])["median"]
        res["start_1000_s"] = spread(tp.get("start_1000", []))["median"]
        res["coordinator_rss_kb_1000"] = spread(tp.get("coord_rss_1000", []))["median"]
        res["throughput_spread"] = {k: spread(v) for k, v in tp.items()}

        # scale with default options: 10,000 and 100,000 agents, offline, 5 steps
        if not quick:
            for n in (10000, 100000):
                try:
                    r, peak_kb, big = b.run_defaults(n, 5, f"scale{n}")
                    res[f"scale_{n}"] = {"step_s": step_s(r), "peak_kb_all": peak_kb,
                                         "largest_record_bytes": big, "completed": True}
                except RuntimeError as e:
                    res[f"scale_{n}"] = {"completed": False, "error": str(e)[-500:]}

        # at the model's pace over HTTP
        res["pace_200_defaults"] = http_pace(b, 200, 4, 100, defaults=True)
        if not quick:
            res["pace_10000"] = http_pace(b, 10000, 3, 2000, defaults=False)

        # replay a recorded 100 x 10 log
        rep = []
        for r in range(runs):
            out, _, _ = b.run(100, 10, f"rec-{r}")
            sc = f"{b.tmp}/rec-{r}.json"
            shutil.rmtree(f"{out}-replay", ignore_errors=True)
            b.coord("run", sc, "--out", f"{out}-replay", "--quiet", "--max-concurrency", "100",
                    "--replay", f"{out}/sim.tlog")
            with open(f"{out}-replay/results.json") as f:
                rr = json.load(f)
            walls = [s["wall_ms"] for s in rr["steps"]]
            rep.append(100 * len(walls) / (sum(walls) / 1000.0))
        res["replay_agent_steps_per_s"] = spread(rep)["median"]
        res["replay_spread"] = spread(rep)

        # prompt tokens per agent-step once agents remember 30+ events
        url = b.fakellm(0)
        out, _, _ = b.run(10, 12, "tokens", "--llm", "openai", env={"OPENAI_BASE_URL": url})
        b.stop_fakellm()
        last = [r for r in b.dump(f"{out}/sim.tlog") if r["kind"] == "step"][-1]
        turn_tokens = []
        for a, t in zip(last["body"]["step"]["agents"], last["telemetry"]["agents"]):
            for x, xt in zip(a.get("exchanges", []), t.get("exchanges", [])):
                if x.get("purpose") == "turn":
                    turn_tokens.append(xt.get("prompt_tokens", 0))
        res["prompt_tokens_per_agent_step"] = statistics.mean(turn_tokens) if turn_tokens else None
        res["tinytroupe_prompt_tokens_per_agent_step"] = 15500
    finally:
        b.stop_fakellm()
        shutil.rmtree(b.tmp, ignore_errors=True)

    res["machine"] = {"cpus": os.cpu_count(), "cpu": platform.processor() or platform.machine(),
                      "kernel": platform.release(),
                      "mem_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
                                      / 2**30, 1)}
    try:
        with open("/proc/cpuinfo") as f:
            res["machine"]["cpu"] = next(l.split(":", 1)[1].strip() for l in f
                                         if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    res["commit"] = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                                   capture_output=True).stdout.decode().strip()
    res["seconds"] = round(time.time() - started, 1)
    os.makedirs(args.out, exist_ok=True)
    with open(f"{args.out}/results.json", "w") as f:
        json.dump(res, f, indent=2)
    table = render(res)
    print(table)
    if not quick:
        update_benchmarks_md(table)


def fmt(v, digits=2):
    return "n/a" if v is None else (f"{v:,.{digits}f}" if isinstance(v, float) else f"{v:,}")


def render(r):
    eff = r["step_efficiency"]
    s = r.get("step_efficiency_spread", {})
    lines = [f"Troupe benchmarks ({'quick' if r['quick'] else 'full'}; commit {r['commit']}; "
             f"{r['machine']['cpus']} CPUs, {r['machine']['cpu']})", "",
             "| measure | result | target |", "|---|---|---|"]
    for n in eff:
        sp = s.get(n, {})
        rng = f" ({fmt(sp.get('min'))}..{fmt(sp.get('max'))})" if sp.get("runs", 0) > 1 else ""
        target = {"100": "<= 1.10", "1000": "<= 1.50"}.get(n, "")
        lines.append(f"| step wall time / LLM floor, {n} agents, 100 ms | {fmt(eff[n])}{rng} | {target} |")
    for n, v in r.get("step_efficiency_slots", {}).items():
        sp = r["step_efficiency_slots_spread"][n]
        rng = f" ({fmt(sp.get('min'))}..{fmt(sp.get('max'))})" if sp.get("runs", 0) > 1 else ""
        target = {"100": "<= 1.10", "1000": "<= 1.50"}.get(n, "")
        lines.append(f"| step wall time / LLM floor, {n} agents in four agentds (--slots {int(n) // 4}), 100 ms | {fmt(v)}{rng} | {target} |")
    lines += [
        f"| agent-steps/s, offline, 100 agents (one agentd each) | {fmt(r['agent_steps_per_s_100'], 0)} | >= 20,000 |",
        f"| agent-steps/s, offline, 1,000 agents ({r['agent_steps_per_s_mode']}) | {fmt(r['agent_steps_per_s'], 0)} | >= 20,000 |",
        f"| agent-steps/s, offline, 1,000 agents, --slots 250 | {fmt(r['agent_steps_per_s_1000_slots'], 0)} | |",
        f"| agent-steps/s replaying a 100 x 10 log | {fmt(r['replay_agent_steps_per_s'], 0)} | as fast |",
        f"| prompt tokens per agent-step (30+ events remembered) | {fmt(r['prompt_tokens_per_agent_step'], 0)} | <= 4,000 (TinyTroupe ~15,500) |",
        f"| peak memory per agentd, PSS (RSS) kB | {fmt(r['rss_kb_per_agentd'], 0)} ({fmt(r['rss_raw_kb_per_agentd'], 0)}) | <= 4,096 |",
        f"| peak memory per agent with --slots 250, PSS (RSS) kB | {fmt(r['rss_kb_per_slot_agent'], 0)} ({fmt(r['rss_raw_kb_per_slot_agent'], 0)}) | <= 150 |",
        f"| of which heap and stacks (anonymous PSS), kB | {fmt(r.get('anon_kb_per_slot_agent'), 0)} | |",
        f"| coordinator RSS at 1,000 agents (kB) | {fmt(r['coordinator_rss_kb_1000'], 0)} | |",
        f"| start and register 1,000 agentds, one agent each, until all are ready (s) | {fmt(r['start_1000_s'])} | <= 3 |",
    ]
    for n in ("10000", "100000"):
        sc = r.get(f"scale_{n}")
        if not sc:
            continue
        if not sc.get("completed"):
            lines.append(f"| {int(n):,} agents, offline, 5 steps, default options | did not complete | completes |")
            continue
        peak_gb = sc["peak_kb_all"] / 2**20
        lines += [
            f"| {int(n):,} agents, offline, 5 steps, default options: median step (s) | {fmt(sc['step_s'])} | |",
            f"| {int(n):,} agents: peak memory of all processes (GB) | {fmt(peak_gb)} | <= 20 |",
            f"| {int(n):,} agents: largest record in the log (bytes) | {fmt(sc['largest_record_bytes'])} | |"]
    for key, what in (("pace_200_defaults", "200 agents, default options (no flags, no config), 100 ms"),
                      ("pace_10000", "10,000 agents, 2 s")):
        p = r.get(key)
        if p:
            lines += [
                f"| step wall time / LLM floor, {what} | {fmt(p['ratio'])} | <= 1.50 |",
                f"| {what}: Troupe's CPU per agent-step (coordinator + agentds, ms) | {fmt(p['cpu_ms_per_agent_step'])} | |",
                f"| {what}: fakellm's CPU per request (ms) | {fmt(p['fakellm_cpu_ms_per_request'])} | |"]
    s10, s100 = r.get("scale_10000", {}), r.get("scale_100000", {})
    if s10.get("step_s") and s100.get("step_s"):
        lines.append(f"| step time 100,000 / 10,000 agents | {fmt(s100['step_s'] / s10['step_s'])} | <= 12 |")
    lines += ["", f"({r['seconds']} s; details in bench/results.json)"]
    return "\n".join(lines)


def update_benchmarks_md(table):
    path = f"{ROOT}/BENCHMARKS.md"
    begin, end = "<!-- bench:begin -->", "<!-- bench:end -->"
    text = open(path).read() if os.path.exists(path) else f"# Benchmarks\n\n{begin}\n{end}\n"
    if begin not in text:
        text += f"\n{begin}\n{end}\n"
    head, rest = text.split(begin, 1)
    tail = rest.split(end, 1)[1]
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    with open(path, "w") as f:
        f.write(f"{head}{begin}\n## Latest full run ({stamp})\n\n{table}\n{end}{tail}")


if __name__ == "__main__":
    sys.exit(main())
