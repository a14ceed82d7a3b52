"""Balanced assignment of k reviews per application (pure; no database).

Experts' loads are kept within [floor(n·k/m), ceil(n·k/m)] — differing by at most one — whenever the
conflicts allow it; otherwise the smallest feasible maximum load is found first, then the largest
feasible minimum load under it. The
problem is a flow with lower bounds (source → application: exactly k; application → eligible expert:
at most 1; expert → sink: between lo and hi), solved with Dinic's max-flow.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


class AssignmentImpossible(ValueError):
    """The conflicts leave some application with fewer than k eligible experts."""

    def __init__(self, short: dict, k: int):
        self.short = short
        names = "、".join(f"{a}（仅 {n} 位）" for a, n in short.items())
        super().__init__(f"以下申报可回避后的专家少于每份 {k} 位的要求：{names}。请减少每份评审人数或增加专家。")


@dataclass(frozen=True)
class Plan:
    pairs: tuple[tuple[object, object], ...]  # (application, expert)
    loads: dict
    low: int
    high: int


class _Flow:
    def __init__(self, n: int):
        self.graph: list[list[list]] = [[] for _ in range(n)]

    def add(self, u: int, v: int, cap: int) -> list:
        forward = [v, cap, None]
        backward = [u, 0, forward]
        forward[2] = backward
        self.graph[u].append(forward)
        self.graph[v].append(backward)
        return forward

    def max_flow(self, s: int, t: int) -> int:
        total = 0
        while self._levels(s, t):
            self._next = [0] * len(self.graph)
            while True:
                pushed = self._push(s, t, 1 << 30)
                if not pushed:
                    break
                total += pushed
        return total

    def _levels(self, s: int, t: int) -> bool:
        self._level = [-1] * len(self.graph)
        self._level[s] = 0
        queue = deque([s])
        while queue:
            u = queue.popleft()
            for v, cap, _ in self.graph[u]:
                if cap > 0 and self._level[v] < 0:
                    self._level[v] = self._level[u] + 1
                    queue.append(v)
        return self._level[t] >= 0

    def _push(self, u: int, t: int, f: int) -> int:
        if u == t:
            return f
        edges, level = self.graph[u], self._level
        while self._next[u] < len(edges):
            edge = edges[self._next[u]]
            v, cap, back = edge
            if cap > 0 and level[v] == level[u] + 1:
                got = self._push(v, t, min(f, cap))
                if got:
                    edge[1] -= got
                    back[1] += got
                    return got
            self._next[u] += 1
        return 0


def _solve(applications, experts, eligible, k, low, high):
    n, m = len(applications), len(experts)
    s, t = 0, n + m + 1
    ss, tt = n + m + 2, n + m + 3
    flow = _Flow(n + m + 4)
    excess = [0] * (n + m + 4)
    a_index = {a: 1 + i for i, a in enumerate(applications)}
    e_index = {e: 1 + n + j for j, e in enumerate(experts)}
    edges = []
    for a in applications:  # exactly k: lower bound k, capacity 0 above it
        excess[a_index[a]] += k
        excess[s] -= k
    for a in applications:
        for e in eligible[a]:
            edges.append((a, e, flow.add(a_index[a], e_index[e], 1)))
    for e in experts:
        flow.add(e_index[e], t, high - low)
        excess[t] += low
        excess[e_index[e]] -= low
    flow.add(t, s, 1 << 30)
    need = 0
    for node, ex in enumerate(excess):
        if ex > 0:
            flow.add(ss, node, ex)
            need += ex
        elif ex < 0:
            flow.add(node, tt, -ex)
    if flow.max_flow(ss, tt) != need:
        return None
    return [(a, e) for a, e, edge in edges if edge[1] == 0]


def balanced_assignment(
    applications: Sequence, experts: Sequence, eligible: Mapping[object, Sequence], k: int
) -> Plan:
    """Choose exactly ``k`` eligible experts per application with loads as even as conflicts allow.

    ``eligible[a]`` lists the experts who may review application ``a`` (conflicts already removed).
    Raises AssignmentImpossible when some application has fewer than ``k`` eligible experts.
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    short = {a: len(eligible.get(a, ())) for a in applications if len(eligible.get(a, ())) < k}
    if short:
        raise AssignmentImpossible(short, k)
    if not applications:
        return Plan((), {e: 0 for e in experts}, 0, 0)
    total = len(applications) * k
    apps, people = list(applications), list(experts)
    # First the smallest maximum load that can work at all, then the largest minimum load under it.
    high = -(-total // len(people))
    while _solve(apps, people, eligible, k, 0, high) is None:
        high += 1
    low = min(total // len(people), high)
    while True:
        pairs = _solve(apps, people, eligible, k, low, high)
        if pairs is not None:
            break
        low -= 1
    loads = {e: 0 for e in people}
    for _, e in pairs:
        loads[e] += 1
    return Plan(tuple(pairs), loads, low, high)
