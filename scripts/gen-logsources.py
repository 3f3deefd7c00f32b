#!/usr/bin/env python3
"""Regenerate crates/dragnet-sigma/data/logsources.yml from SigmaHQ's CI logsource map.

usage: scripts/gen-logsources.py [SHARED_DIR]   (default ../shared)

The source (tests/thor.yml in the SigmaHQ repository) is what SigmaHQ's own regression CI uses
to decide which Windows channel and EventIDs a logsource means. We keep the facts in our own,
simpler format, which users extend with `--logsources FILE`.
"""
import sys, os, yaml  # PyYAML: only this dev script needs it

shared = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..", "shared")
src = os.path.join(shared, "data/sigma/sigmahq/tests/thor.yml")
doc = yaml.safe_load(open(src))
services, categories = [], []
for name, ls in doc["logsources"].items():
    chans = [s.split(":", 1)[1] for s in ls.get("sources", []) if s.startswith("WinEventLog:")]
    if chans and ls.get("service") and not ls.get("category"):
        services.append({"product": ls.get("product"), "service": ls["service"], "channels": chans})
    elif ls.get("category") and "rewrite" in ls:
        e = {"category": ls["category"]}
        if ls.get("product"):
            e["product"] = ls["product"]
        e["service"] = ls["rewrite"].get("service")
        e["rewrite_product"] = ls["rewrite"].get("product")
        conds = {}
        for k, v in (ls.get("conditions") or {}).items():
            conds[k] = v if isinstance(v, list) else [v]
        e["conditions"] = conds
        if ls.get("fieldmappings"):
            e["fieldmappings"] = ls["fieldmappings"]
        categories.append(e)

out = open(os.path.join(os.path.dirname(__file__), "..", "crates/dragnet-sigma/data/logsources.yml"), "w")
out.write("# Logsource map: which Windows channels and EventIDs a Sigma logsource means.\n")
out.write("# Facts taken from SigmaHQ's regression CI map (tests/thor.yml, Detection Rule License 1.1,\n")
out.write("# SigmaHQ project); regenerate with scripts/gen-logsources.py. Extend with --logsources FILE:\n")
out.write("# entries there are added to these (same format).\n")
out.write("#\n# services: product + service -> channels (a rule of that service runs on those channels)\n")
out.write("# categories: category (+ product) -> the service whose channels it reads, the field\n")
out.write("#   conditions an event must meet (EventID, ...), and rule-field -> event-field mappings.\n")
yaml.safe_dump({"services": services, "categories": categories}, out, sort_keys=False, width=120, allow_unicode=True)
print(f"{len(services)} services, {len(categories)} categories")
