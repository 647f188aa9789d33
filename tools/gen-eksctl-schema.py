#!/usr/bin/env python3
"""Derive the structural eksctl ClusterConfig schema the migrate tests validate against.

usage: tools/gen-eksctl-schema.py EKSCTL_GIT_DIR [COMMIT] > schemas/eksctl-clusterconfig.v1alpha5.schema.json
       tools/gen-eksctl-schema.py --check EKSCTL_GIT_DIR [COMMIT]   (exit 1 if the committed file differs)

Input: eksctl's published JSON Schema, `pkg/apis/eksctl.io/v1alpha5/assets/schema.json` in
github.com/eksctl-io/eksctl (what `eksctl utils schema` prints), read from a clone at COMMIT
(default: the commit recorded in the committed schema's $comment, else HEAD). No registry the CI
machine reaches ships eksctl or its schema (eksctl is a Go module; the Go module proxy is not
reachable there), so the derived schema is committed and this script re-derives it where a clone
is at hand.

What is kept, and why: only structure, the part of the schema a validator judges: every
definition's properties, types, `$ref`s, `items`, `required`, `additionalProperties` and enums.
Prose (`description`, `x-intellij-html-description`), `preferredOrder` and `default` are dropped.
Two facts eksctl states in prose are made checkable:
  * "Valid variants are: `"A"`, `"B"` ..." on a string becomes `enum: [A, B, ...]` (eksctl's
    Go validation rejects other values, e.g. an unknown amiFamily);
  * `taintsWrapper` ("handles unmarshalling both map[string]string and []NodeGroupTaint") accepts
    the map form too, as eksctl's decoder does.
  * definition names of Go types outside eksctl (`github.com|aws|aws-sdk-go-v2|aws|arn.ARN`)
    have `|` replaced by `.`: a `$ref` must be a URI reference, and `|` is not allowed in one
    (validators that check the schema against the draft-07 meta-schema refuse it).
Output is byte-stable: sorted keys, 2-space indent, LF.
"""
import json
import re
import subprocess
import sys

PATH = "pkg/apis/eksctl.io/v1alpha5/assets/schema.json"
OUT = "schemas/eksctl-clusterconfig.v1alpha5.schema.json"
KEEP = {"$ref", "type", "properties", "items", "required", "additionalProperties", "enum", "$schema", "definitions",
        "anyOf", "oneOf", "allOf", "const", "format", "pattern"}


def variants(desc):
    """The values a 'Valid variants are:' sentence lists, in order."""
    _, _, rest = desc.partition("Valid variants are:")
    return [m for m in re.findall(r'`"?([A-Za-z0-9_.\-]+)"?`', rest)]


def strip(node, name=None):
    if isinstance(node, list):
        return [strip(x) for x in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for k, v in node.items():
        if k in ("properties", "definitions"):
            out[k] = {pk: strip(pv, pk) for pk, pv in v.items()}
        elif k in KEEP:
            out[k] = strip(v)
    desc = node.get("description", "")
    if node.get("type") == "string" and "Valid variants are:" in desc and "enum" not in node:
        vals = variants(desc)
        if vals:
            out["enum"] = vals
    return out


def derive(git_dir, commit):
    raw = subprocess.run(["git", "--git-dir", git_dir, "show", f"{commit}:{PATH}"], check=True,
                         capture_output=True, text=True).stdout
    full = subprocess.run(["git", "--git-dir", git_dir, "rev-parse", commit], check=True,
                          capture_output=True, text=True).stdout.strip()
    schema = strip(json.loads(raw))
    defs = schema["definitions"]
    tw = defs.get("taintsWrapper")
    if tw is not None:
        defs["taintsWrapper"] = {"oneOf": [tw, {"type": "object", "additionalProperties": {"type": "string"}}]}
    text = json.dumps(schema)
    for name in [k for k in defs if "|" in k]:
        text = text.replace(f'"#/definitions/{name}"', '"#/definitions/' + name.replace("|", ".") + '"')
    schema = json.loads(text)
    schema["definitions"] = {k.replace("|", "."): v for k, v in schema["definitions"].items()}
    schema["$comment"] = (f"Derived by tools/gen-eksctl-schema.py from github.com/eksctl-io/eksctl {PATH} at "
                          f"{full}: structure only (see the script).")
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def main(argv):
    check = argv[:1] == ["--check"]
    args = argv[1:] if check else argv
    if not args:
        print(__doc__, file=sys.stderr)
        return 2
    git_dir = args[0]
    commit = args[1] if len(args) > 1 else None
    if commit is None:
        try:
            m = re.search(r"at ([0-9a-f]{40})", json.load(open(OUT))["$comment"])
            commit = m.group(1) if m else "HEAD"
        except (OSError, KeyError, ValueError):
            commit = "HEAD"
    text = derive(git_dir, commit)
    if check:
        same = open(OUT).read() == text
        print(f"{OUT}: {'up to date' if same else 'differs from the derivation'}")
        return 0 if same else 1
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
