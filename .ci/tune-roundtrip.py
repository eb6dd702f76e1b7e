"""Consumer-side checks of a `rulelint tune` pack (run by .ci/tune-roundtrip.sh).

Usage: tune-roundtrip.py RULES_DIR PACK_DIR SCHEMA

* Sigma: each meta-filter in PACK/sigma is loaded by pySigma together with
  the rules it names (as `sigma convert --filter` does) and converted with
  the Splunk backend; each rule's query must change, and the change must
  be the filter's exclusion ANDed as a NOT.
* Elastic: each line of PACK/elastic/*.ndjson must validate against the
  exception-list import schema (tests/data).

Prints one line of counts per format and exits 1 on any failure.
"""

import glob
import json
import os
import sys

import yaml
from jsonschema import Draft202012Validator
from sigma.backends.splunk import SplunkBackend
from sigma.collection import SigmaCollection


def rule_files(root):
    """Sigma rule id -> file, for every YAML file under root."""
    out = {}
    for path in sorted(glob.glob(os.path.join(root, "**", "*.yml"), recursive=True)):
        try:
            with open(path, encoding="utf-8") as fd:
                for doc in yaml.safe_load_all(fd):
                    if isinstance(doc, dict) and isinstance(doc.get("id"), str):
                        out.setdefault(doc["id"], path)
        except Exception:  # not for us to judge: rulelint reports such files
            continue
    return out


def queries(files):
    backend = SplunkBackend()
    col = SigmaCollection.load_ruleset(files)
    out = {}
    for rule in col.rules:
        try:
            out[str(rule.id)] = backend.convert_rule(rule)
        except Exception as e:  # noqa: BLE001 - counted, reported below
            out[str(rule.id)] = e
    return out


def check_sigma(rules_dir, pack):
    ids = rule_files(rules_dir)
    filters = sorted(glob.glob(os.path.join(pack, "sigma", "mf_*.yml")))
    ok = unconvertible = 0
    failures = []
    for mf in filters:
        with open(mf, encoding="utf-8") as fd:
            doc = yaml.safe_load(fd)
        names = doc["filter"]["rules"]
        if doc["filter"]["condition"].split()[0] != "not":
            failures.append(f"{mf}: the condition is not a negation")
            continue
        files = sorted({ids[i] for i in names if i in ids})
        missing = [i for i in names if i not in ids]
        if missing:
            failures.append(f"{mf}: no rule file has id {', '.join(missing)}")
            continue
        try:
            plain = queries(files)
            filtered = queries(files + [mf])
        except Exception as e:  # noqa: BLE001
            failures.append(f"{mf}: pySigma does not load it: {e}")
            continue
        for rid in names:
            before, after = plain.get(rid), filtered.get(rid)
            if isinstance(before, Exception) or before is None:
                unconvertible += 1
                continue
            if isinstance(after, Exception):
                failures.append(f"{mf}: rule {rid} no longer converts: {after}")
                continue
            if before == after:
                failures.append(f"{mf}: the filter did not change rule {rid}")
                continue
            # The exclusion is ANDed as a NOT: each query gains one.
            if len(after) != len(before) or not all(
                a.count("NOT") > b.count("NOT") for a, b in zip(after, before)
            ):
                failures.append(f"{mf}: rule {rid}: the exclusion is not ANDed NOT: {after}")
                continue
            ok += 1
    print(
        f"sigma: {len(filters)} meta-filters, {ok} rule conversions with the exclusion ANDed NOT, "
        f"{unconvertible} rules the backend cannot convert unfiltered, {len(failures)} failures"
    )
    return failures


def check_elastic(pack, schema_path):
    with open(schema_path, encoding="utf-8") as fd:
        validator = Draft202012Validator(json.load(fd))
    files = sorted(glob.glob(os.path.join(pack, "elastic", "*.ndjson")))
    lines = items = 0
    failures = []
    for path in files:
        with open(path, encoding="utf-8") as fd:
            for n, line in enumerate(fd, 1):
                lines += 1
                obj = json.loads(line)
                items += "item_id" in obj
                for err in validator.iter_errors(obj):
                    failures.append(f"{path}:{n}: {err.message}")
    print(
        f"elastic: {len(files)} exception lists, {items} items, {lines} lines valid against the schema: "
        f"{len(failures) == 0}, {len(failures)} failures"
    )
    return failures


def main():
    rules_dir, pack, schema = sys.argv[1:4]
    failures = check_sigma(rules_dir, pack) + check_elastic(pack, schema)
    for f in failures[:50]:
        print("FAIL", f)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
