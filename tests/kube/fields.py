"""Field ownership for the FAKE API server (apiserver.py): a small model of server-side apply.

What the real API server does (kubernetes.io/docs/reference/using-api/server-side-apply/) and
this keeps: every field of an object is owned by the field managers that set it; an apply
(PATCH application/apply-patch+yaml) by manager M sets the fields of its configuration, answers
409 Conflict when one of them holds a different value owned by another manager (unless
`force=true`, which takes the field over), and removes a field M owned by an earlier apply and
no longer names, when nobody else owns it; a create or update (POST, PUT, merge or JSON patch)
makes its manager the owner of the fields it changed. Ownership is written to
`metadata.managedFields` (FieldsV1) as the real server writes it, so clients read it back.

What it simplifies: every list is atomic (owned whole: the real default for lists that declare no
`x-kubernetes-list-type`, as the EC2NodeClass CRD's selector terms do), `metadata` ownership is
kept for labels and annotations only, and `status` is never owned.
"""
import copy

SKIP = ("apiVersion", "kind", "metadata", "status")


def leaves(obj):
    """{path tuple: value} for every owned field of an object."""
    out = {}

    def walk(v, path):
        if isinstance(v, dict) and v:
            for k, x in v.items():
                walk(x, path + (k,))
        else:
            out[path] = v

    for k, v in (obj or {}).items():
        if k not in SKIP:
            walk(v, (k,))
    md = (obj or {}).get("metadata") or {}
    for part in ("labels", "annotations"):
        for k, v in (md.get(part) or {}).items():
            out[("metadata", part, k)] = v
    return out


def overlaps(a, b):
    n = min(len(a), len(b))
    return a[:n] == b[:n]


def get(obj, path):
    cur = obj
    for p in path:
        if not isinstance(cur, dict) or p not in cur:
            return None
        cur = cur[p]
    return cur


def put(obj, path, value):
    cur = obj
    for p in path[:-1]:
        if not isinstance(cur.get(p), dict):
            cur[p] = {}
        cur = cur[p]
    cur[path[-1]] = copy.deepcopy(value)


def remove(obj, path):
    """Removes a field, and the maps left empty above it (nobody set them on their own)."""
    chain = [obj]
    for p in path[:-1]:
        nxt = chain[-1].get(p) if isinstance(chain[-1], dict) else None
        if not isinstance(nxt, dict):
            return
        chain.append(nxt)
    chain[-1].pop(path[-1], None)
    for depth in range(len(path) - 1, 0, -1):
        if chain[depth]:
            break
        chain[depth - 1].pop(path[depth - 1], None)


def fields_v1(paths):
    tree = {}
    for path in sorted(paths):
        cur = tree
        for p in path:
            cur = cur.setdefault(f"f:{p}", {})
    return tree


class Owners:
    """Who owns which fields of one object. An owner is a (manager, operation) pair, as in
    `metadata.managedFields`: one manager's Apply and Update entries are kept apart."""

    def __init__(self):
        self.by = {}  # (manager, operation) -> set of paths

    def _prune(self):
        self.by = {k: v for k, v in self.by.items() if v}

    def take(self, owner, paths):
        for other in self.by:
            if other != owner:
                self.by[other] = {q for q in self.by[other] if not any(overlaps(q, p) for p in paths)}
        self.by[owner] = self.by.get(owner, set()) | set(paths)
        self._prune()

    def drop(self, paths):
        for k in self.by:
            self.by[k] = {q for q in self.by[k] if not any(overlaps(q, p) for p in paths)}
        self._prune()

    def owners(self, path, but):
        """The managers (by name) of the owners of `path` other than the owner `but`."""
        return sorted({m for (m, op), ps in self.by.items() if (m, op) != but and any(overlaps(q, path) for q in ps)})

    def write(self, obj, api_version):
        obj.setdefault("metadata", {})["managedFields"] = [
            {"manager": m, "operation": op, "apiVersion": api_version, "fieldsType": "FieldsV1",
             "fieldsV1": fields_v1(ps)}
            for (m, op), ps in sorted(self.by.items())
        ]


def created(owners, manager, obj, operation="Update"):
    owners.take((manager, operation), set(leaves(obj)))


def updated(owners, manager, old, new):
    """A create-or-update by `manager`: it owns what it changed; removed fields are nobody's."""
    before, after = leaves(old), leaves(new)
    gone = [p for p in before if p not in after and not any(overlaps(p, q) for q in after)]
    owners.drop(gone)
    changed = {p for p, v in after.items() if before.get(p, object()) != v}
    if changed:
        owners.take((manager, "Update"), changed)


class Conflict(Exception):
    def __init__(self, conflicts, api_version):
        self.conflicts = conflicts  # [(manager, path)]
        self.api_version = api_version
        super().__init__(self.message())

    def message(self):
        parts = [f'conflict with "{m}" using {self.api_version}: .{".".join(p)}' for m, p in self.conflicts]
        n = len(self.conflicts)
        return f"Apply failed with {n} conflict{'s' if n != 1 else ''}: " + "\n".join(parts)

    def causes(self):
        return [{"reason": "FieldManagerConflict", "message": f'conflict with "{m}" using {self.api_version}',
                 "field": "." + ".".join(p)} for m, p in self.conflicts]


def apply(owners, manager, current, config, force, api_version):
    """The object after `manager` applies `config` to `current`, or Conflict."""
    me = (manager, "Apply")
    want = leaves(config)
    have = leaves(current)
    conflicts = []
    for p, v in want.items():
        if get(current, p) == v and p in have:
            continue
        for m in owners.owners(p, me):
            conflicts.append((m, p))
    if conflicts and not force:
        raise Conflict(conflicts, api_version)
    new = copy.deepcopy(current)
    # A field this applier set before and names no more is removed, unless someone else owns it.
    for p in owners.by.get(me, set()):
        if p not in want and not any(overlaps(p, q) for q in want) and not owners.owners(p, me):
            remove(new, p)
    for p, v in want.items():
        put(new, p, v)
    # Fields equal in value stay shared; fields taken over (force) change hands.
    taken = {p for p in want if owners.owners(p, me) and get(current, p) != want[p]}
    for other in owners.by:
        if other != me:
            owners.by[other] = {q for q in owners.by[other] if not any(overlaps(q, p) for p in taken)}
    owners.by[me] = set(want)
    owners._prune()
    return new
