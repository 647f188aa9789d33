#!/usr/bin/env python3
"""Derive the project's strict JSON Schemas from the upstream reference files.

usage: tools/gen-schemas.py [REFERENCE_DIR] [OUT_DIR]
       (defaults: ../shared/reference and schemas/, relative to the repository root)

Inputs (see ../shared/reference/README.md for their provenance):
  node.eks.aws_nodeconfigs.main-81fec2e8.yaml  the NodeConfig CRD (OpenAPI v3, controller-gen)
  kubelet-config-v1beta1-fields.tsv            every KubeletConfiguration JSON field and its kind

  karpenter.k8s.aws_ec2nodeclasses.v1.14.1.yaml   the EC2NodeClass CRD of Karpenter v1.14.1
  karpenter.k8s.aws_ec2nodeclasses.main-1d927085.yaml  the same CRD on Karpenter's main branch

Outputs (committed; CI regenerates them and fails on any difference):
  schemas/nodeconfig.v1alpha1.schema.json      strict NodeConfig schema, kubelet config inlined
  schemas/kubelet-config.v1beta1.schema.json   strict KubeletConfiguration fragment schema
  schemas/ec2nodeclass.v1.14.1.schema.json     strict EC2NodeClass (karpenter.k8s.aws/v1) schema
  schemas/ec2nodeclass.main.schema.json        the same for main, where spec.kubelet is an open
                                               map validated as a KubeletConfiguration
  (the CRDs' x-kubernetes-validations CEL rules are checked in code: src/karpenter/validate.rs)

What "strict" adds to the CRD, and why (nodeadm decodes non-strictly, docs §1.3):
  * additionalProperties: false on every object that lists properties, so typos are findings;
  * `type: object` + x-kubernetes-preserve-unknown-fields under map values (the CRD's encoding of
    RawExtension) becomes `{}`: the CRD would otherwise reject `maxPods: 58` as "not an object";
  * apiVersion/kind are constants and required; certificateAuthority must be base64,
    apiServerEndpoint an https URL, cidr an IPv4 or IPv6 CIDR;
  * spec.kubelet.config refers to the KubeletConfiguration schema derived from the TSV.
Output is byte-stable: sorted where upstream order is not meaningful, 2-space indent, LF.
"""
import csv
import json
import os
import re
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REF = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "..", "shared", "reference")
OUT = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "schemas")

CRD = "node.eks.aws_nodeconfigs.main-81fec2e8.yaml"
NODECLASS_CRDS = (
    ("v1.14.1", "karpenter.k8s.aws_ec2nodeclasses.v1.14.1.yaml"),
    ("main", "karpenter.k8s.aws_ec2nodeclasses.main-1d927085.yaml"),
)
KUBELET_TSV = "kubelet-config-v1beta1-fields.tsv"
BASE = "https://github.com/eks-userdata/eks-userdata/schemas/"

BASE64 = r"^[A-Za-z0-9+/\r\n]*={0,2}\s*$"
HTTPS_URL = r"^https://[^\s/?#]+([/?#]\S*)?$"
IPV4_CIDR = r"(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}/(3[0-2]|[12]?[0-9])"
IPV6_CIDR = r"[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*/(12[0-8]|1[01][0-9]|[1-9]?[0-9])"
CIDR = f"^({IPV4_CIDR}|{IPV6_CIDR})$"
DURATION = r"^-?([0-9]+(\.[0-9]*)?(ns|us|µs|ms|s|m|h))+$|^0$"


def strict(node):
    """Rewrite one CRD OpenAPI node into strict JSON Schema (draft 2020-12)."""
    if not isinstance(node, dict):
        return node
    if node.get("x-kubernetes-preserve-unknown-fields") and node.get("type") == "object" and "properties" not in node:
        out = {}
        if "description" in node:
            out["description"] = node["description"]
        return out
    out = {}
    for key, value in node.items():
        if key.startswith("x-kubernetes-") or key == "format" and value == "byte":
            continue
        if key == "properties":
            out[key] = {k: strict(v) for k, v in value.items()}
        elif key in ("items", "additionalProperties"):
            out[key] = strict(value) if isinstance(value, dict) else value
        else:
            out[key] = value
    if "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


def nodeconfig_schema(crd):
    version = crd["spec"]["versions"][0]
    assert version["name"] == "v1alpha1", version["name"]
    schema = strict(version["schema"]["openAPIV3Schema"])
    props = schema["properties"]
    props["apiVersion"]["const"] = "node.eks.aws/v1alpha1"
    props["kind"]["const"] = "NodeConfig"
    schema["required"] = ["apiVersion", "kind"]
    cluster = props["spec"]["properties"]["cluster"]["properties"]
    cluster["certificateAuthority"]["pattern"] = BASE64
    cluster["certificateAuthority"]["contentEncoding"] = "base64"
    cluster["apiServerEndpoint"]["pattern"] = HTTPS_URL
    cluster["cidr"]["pattern"] = CIDR
    kubelet = props["spec"]["properties"]["kubelet"]["properties"]
    kubelet["config"] = {"description": kubelet["config"]["description"], "$ref": "#/$defs/KubeletConfiguration"}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": BASE + "nodeconfig.v1alpha1.schema.json",
        "title": "NodeConfig (node.eks.aws/v1alpha1), strict",
        "$comment": f"Generated by tools/gen-schemas.py from {CRD}; do not edit.",
        **schema,
    }


def nodeclass_schema(label, source, crd):
    version = crd["spec"]["versions"][0]
    assert version["name"] == "v1", version["name"]
    schema = strict(version["schema"]["openAPIV3Schema"])
    props = schema["properties"]
    props["apiVersion"] = {"const": "karpenter.k8s.aws/v1"}
    props["kind"] = {"const": "EC2NodeClass"}
    # metadata is an ObjectMeta the API server checks; the manifest needs a name.
    props["metadata"] = {"type": "object", "required": ["name"], "properties": {"name": {"type": "string", "minLength": 1}}}
    schema["required"] = ["apiVersion", "kind", "metadata", "spec"]
    props.pop("status", None)
    kubelet = props["spec"]["properties"]["kubelet"]
    if "properties" not in kubelet:
        # main: an open map that the controller validates as a KubeletConfiguration.
        props["spec"]["properties"]["kubelet"] = {"description": kubelet.get("description", ""), "$ref": "#/$defs/KubeletConfiguration"}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": BASE + f"ec2nodeclass.{label}.schema.json",
        "title": f"EC2NodeClass (karpenter.k8s.aws/v1, Karpenter {label}), strict",
        "$comment": f"Generated by tools/gen-schemas.py from {source}; do not edit.",
        **schema,
    }


def kind_schema(kind, notes):
    enum = re.search(r'values: ((?:"[^"]*"(?:, )?)+)', notes)
    if kind == "string":
        s = {"type": "string"}
        if enum:
            s["enum"] = re.findall(r'"([^"]*)"', enum.group(1))
        return s
    if kind == "int":
        return {"type": "integer"}
    if kind == "bool":
        return {"type": "boolean"}
    if kind == "float":
        return {"type": "number"}
    if kind == "duration":
        # One shared definition: the validator compiles the regex once, not once per field.
        if "integer number of nanoseconds" in notes:
            return {"anyOf": [{"$ref": "#/$defs/Duration"}, {"type": "integer"}]}
        return {"$ref": "#/$defs/Duration"}
    if kind == "quantity":
        return {"type": ["string", "number"]}
    if kind == "object":
        return {"type": "object", "properties": {}, "additionalProperties": False}
    if kind == "list-of-string":
        return {"type": "array", "items": {"type": "string"}}
    if kind == "list-of-int":
        return {"type": "array", "items": {"type": "integer"}}
    if kind == "list-of-object":
        return {"type": "array", "items": {"type": "object", "properties": {}, "additionalProperties": False}}
    if kind == "string-map":
        return {"type": "object", "additionalProperties": {"type": "string"}}
    if kind == "bool-map":
        return {"type": "object", "additionalProperties": {"type": "boolean"}}
    if kind == "string-list-map":
        return {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}}
    if kind == "quantity-map":
        return {"type": "object", "additionalProperties": {"type": ["string", "number"]}}
    raise SystemExit(f"gen-schemas: unknown json_kind {kind!r}")


def kubelet_schema(rows):
    root = {"type": "object", "properties": {}, "additionalProperties": False}
    for row in rows:
        path = row["json_path"]
        node = root
        parts = path.split(".")
        for seg in parts[:-1]:
            if seg.endswith("[]"):
                node = node["properties"][seg[:-2]]["items"]
            else:
                node = node["properties"][seg]
        leaf = parts[-1]
        schema = kind_schema(row["json_kind"], row["notes"])
        doc = row["doc_first_sentence"]
        if row["notes"]:
            doc = f"{doc} ({row['notes']})" if doc else row["notes"]
        if doc:
            schema = {"description": doc, **schema}
        node["properties"][leaf.removesuffix("[]")] = schema
    return root


def main():
    with open(os.path.join(REF, CRD), encoding="utf-8") as f:
        crd = yaml.safe_load(f)
    with open(os.path.join(REF, KUBELET_TSV), encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    kubelet = kubelet_schema(rows)
    nodeconfig = nodeconfig_schema(crd)
    duration = {"description": "A Go duration such as 30s, 5m or 1h30m (metav1.Duration).", "type": "string", "pattern": DURATION}
    nodeconfig["$defs"] = {"KubeletConfiguration": kubelet, "Duration": duration}
    standalone = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": BASE + "kubelet-config.v1beta1.schema.json",
        "title": "KubeletConfiguration (kubelet.config.k8s.io/v1beta1) fragment, strict",
        "$comment": f"Generated by tools/gen-schemas.py from {KUBELET_TSV}; do not edit.",
        **kubelet,
        "$defs": {"Duration": duration},
    }
    outputs = [("nodeconfig.v1alpha1.schema.json", nodeconfig), ("kubelet-config.v1beta1.schema.json", standalone)]
    for label, source in NODECLASS_CRDS:
        with open(os.path.join(REF, source), encoding="utf-8") as f:
            doc = nodeclass_schema(label, source, yaml.safe_load(f))
        if "$ref" in json.dumps(doc):
            doc["$defs"] = {"KubeletConfiguration": kubelet, "Duration": duration}
        outputs.append((f"ec2nodeclass.{label}.schema.json", doc))
    os.makedirs(OUT, exist_ok=True)
    for name, doc in outputs:
        path = os.path.join(OUT, name)
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8", newline="\n") as f:
            json.dump(doc, f, indent=2, ensure_ascii=False)
            f.write("\n")
        os.replace(tmp, path)
        print(f"wrote {os.path.relpath(path, ROOT)} ({len(rows)} kubelet fields)" if "kubelet" in name else f"wrote {os.path.relpath(path, ROOT)}")


if __name__ == "__main__":
    main()
