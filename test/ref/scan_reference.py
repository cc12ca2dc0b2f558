"""A small, plain SCAN (Xu et al., KDD 2007) written straight from the
definitions, as the reference for medfraud.scan_clusters.

  Γ(u) = N(u) ∪ {u};  σ(u,v) = |Γ(u)∩Γ(v)| / sqrt(|Γ(u)|·|Γ(v)|)
  N_ε(u) = {v ∈ Γ(u) : σ(u,v) ≥ ε}  (includes u);  core ⇔ |N_ε(u)| ≥ μ
  clusters grow from cores through ε-neighbours; a non-core reached from
  several clusters joins the one whose smallest core index is smallest;
  a non-member is a hub if its neighbours lie in ≥ 2 clusters, else an outlier.
Returns {node: (cluster_key or None, role)}; cluster_key is the smallest core
node of the cluster (any key works: partitions are compared).
The comparison σ ≥ ε is done exactly as |∩|² ≥ ε²·|Γu|·|Γv| to avoid
floating-point disagreements at the threshold.
"""


def scan(g, eps, mu):
    nodes = sorted(g.nodes)
    gamma = {u: set(g[u]) | {u} for u in nodes}

    def similar(u, v):
        inter = len(gamma[u] & gamma[v])
        return inter * inter >= eps * eps * len(gamma[u]) * len(gamma[v])

    eps_nb = {u: [v for v in sorted(gamma[u]) if similar(u, v)] for u in nodes}
    core = {u for u in nodes if len(eps_nb[u]) >= mu}
    cluster = {}
    for c in sorted(core):          # smallest core first: it names the cluster
        if c in cluster:
            continue
        cluster[c] = c
        stack = [c]
        while stack:
            u = stack.pop()
            for v in eps_nb[u]:
                if v in cluster:
                    continue
                cluster[v] = c
                if v in core:
                    stack.append(v)
    out = {}
    for u in nodes:
        if u in cluster:
            out[u] = (cluster[u], "core" if u in core else "border")
        else:
            seen = {cluster[v] for v in g[u] if v in cluster}
            out[u] = (None, "hub" if len(seen) >= 2 else "outlier")
    return out
