#!/usr/bin/env python3
"""Benign values that public rule sets already exclude, as evidence for the
catalogue's value sets.

Reads the rules of a corpus (Sigma YAML, Elastic TOML, Splunk YAML), finds
the values each rule compares in negative position (Sigma `filter*`
selections under a `not`, Elastic `not field : (...)` / `not field in (...)`,
Splunk `NOT field IN (...)` / `field!=value`), maps the field to its concept
through knowledge/fields.yml, and keeps the values that belong to one of the
sets defined below. For every set it writes knowledge/evidence/<set>.tsv:

    value <TAB> concept <TAB> field <TAB> corpus-relative rule file

one row per value and rule. `--print` shows, per set, the distinct values
with the number of rules excluding them: the candidates for the `values:`
of the set in knowledge/sets.yml, which the test suite checks against the
evidence file.

Usage:
    python3 scripts/benign_values.py [--corpus /work/shared/corpus] [--print]
"""

import argparse
import os
import re
import sys
import tomllib
from collections import defaultdict

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

# Set name -> (concepts, regular expression on the program name or value).
# Program concepts are compared by the last path component, lower-case.
PROGRAM_CONCEPTS = {
    "process.executable",
    "process.name",
    "process.parent.executable",
    "process.parent.name",
    "process.pe.original_file_name",
    "process.target.executable",
}
SETS = {
    "installer_programs": (
        PROGRAM_CONCEPTS,
        r"^(msiexec|trustedinstaller|tiworker|wusa|dism|dismhost|msiexec64|"
        r"setup|setuphost|installer|install|update|updater|"
        r"googleupdate|microsoftedgeupdate|onedrivesetup|onedrivestandaloneupdater|"
        r"officeclicktorun|officec2rclient|integrator|wuauclt|usoclient|musnotification|"
        r"musnotificationux|mousocoreworker|windowsupdatebox|ccmsetup|"
        r"[a-z0-9_.-]*(update|updater|installer|setup)[a-z0-9_.-]*)\.exe$",
    ),
    "backup_programs": (
        PROGRAM_CONCEPTS,
        r"^[a-z0-9_.-]*(veeam|commvault|acronis|wbengine|wbadmin|backup|"
        r"arcserve|netbackup|bpbkar|cvd|clbackup|rubrik|cohesity|datto|"
        r"veritas|storagecraft|macrium|reflect)[a-z0-9_.-]*\.exe$",
    ),
    "security_programs": (
        PROGRAM_CONCEPTS,
        r"^(msmpeng|mpcmdrun|mssense|sensecncproxy|senseir|sensendr|nissrv|"
        r"securityhealthservice|securityhealthsystray|mpdefendercoreservice|"
        r"smartscreen|csfalconservice|csfalconcontainer|sentinelagent|"
        r"sentinelservicehost|sentinelstaticengine|cb|cbdefense|repmgr|"
        r"cylancesvc|ekrn|egui|avp|avpui|kavfs|ccsvchst|sepwscsvc|"
        r"mcshield|mfemms|mfeesp|masvc|savservice|sophos[a-z0-9_.-]*|"
        r"hips[a-z0-9_.-]*|elastic-endpoint|elastic-agent|winlogbeat|"
        r"xagt|cyserver|cytool|taniumclient|[a-z0-9_.-]*defender[a-z0-9_.-]*|"
        r"[a-z0-9_.-]*(antivirus|antimalware|endpoint protection)[a-z0-9_.-]*)\.exe$",
    ),
    "rmm_programs": (
        PROGRAM_CONCEPTS,
        r"^(teamviewer[a-z0-9_.-]*|tv_w32|tv_x64|anydesk|screenconnect[a-z0-9_.-]*|"
        r"connectwise[a-z0-9_.-]*|splashtop[a-z0-9_.-]*|srserver|srservice|"
        r"ltsvc|ltsvcmon|lttray|kaseya[a-z0-9_.-]*|agentmon|ninjarmmagent|"
        r"rustdesk|remoteutilities|rutserv|rfusclient|meshagent|"
        r"aeroadmin|ammyy_admin|atera[a-z0-9_.-]*|dwrcs|dwagent|"
        r"logmein[a-z0-9_.-]*|lmiguardiansvc|gotoassist[a-z0-9_.-]*|"
        r"basupsrvc|bomgar-scc|beyondtrust[a-z0-9_.-]*|remotepc[a-z0-9_.-]*|"
        r"zohoassist|za_connect|vncserver|winvnc|tvnserver)\.exe$",
    ),
    # Scheduled tasks that updaters and vendor agents register: the task
    # name itself, compared as written (lower-case, wildcards removed).
    "updater_task_names": (
        {"task.name"},
        r"^\\?[a-z0-9 _.{}\\-]*(update|updater|onedrive|office|edge|google|adobe|"
        r"mozilla|firefox|chrome|dropbox|intel|nvidia|dell|lenovo|hp|microsoft)[^*]*$",
    ),
    # Browsers and Electron apps (knowledge/patterns/desktop.yml, browser-app).
    "browser_programs": (
        PROGRAM_CONCEPTS,
        r"^(chrome|msedge|firefox|brave|opera|opera_gx|vivaldi|iexplore|msedgewebview2|"
        r"chromium|discord|slack|teams|ms-teams|zoom|githubdesktop|whatsapp|signal)\.exe$",
    ),
    # IDEs that start interpreters and compilers (desktop.yml, developer-ide).
    "ide_programs": (
        PROGRAM_CONCEPTS,
        r"^(code|code - insiders|code-insiders|devenv|idea64|idea|pycharm64|pycharm|"
        r"webstorm64|rider64|goland64|clion64|phpstorm64|rubymine64|studio64|eclipse|"
        r"cursor|windsurf)\.exe$",
    ),
    # Linux package managers and their maintainer-script runners
    # (knowledge/patterns/unix-ops.yml, linux-package-maintenance).
    "package_manager_programs": (
        PROGRAM_CONCEPTS,
        r"^(dpkg|dpkg-preconfigure|dpkg-reconfigure|rpm|rpmdb|yum|dnf|dnf-automatic|apt|apt-get|"
        r"aptitude|packagekitd|unattended-upgrade|unattended-upgrades|zypper|pacman|apk|snapd)$",
    ),
    # macOS device-management agents (unix-ops.yml, macos-mdm).
    "mdm_programs": (
        PROGRAM_CONCEPTS,
        r"^(jamf|jamfdaemon|jamfmanagementservice|jamfagent|kandji-daemon|kandji-library-manager|"
        r"managedsoftwareupdate|munki[a-z0-9_.-]*|hubcli|intunemdmagent|mdmclient|"
        r"workspace one intelligent hub|addigy[a-z0-9_.-]*|mosyle[a-z0-9_.-]*)$",
    ),
}

# Sets whose values are compared as written, not by program name.
VALUE_SETS = {"updater_task_names"}


def load_fields():
    """raw field name (lower-case) -> concept, per schema."""
    with open(os.path.join(REPO, "knowledge", "fields.yml")) as f:
        doc = yaml.safe_load(f)
    out = {"sigma": {}, "ecs": {}, "splunk": {}}
    for concept, names in doc["concepts"].items():
        out["ecs"].setdefault(concept.lower(), concept)
        for schema in out:
            for n in names.get(schema) or []:
                out[schema].setdefault(n.lower(), concept)
    return out


def concept_of(fields, schema, raw):
    raw = raw.lower()
    c = fields[schema].get(raw)
    if c is None and schema == "splunk" and "." in raw:
        c = fields[schema].get(raw.rsplit(".", 1)[1])
    return c


def program(value):
    v = value.strip().strip("*").strip("'\"").lower()
    v = v.replace("/", "\\")
    return v.rsplit("\\", 1)[-1]


def sigma_values(doc):
    """(field, value) pairs of the `filter*` selections of a negated condition."""
    det = doc.get("detection") if isinstance(doc, dict) else None
    if not isinstance(det, dict):
        return
    cond = det.get("condition")
    conds = cond if isinstance(cond, list) else [cond]
    if not any(isinstance(c, str) and re.search(r"\bnot\b", c) for c in conds):
        return
    for name, sel in det.items():
        if name == "condition" or not name.lower().startswith("filter"):
            continue
        items = sel if isinstance(sel, list) else [sel]
        for item in items:
            if not isinstance(item, dict):
                continue
            for key, vals in item.items():
                field = str(key).split("|", 1)[0]
                for v in vals if isinstance(vals, list) else [vals]:
                    if isinstance(v, (str, int)):
                        yield field, str(v)


LIST = r"\((?P<list>[^()]*)\)"
ONE = r"(?P<one>\"(?:[^\"\\]|\\.)*\"|'[^']*'|[^\s()]+)"
ELASTIC_NEG = re.compile(
    r"\bnot\s+\(?\s*(?P<field>[A-Za-z_@][\w.@]*)\s*(?::|in~?|==|:~|like~?)\s*(?:" + LIST + "|" + ONE + ")",
    re.I,
)
SPLUNK_NEG = re.compile(
    r"\bNOT\s+\(?\s*(?P<field>[A-Za-z_][\w.]*)\s*(?:IN|=)\s*(?:" + LIST + "|" + ONE + ")"
)
SPLUNK_NE = re.compile(r"(?P<field>[A-Za-z_][\w.]*)\s*!=\s*" + ONE)


def split_list(text):
    return [x for x in re.findall(r"\"(?:[^\"\\]|\\.)*\"|'[^']*'|[^\s,]+", text)]


def unquote(v):
    v = v.strip()
    if len(v) >= 2 and v[0] == v[-1] and v[0] in "\"'":
        v = v[1:-1]
    return v.replace("\\\\", "\\")


def regex_values(pattern, text):
    for m in pattern.finditer(text):
        field = m.group("field")
        lst = m.groupdict().get("list")
        vals = split_list(lst) if lst is not None else [m.group("one")]
        for v in vals:
            yield field, unquote(v)


def walk(root, exts):
    for d, dirs, files in os.walk(root):
        dirs.sort()
        for f in sorted(files):
            if f.endswith(exts):
                yield os.path.join(d, f)


def corpus_values(corpus, fields):
    """Yield (schema, field, concept, value, relpath)."""
    sigma = os.path.join(corpus, "sigma")
    for path in walk(sigma, (".yml", ".yaml")):
        rel = os.path.relpath(path, corpus)
        try:
            with open(path, encoding="utf-8") as f:
                docs = list(yaml.safe_load_all(f))
        except Exception:
            continue
        for doc in docs:
            for field, v in sigma_values(doc):
                yield "sigma", field, concept_of(fields, "sigma", field), v, rel
    for path in walk(os.path.join(corpus, "elastic"), (".toml",)):
        rel = os.path.relpath(path, corpus)
        try:
            with open(path, "rb") as f:
                doc = tomllib.load(f)
        except Exception:
            continue
        q = (doc.get("rule") or {}).get("query") or ""
        for field, v in regex_values(ELASTIC_NEG, q):
            yield "ecs", field, concept_of(fields, "ecs", field), v, rel
    for path in walk(os.path.join(corpus, "splunk"), (".yml", ".yaml")):
        rel = os.path.relpath(path, corpus)
        try:
            with open(path, encoding="utf-8") as f:
                doc = yaml.safe_load(f)
        except Exception:
            continue
        q = doc.get("search") if isinstance(doc, dict) else None
        if not isinstance(q, str):
            continue
        for pat in (SPLUNK_NEG, SPLUNK_NE):
            for field, v in regex_values(pat, q):
                yield "splunk", field, concept_of(fields, "splunk", field), v, rel


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", default=os.environ.get("RULELINT_CORPUS", "/work/shared/corpus"))
    ap.add_argument("--print", action="store_true", help="show the candidate values per set")
    args = ap.parse_args()
    if not os.path.isdir(args.corpus):
        sys.exit(f"no corpus at {args.corpus}")
    fields = load_fields()
    rows = defaultdict(set)
    for _schema, field, concept, value, rel in corpus_values(args.corpus, fields):
        if concept is None:
            continue
        for name, (concepts, rx) in SETS.items():
            if concept in concepts:
                if name in VALUE_SETS:
                    p = value.strip().strip("*").lower()
                else:
                    p = program(value)
                if p and re.match(rx, p):
                    rows[name].add((p, concept, field, rel))
    outdir = os.path.join(REPO, "knowledge", "evidence")
    os.makedirs(outdir, exist_ok=True)
    for name in SETS:
        path = os.path.join(outdir, f"{name}.tsv")
        with open(path, "w", encoding="utf-8") as f:
            f.write(
                f"# {name}: values that public rules exclude, one row per value and rule.\n"
                "# Written by scripts/benign_values.py; paths are relative to the corpus root.\n"
                "value\tconcept\tfield\tfile\n"
            )
            for r in sorted(rows[name]):
                f.write("\t".join(r) + "\n")
        if args.print:
            count = defaultdict(set)
            for p, _c, _f, rel in rows[name]:
                count[p].add(rel)
            print(f"{name}: {len(rows[name])} rows")
            for p, rels in sorted(count.items(), key=lambda kv: (-len(kv[1]), kv[0])):
                print(f"  {len(rels):3} {p}")


if __name__ == "__main__":
    main()
