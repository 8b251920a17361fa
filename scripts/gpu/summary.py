"""Records one stage of scripts/gpu/run_all.sh in summary.json (rewritten whole, atomically):
  summary.py SUMMARY NAME STATUS RC T0 LOG     append a stage
  summary.py SUMMARY --total SECONDS           the whole run's wall time"""
import json
import os
import sys
import time


def main():
    path = sys.argv[1]
    doc = json.load(open(path))
    if sys.argv[2] == "--total":
        doc["total_seconds"] = int(sys.argv[3])
        doc["failed"] = [s["stage"] for s in doc["stages"] if s["status"] in ("failed", "timeout")]
    else:
        name, status, rc, t0, log = sys.argv[2:7]
        lines = [l.rstrip() for l in open(log, errors="replace")] if os.path.exists(log) else []
        tail = [l for l in lines if l.strip()][-3:]
        doc["stages"].append({"stage": name, "status": status, "rc": int(rc),
                              "seconds": round(time.time() - float(t0), 1), "log": os.path.basename(log),
                              "last_lines": tail})
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)


if __name__ == "__main__":
    main()
