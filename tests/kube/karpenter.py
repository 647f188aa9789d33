"""A FAKE of Karpenter's drift replacement, for the FAKE API server (apiserver.py).

Why: `karpenter migrate --cluster` changes EC2NodeClasses and then follows what Karpenter does
about it; no Karpenter can run here (it needs EC2), so this plays its part in the tests, on the
objects the API server holds, with the rules Karpenter documents (karpenter.sh/docs/concepts/
disruption, sigs.k8s.io/karpenter's disruption controller):

  * an EC2NodeClass's spec is hashed into its `karpenter.k8s.aws/ec2nodeclass-hash` annotation;
    a NodeClaim launched under another hash is marked `Drifted=True` (reason NodeClassDrift)
    `drift_after` seconds after the change is seen;
  * per NodePool, drifted NodeClaims are replaced while the NodePool's disruption budgets allow:
    the most restrictive budget that applies to `Drifted` (no `reasons`, or `Drifted` among
    them), `nodes` a count or a percentage of the pool's nodes rounded up, less the claims
    already being replaced; no `budgets` means Karpenter's default of 10%;
  * a claim whose Node carries `karpenter.sh/do-not-disrupt: "true"` (or the NodeClaim, before
    its node registers) is skipped, and so, unless the claim sets `terminationGracePeriod`, is one
    running an active pod with it or a pod whose PodDisruptionBudget allows no disruption now;
  * the candidate's node is tainted `karpenter.sh/disrupted:NoSchedule` and a replacement
    NodeClaim launched; after `launch_after` seconds its Node registers Ready, running what the
    class selects now (`Amazon Linux 2023...` for an `al2023@` alias or `amiFamily: AL2023`,
    `Amazon Linux 2` otherwise); then the old node's pods are evicted through the same Eviction rules
    as the API (PodDisruptionBudgets hold them), and once it is empty the Node and NodeClaim go.

What it does NOT do: scheduled budgets (`schedule`/`duration`: left out of the count, since no
cron is evaluated here), AMI resolution, consolidation, expiry, instance types and prices.

Enabled by `"karpenter": {"drift_after": s, "launch_after": s}` in POST /_fake/config.
"""
import hashlib
import json
import math
import threading
import time

HASH = "karpenter.k8s.aws/ec2nodeclass-hash"
POOL = "karpenter.sh/nodepool"
DO_NOT_DISRUPT = "karpenter.sh/do-not-disrupt"


def class_hash(nc):
    return hashlib.sha256(json.dumps(nc.get("spec"), sort_keys=True).encode()).hexdigest()[:16]


def os_image(nc):
    spec = nc.get("spec") or {}
    aliases = [t.get("alias", "") for t in spec.get("amiSelectorTerms") or []]
    if any(a.startswith("al2023@") for a in aliases) or spec.get("amiFamily") == "AL2023":
        return "Amazon Linux 2023.9.20251110"
    return "Amazon Linux 2"


def condition(obj, kind):
    for c in (obj.get("status") or {}).get("conditions") or []:
        if c.get("type") == kind:
            return c.get("status")
    return None


def set_condition(obj, kind, value, reason):
    conds = obj.setdefault("status", {}).setdefault("conditions", [])
    conds[:] = [c for c in conds if c.get("type") != kind]
    conds.append({"type": kind, "status": value, "reason": reason, "message": "", "lastTransitionTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})


def budget(pool, total):
    budgets = ((pool.get("spec") or {}).get("disruption") or {}).get("budgets")
    if budgets is None:
        budgets = [{"nodes": "10%"}]
    allowed = None
    for b in budgets:
        if b.get("schedule"):
            continue
        if b.get("reasons") and "Drifted" not in b["reasons"]:
            continue
        n = str(b.get("nodes", "10%"))
        value = math.ceil(total * int(n[:-1]) / 100) if n.endswith("%") else int(n)
        allowed = value if allowed is None else min(allowed, value)
    return total if allowed is None else allowed


class Controller:
    def __init__(self, store, api):
        self.store, self.api = store, api
        self.seen = {}  # claim name -> when its drift was first seen
        self.replacing = {}  # old claim -> new claim
        self.n = 0

    def modify(self, g, plural, obj):
        self.store._bump(obj)
        self.store._event(g, plural, "", "MODIFIED", obj)

    def tick(self):
        cfg = self.store.config.get("karpenter")
        if not cfg:
            return
        s = self.store
        with s.lock:
            classes = {o["metadata"]["name"]: o for o in s.list("karpenter.k8s.aws", "ec2nodeclasses", "")}
            for nc in classes.values():
                h = class_hash(nc)
                ann = nc["metadata"].setdefault("annotations", {})
                if ann.get(HASH) != h:
                    ann[HASH] = h
                    self.modify("karpenter.k8s.aws", "ec2nodeclasses", nc)
            claims = s.list("karpenter.sh", "nodeclaims", "")
            for c in claims:
                nc = classes.get(((c.get("spec") or {}).get("nodeClassRef") or {}).get("name"))
                if nc is None or condition(c, "Drifted") == "True":
                    continue
                ann = c["metadata"].setdefault("annotations", {})
                if HASH not in ann:
                    # A claim with no hash (a fixture's) was launched under the spec it sees first.
                    ann[HASH] = class_hash(nc)
                    self.modify("karpenter.sh", "nodeclaims", c)
                if (c["metadata"].get("annotations") or {}).get(HASH) == class_hash(nc):
                    self.seen.pop(c["metadata"]["name"], None)
                    continue
                first = self.seen.setdefault(c["metadata"]["name"], time.time())
                if time.time() - first >= float(cfg.get("drift_after", 1)):
                    set_condition(c, "Drifted", "True", "NodeClassDrift")
                    self.modify("karpenter.sh", "nodeclaims", c)
            for pool in s.list("karpenter.sh", "nodepools", ""):
                self.disrupt(pool, classes, cfg)
            for old, new in list(self.replacing.items()):
                self.finish(old, new)

    def blocked(self, claim):
        """Whether Karpenter passes over a drifted claim: do-not-disrupt on its node (on the claim
        only before its node registers), or, unless the claim sets terminationGracePeriod, on an
        active pod of the node, or a PodDisruptionBudget that allows none of the node's pods to go."""
        node_name = (claim.get("status") or {}).get("nodeName")
        node = self.store.objects.get(("", "nodes", "", node_name)) if node_name else None
        if node is None:
            return (claim["metadata"].get("annotations") or {}).get(DO_NOT_DISRUPT) == "true"
        if (node["metadata"].get("annotations") or {}).get(DO_NOT_DISRUPT) == "true":
            return True
        if (claim.get("spec") or {}).get("terminationGracePeriod"):
            return False
        for p in self.store.list("", "pods", "", fields=f"spec.nodeName={node_name}"):
            if p["metadata"].get("deletionTimestamp") or (p.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
                continue
            if any(o.get("kind") == "DaemonSet" for o in p["metadata"].get("ownerReferences") or []):
                continue
            if (p["metadata"].get("annotations") or {}).get(DO_NOT_DISRUPT) == "true":
                return True
            if self.api.budget_holds(p):
                return True
        return False

    def disrupt(self, pool, classes, cfg):
        name = pool["metadata"]["name"]
        claims = [c for c in self.store.list("karpenter.sh", "nodeclaims", "")
                  if (c["metadata"].get("labels") or {}).get(POOL) == name]
        replacements = set(self.replacing.values())
        total = len([c for c in claims if c["metadata"]["name"] not in replacements])
        allowed = budget(pool, total) - len([c for c in claims if c["metadata"]["name"] in self.replacing])
        for c in sorted(claims, key=lambda c: c["metadata"]["name"]):
            if allowed <= 0:
                break
            cname = c["metadata"]["name"]
            if cname in self.replacing or condition(c, "Drifted") != "True" or self.blocked(c):
                continue
            nc = classes.get(c["spec"]["nodeClassRef"]["name"])
            if nc is None:
                continue
            allowed -= 1
            # The candidate is tainted first, so nothing new lands on it; then its replacement.
            self.taint(c)
            self.n += 1
            new = {
                "apiVersion": "karpenter.sh/v1", "kind": "NodeClaim",
                "metadata": {"name": f"{name}-r{self.n:03d}", "labels": {POOL: name},
                             "annotations": {HASH: class_hash(nc)},
                             "ownerReferences": [{"apiVersion": "karpenter.sh/v1", "kind": "NodePool", "name": name,
                                                  "uid": pool["metadata"]["uid"], "blockOwnerDeletion": True}]},
                "spec": dict(c["spec"]),
                "status": {"conditions": [{"type": "Launched", "status": "True", "reason": "Launched"},
                                          {"type": "Ready", "status": "Unknown", "reason": "AwaitingReconciliation"}]},
            }
            self.store.create("karpenter.sh", "nodeclaims", "", new, "karpenter")
            self.replacing[cname] = new["metadata"]["name"]
            threading.Timer(float(cfg.get("launch_after", 1)), self.register, (new["metadata"]["name"], os_image(nc), name)).start()

    def register(self, claim_name, image, pool):
        s = self.store
        with s.lock:
            claim = s.objects.get(("karpenter.sh", "nodeclaims", "", claim_name))
            if claim is None:
                return
            self.n += 1
            node_name = f"ip-10-0-9-{self.n}.ec2.internal"
            s.create("", "nodes", "", {
                "apiVersion": "v1", "kind": "Node",
                "metadata": {"name": node_name, "labels": {POOL: pool, "karpenter.sh/registered": "true",
                                                           "karpenter.sh/initialized": "true"}},
                "spec": {"providerID": f"aws:///us-west-2a/i-0fake{self.n:011d}"},
                "status": {"conditions": [{"type": "Ready", "status": "True"}], "nodeInfo": {"osImage": image}},
            }, "kubelet")
            claim["status"]["nodeName"] = node_name
            claim["status"]["providerID"] = f"aws:///us-west-2a/i-0fake{self.n:011d}"
            set_condition(claim, "Ready", "True", "Ready")
            self.modify("karpenter.sh", "nodeclaims", claim)

    def taint(self, claim):
        node_name = (claim.get("status") or {}).get("nodeName")
        node = self.store.objects.get(("", "nodes", "", node_name)) if node_name else None
        if node is None:
            return
        taints = node.setdefault("spec", {}).setdefault("taints", [])
        if not any(t.get("key") == "karpenter.sh/disrupted" for t in taints):
            taints.append({"key": "karpenter.sh/disrupted", "effect": "NoSchedule"})
            node["spec"]["unschedulable"] = True
            self.modify("", "nodes", node)

    def finish(self, old, new):
        """Once the replacement is Ready: drain the old node (through the eviction rules) and delete it."""
        s = self.store
        replacement = s.objects.get(("karpenter.sh", "nodeclaims", "", new))
        if replacement is None or condition(replacement, "Ready") != "True":
            return
        claim = s.objects.get(("karpenter.sh", "nodeclaims", "", old))
        node_name = (claim or {}).get("status", {}).get("nodeName")
        node = s.objects.get(("", "nodes", "", node_name)) if node_name else None
        if node is not None:
            left = 0
            for p in s.list("", "pods", "", fields=f"spec.nodeName={node_name}"):
                if any(o.get("kind") == "DaemonSet" for o in p["metadata"].get("ownerReferences") or []):
                    continue
                code, _ = self.api.evict(p["metadata"]["namespace"], p["metadata"]["name"])
                left += code == 429
            if left:
                return
            for p in s.list("", "pods", "", fields=f"spec.nodeName={node_name}"):
                s.delete("", "pods", p["metadata"]["namespace"], p["metadata"]["name"])
            s.delete("", "nodes", "", node_name)
        if claim is not None:
            s.delete("karpenter.sh", "nodeclaims", "", old)
        del self.replacing[old]
        self.seen.pop(old, None)


def start(store, api):
    controller = Controller(store, api)

    def loop():
        while True:
            time.sleep(0.2)
            controller.tick()

    threading.Thread(target=loop, daemon=True).start()
    return controller
