#!/usr/bin/env python3
"""RL201 findings over the shared corpora: counts, stratified samples and
re-judging of a judged sample.

  rl201.py counts  [--bin B] [--corpus DIR]
  rl201.py sample  [--bin B] [--corpus DIR] [--per-pattern N] [--seed S]
                   [--exclude judged.tsv ...]
  rl201.py rejudge judged.tsv [--bin B] [--corpus DIR]

--corpora names the folders under --corpus to read (default
sigma,elastic,splunk); the eighth sample reads a `splunk-content` folder
holding security_content's detections outside `endpoint/` (see README.md).

A finding is identified by (corpus-relative path, rule id, pattern, field,
value). `sample` prints TSV rows with empty verdict/reason columns, to be
filled in by hand; `rejudge` says which judged findings still come back.
"""
import argparse
import collections
import hashlib
import json
import os
import subprocess
import sys

CORPORA = ("sigma", "elastic", "splunk")
COLUMNS = ("path", "rule_id", "pattern", "field", "value", "severity", "verdict", "reason")


def run(binary, corpus):
    out = {}
    for c in CORPORA:
        root = os.path.join(corpus, c)
        if not os.path.isdir(root):
            sys.exit(f"corpus missing: {root}")
        p = subprocess.run(
            [binary, "check", "--isolated", "--format", "json", root],
            capture_output=True, text=True, check=False,
        )
        if p.returncode not in (0, 1, 2) or not p.stdout.startswith("{"):
            sys.exit(f"{binary} failed on {root} (exit {p.returncode}): {p.stderr[:500]}")
        out[c] = (json.loads(p.stdout), root)
    return out


def field_value(message):
    # "`{field}` matches `{value}`: ..." (the partial-coverage message names
    # the excluded field only).
    parts = message.split("`")
    if len(parts) >= 4 and parts[2].startswith(" matches "):
        return parts[1], parts[3]
    if len(parts) >= 2:
        return parts[1], ""
    return "", ""


def findings(results):
    rows = []
    for c, (report, root) in results.items():
        for d in report["diagnostics"]:
            if d["code"] != "RL201":
                continue
            rel = os.path.relpath(d["file"], root)
            field, value = field_value(d["message"])
            rid = (d.get("rule") or {}).get("id") or ""
            rows.append({
                "corpus": c, "path": f"{c}/{rel}", "rule_id": rid,
                "pattern": d["pattern"], "field": field, "value": value,
                "severity": d["severity"],
            })
    return rows


def key(r):
    return (r["path"], r["rule_id"], r["pattern"], r["field"], r["value"])


def read_tsv(path):
    with open(path, encoding="utf-8") as f:
        lines = [l.rstrip("\n") for l in f if l.strip() and not l.startswith("#")]
    head = lines[0].split("\t")
    return [dict(zip(head, l.split("\t"))) for l in lines[1:]]


def cmd_counts(a):
    res = run(a.bin, a.corpus)
    rows = findings(res)
    print("corpus\trules\tfindings\twarning\tinfo\trules_with_warning\tshare")
    for c in CORPORA:
        rep, _ = res[c]
        mine = [r for r in rows if r["corpus"] == c]
        warned = {(r["path"], r["rule_id"]) for r in mine if r["severity"] == "warning"}
        n = rep["summary"]["rules"]
        sev = collections.Counter(r["severity"] for r in mine)
        print(f"{c}\t{n}\t{len(mine)}\t{sev['warning']}\t{sev['info']}\t{len(warned)}\t{len(warned) / max(n, 1):.1%}")
    print()
    print("pattern\t" + "\t".join(CORPORA) + "\ttotal\twarning")
    per = collections.defaultdict(collections.Counter)
    warn = collections.Counter()
    for r in rows:
        per[r["pattern"]][r["corpus"]] += 1
        warn[r["pattern"]] += r["severity"] == "warning"
    for p in sorted(per, key=lambda p: -sum(per[p].values())):
        print(p + "\t" + "\t".join(str(per[p][c]) for c in CORPORA)
              + f"\t{sum(per[p].values())}\t{warn[p]}")


def cmd_sample(a):
    rows = findings(run(a.bin, a.corpus))
    seen = set()
    for t in a.exclude:
        seen |= {key(r) for r in read_tsv(t)}
        seen |= {(r["path"], r["rule_id"], r["pattern"]) for r in read_tsv(t)}
    by_pattern = collections.defaultdict(list)
    for r in rows:
        if key(r) in seen or (r["path"], r["rule_id"], r["pattern"]) in seen:
            continue
        by_pattern[r["pattern"]].append(r)
    print("\t".join(COLUMNS))
    for p in sorted(by_pattern):
        # Deterministic shuffle, then round-robin over the corpora so each
        # pattern's picks spread across the languages it fires in.
        rs = sorted(by_pattern[p], key=lambda r: hashlib.sha256(
            (a.seed + "|".join(key(r))).encode()).hexdigest())
        queues = {c: [r for r in rs if r["corpus"] == c] for c in CORPORA}
        picked = []
        while len(picked) < a.per_pattern and any(queues.values()):
            for c in CORPORA:
                if queues[c] and len(picked) < a.per_pattern:
                    picked.append(queues[c].pop(0))
        for r in picked:
            print("\t".join(r.get(k, "") for k in COLUMNS))


def cmd_rejudge(a):
    rows = findings(run(a.bin, a.corpus))
    now = {key(r): r for r in rows}
    judged = read_tsv(a.tsv)
    stats = collections.Counter()
    for j in judged:
        back = key(j) in now
        stats[(j["verdict"], back)] += 1
    total = len(judged)
    print(f"judged\t{total}")
    for v in ("useful", "weak", "wrong"):
        n = sum(c for (vv, _), c in stats.items() if vv == v)
        kept = stats[(v, True)]
        print(f"{v}\t{n} ({n / max(total, 1):.0%})\tstill reported\t{kept}\tgone\t{n - kept}")


def main():
    global CORPORA
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=("counts", "sample", "rejudge"))
    ap.add_argument("tsv", nargs="?")
    ap.add_argument("--bin", default="target/release/rulelint")
    ap.add_argument("--corpus", default=os.environ.get("RULELINT_CORPUS", "/work/shared/corpus"))
    ap.add_argument("--per-pattern", type=int, default=3)
    ap.add_argument("--seed", default="before")
    ap.add_argument("--exclude", action="append", default=[])
    ap.add_argument("--corpora", default=",".join(CORPORA),
                    help="comma-separated folders under --corpus (default: sigma,elastic,splunk)")
    a = ap.parse_args()
    CORPORA = tuple(c for c in a.corpora.split(",") if c)
    {"counts": cmd_counts, "sample": cmd_sample, "rejudge": cmd_rejudge}[a.cmd](a)


if __name__ == "__main__":
    main()
