"""Scores of a list of groups against a city's truth, as bench/quality.py counts them.

truth(conn, schema) reads demo_truth_groups / demo_truth_members (generate_demo_city's ground
truth): rings (kind = 'ring') and the other groups (families, cohorts: legitimate persons).
score(groups, rings, legit) gives, over the groups of at least min_size persons:
  member precision / recall / F1 of the union of their members against all ring members;
  rings found: planted rings whose best-matching group has Jaccard >= 0.5;
  false groups: groups of which at most half the members belong to a ring;
  legit: persons of a legitimate group (family, cohort) who are in some group.
"""


def has_truth(conn, schema):
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass(%s) IS NOT NULL AND to_regclass(%s) IS NOT NULL",
                    (f'"{schema}".demo_truth_groups', f'"{schema}".demo_truth_members'))
        return cur.fetchone()[0]


def truth(conn, schema):
    """({ring id: set of psn_no}, {psn_no: kind} of members of legitimate groups)."""
    rings, legit = {}, {}
    with conn.cursor() as cur:
        cur.execute(f'SELECT g.group_id, g.kind, m.psn_no FROM "{schema}".demo_truth_members m '
                    f'JOIN "{schema}".demo_truth_groups g USING (group_id)')
        for gid, kind, p in cur.fetchall():
            if kind == "ring":
                rings.setdefault(gid, set()).add(p)
            else:
                legit[p] = kind
    return rings, legit


def score(groups, rings, legit, min_size=6):
    groups = [g for g in groups if len(g) >= min_size]
    members = set().union(*groups) if groups else set()
    ring_members = set().union(*rings.values()) if rings else set()
    tp = len(members & ring_members)
    p = tp / len(members) if members else 0.0
    r = tp / len(ring_members) if ring_members else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    best = {k: max((len(m & g) / len(m | g) for g in groups), default=0.0) for k, m in rings.items()}
    return dict(groups=len(groups), members=len(members), precision=p, recall=r, f1=f1,
                rings_found=sum(j >= 0.5 for j in best.values()), rings=len(rings),
                false_groups=sum(1 for g in groups if 2 * len(g & ring_members) <= len(g)),
                legit_in_groups=len(members & set(legit)), best_jaccard=best)
