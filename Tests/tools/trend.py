#!/usr/bin/env python3
"""Resource trends of the box's processes, shared by Tests/chaos.py and Tests/soak.sh.

As a library: `sample(pid)` reads one process's open file descriptors (/proc/PID/fd), threads and
resident set (/proc/PID/status: Threads, VmRSS) and `trend(times, values)` fits a least-squares
line and says how much it grew over the sampled span.

As a command (soak): `trend.py CSV [--from-fraction 0.5] [--fd-tolerance N] [--thread-tolerance N]
[--rss-tolerance-kib N]` reads the soak's CSV (epoch,elapsed_s,process,pid,rss_kib,fds,threads),
fits each process's series over the part of the run after `--from-fraction` of it, prints a JSON
summary and exits 1 naming every process and resource whose fitted growth over that span exceeds
its tolerance."""
import argparse
import csv
import json
import os
import sys

# Growth allowed over the fitted span before a trend counts as a leak.
DEFAULT_FD_TOLERANCE = 1.0  # file descriptors
DEFAULT_THREAD_TOLERANCE = 1.0  # threads
DEFAULT_RSS_TOLERANCE_KIB = 2048.0  # KiB


def sample(pid):
    """(fds, threads, rss_kib) of a live process, or None when it is gone."""
    try:
        fds = len(os.listdir(f"/proc/{pid}/fd"))
        threads = rss = None
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("Threads:"):
                    threads = int(line.split()[1])
                elif line.startswith("VmRSS:"):
                    rss = int(line.split()[1])  # kB as the kernel writes it (KiB)
        if threads is None or rss is None:
            return None
        return fds, threads, rss
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None


def slope(xs, ys):
    """Least-squares slope of ys over xs (units of y per unit of x); 0 for fewer than two points."""
    n = len(xs)
    if n < 2:
        return 0.0
    mx = sum(xs) / n
    my = sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return 0.0
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx


def trend(times, values, tolerance):
    """First/last value, fitted slope per hour and fitted growth over the span; `grew` when the
    growth exceeds `tolerance`."""
    s = slope(times, values)
    span = (times[-1] - times[0]) if len(times) > 1 else 0.0
    growth = s * span
    return {
        "first": values[0] if values else None,
        "last": values[-1] if values else None,
        "min": min(values) if values else None,
        "max": max(values) if values else None,
        "slopePerHour": round(s * 3600, 3),
        "fittedGrowth": round(growth, 3),
        "tolerance": tolerance,
        "samples": len(values),
        "grew": growth > tolerance,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("csv")
    ap.add_argument("--from-fraction", type=float, default=0.5, help="fit only samples after this fraction of the run")
    ap.add_argument("--fd-tolerance", type=float, default=DEFAULT_FD_TOLERANCE)
    ap.add_argument("--thread-tolerance", type=float, default=DEFAULT_THREAD_TOLERANCE)
    ap.add_argument("--rss-tolerance-kib", type=float, default=DEFAULT_RSS_TOLERANCE_KIB)
    a = ap.parse_args()
    series = {}
    with open(a.csv) as f:
        for row in csv.DictReader(f):
            series.setdefault(row["process"], []).append(row)
    if not series:
        print(json.dumps({"result": "fail", "failures": ["no samples in " + a.csv]}))
        return 1
    end = max(float(r["elapsed_s"]) for rows in series.values() for r in rows)
    start = end * a.from_fraction
    summary = {}
    failures = []
    for name, rows in sorted(series.items()):
        pids = sorted({r["pid"] for r in rows})
        if len(pids) > 1:
            failures.append(f"{name}: restarted during the soak (pids {', '.join(pids)})")
        part = [r for r in rows if float(r["elapsed_s"]) >= start]
        t = [float(r["elapsed_s"]) for r in part]
        entry = {"pids": pids}
        for key, tol in (("fds", a.fd_tolerance), ("threads", a.thread_tolerance), ("rss_kib", a.rss_tolerance_kib)):
            v = [float(r[key]) for r in part]
            entry[key] = trend(t, v, tol) if v else None
            if v and entry[key]["grew"]:
                failures.append(f"{name}: {key} grew {entry[key]['fittedGrowth']} over the second part "
                                f"(slope {entry[key]['slopePerHour']}/h, tolerance {tol})")
        summary[name] = entry
    out = {"result": "fail" if failures else "pass", "failures": failures, "secondsSampled": end,
           "fittedFromSecond": start, "processes": summary}
    print(json.dumps(out, indent=1))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
