"""How a name travels past the window: the relay, layer by layer, and a cut that removes it.

Paper section 2 (Fig. 1): with a window of W, a token reads only the W - 1 tokens before it,
but "after k attention layers, information can move forward by up to k x W tokens" (k (W - 1)
counted exactly, receptive_field.py). So a name said s tokens before a query, with W - 1 < s,
can only arrive in hops: layer 0 copies it onto tokens within the window of the name, a later
layer copies it from there onto tokens further on, and so on until the query reads it.

``relay_path`` follows the hops in the attention maps. Each layer mixes a token's own stream
(the residual, kept whole) with what its heads read, so the share of position s's information in
position t's stream after layer l is composed as in attention rollout (Abnar & Zuidema 2020,
arXiv 2005.00928): R_l = (I + A_l) / 2 with A_l the layer's map averaged over heads. The path is
the chain s = p_0 -> p_1 -> ... -> p_L = q that maximizes the product of R_l[p_(l+1), p_l]: at
each layer either stay (the residual) or hop back at most W - 1 tokens (the window).

``cut_experiment`` then tests the path causally. At the layer where the relay hops, the keys of
the relay positions are removed from every query's window (``Cut``: their softmax weight is 0,
the other keys renormalized), and the name's probability at the query is measured again; as a
control, the same number of other positions inside the window are cut instead. If the relay
carries the name, cutting it removes the retrieval and cutting the others does not. A model may
carry the name on many positions at once (a trained story model keeps it on the full stops of
the sentences in between): ``every_hop`` cuts the path at every layer where it hops, and
``carrier_cut`` cuts a whole set of positions (``sentence_ends``) at every layer, each beside a
control of as many other positions.

    path = relay_path(maps, window, source=s, query=q)       # [L + 1] positions, p_0 = s, p_L = q
    result = cut_experiment(model, ids, source=s, query=q, target=ids[q + 1])
    result = carrier_cut(model, ids, s, q, ids[q + 1], sentence_ends(tokenizer, ids, s + 1, q))
"""

from __future__ import annotations

import numpy as np

from ..errors import MinimistralError
from ..guards.values import check_tokens
from ..attention_maps import AttentionTrace, attention_maps


def rollout_steps(maps: np.ndarray) -> np.ndarray:
    """float32 [L, T, T]: R_l = (I + mean over heads of A_l) / 2 for every layer; maps [L, H, T, T]."""
    L, H, T, _ = maps.shape
    return (0.5 * np.eye(T, dtype=np.float32)[None] + 0.5 * maps.mean(axis=1)).astype(np.float32)


def relay_path(maps: np.ndarray, source: int, query: int) -> list[int]:
    """[L + 1] positions: the most-weighted chain source -> ... -> query through the layers.

    Step l goes from p_l to p_(l+1) with weight R_l[p_(l+1), p_l] (rollout_steps): the dynamic
    program keeps, for every position, the best product of weights of a chain that starts at
    source and reaches it after l layers (in logs, to keep small products apart).
    """
    steps = rollout_steps(maps)                                                  # [L, T, T]
    L, T, _ = steps.shape
    if not 0 <= source <= query < T:
        raise MinimistralError(f"relay_path needs 0 <= source <= query < T = {T}, got {source}, {query}.")
    with np.errstate(divide="ignore"):
        log_steps = np.log(steps)                                                # [L, T (to), T (from)]
    best = np.full(T, -np.inf)
    best[source] = 0.0
    back = np.zeros((L, T), dtype=np.int64)
    for l in range(L):
        cand = log_steps[l] + best[None, :]                                      # [to, from]
        back[l] = cand.argmax(axis=1)
        best = cand.max(axis=1)
    if not np.isfinite(best[query]):
        raise MinimistralError(f"no chain of {L} layers joins position {source} to {query}: it is "
                               f"beyond the stack's reach.")
    path = [query]
    for l in reversed(range(L)):
        path.append(int(back[l, path[-1]]))
    return path[::-1]


class Cuts(AttentionTrace):
    """An AttentionTrace that also removes keys: at each layer of ``cuts`` ({layer: positions}), no
    query reads those positions (except a query reading itself, so no row is left empty). Records
    the maps as it goes."""

    def __init__(self, cuts: dict):
        super().__init__()
        self.cuts = {int(layer): np.asarray(sorted(set(int(p) for p in positions)), dtype=np.int64)
                     for layer, positions in cuts.items()}

    def cut(self, layer: int, query_pos, key_pos, allowed: np.ndarray) -> np.ndarray:
        positions = self.cuts.get(layer)
        if positions is None or not len(positions):
            return allowed
        removed = np.isin(key_pos, positions)[None, :] & (key_pos[None, :] != query_pos[:, None])
        return allowed & ~removed                                               # [T, S]


class Cut(Cuts):
    """Cuts at one layer: Cut(layer, positions)."""

    def __init__(self, layer: int, positions):
        super().__init__({layer: positions})


def probability_at(model, ids: np.ndarray, query: int, target: int, trace=None) -> float:
    """p(target) at position query, the prompt being ids[:query + 1], with an optional trace."""
    ids = check_tokens(ids[:query + 1], model.args.vocab_size)
    logits = model.run(ids, np.arange(len(ids)), last_only=True, trace=trace)[-1]   # [V]
    z = logits.astype(np.float64) - logits.max()
    return float(np.exp(z[target]) / np.exp(z).sum())


def cut_experiment(model, ids, source: int, query: int, target: int, seed: int = 0,
                   every_hop: bool = False) -> dict:
    """Cut the relay and, as a control, as many other positions, at the layer where the relay
    hops furthest (or, with ``every_hop``, at every layer where it hops: the position it leaves
    there, and one other position of the same window for the control); the target's probability
    at the query each time.

    Returns {"path", "layer" (the longest hop's), "cuts" ({layer: [relay position]}), "relay"
    (positions cut), "control" (positions cut instead), "p" (no cut), "p_relay", "p_control"}.
    """
    ids = check_tokens(ids, model.args.vocab_size)
    maps = attention_maps(model, ids[:query + 1])                                # [L, H, T, T]
    path = relay_path(maps, source, query)
    hops = [(path[l + 1] - path[l], l) for l in range(len(path) - 1)]
    size, layer = max(hops)                                                      # the longest hop
    if size == 0:
        raise MinimistralError("the relay path never hops: the source is read in place.")
    W = model.args.sliding_window or len(ids)
    rng = np.random.default_rng(seed)
    cuts, controls = {}, {}
    for l in ([layer] if not every_hop else [l for d, l in hops if d > 0]):
        lo, hi = max(0, path[l + 1] - W + 1), path[l + 1]                        # the window it hops in
        others = [p for p in range(lo, hi) if p != path[l] and p not in path]
        cuts[l] = [path[l]]                                                      # the position it leaves
        controls[l] = [int(c) for c in rng.choice(others, size=1, replace=False)] if others else []
    return {"path": path, "layer": layer, "cuts": cuts,
            "relay": [p for l in cuts for p in cuts[l]], "control": [p for l in controls for p in controls[l]],
            "p": probability_at(model, ids, query, target),
            "p_relay": probability_at(model, ids, query, target, Cuts(cuts)),
            "p_control": probability_at(model, ids, query, target, Cuts(controls))}


def sentence_ends(tokenizer, ids, start: int, stop: int) -> list[int]:
    """Positions in [start, stop) whose piece ends a sentence or a quoted line: '.', '!', '?', and
    the same followed by a closing quote ('."')."""
    ends = []
    for p in range(max(0, start), min(stop, len(ids))):
        piece = tokenizer.piece(int(ids[p])).replace("\u2581", "")
        if piece and piece.rstrip('"').endswith((".", "!", "?")) and set(piece) <= set('.!?"'):
            ends.append(p)
    return ends


def carrier_cut(model, ids, source: int, query: int, target: int, carriers, seed: int = 0) -> dict:
    """Cut a set of positions between source and query (``carriers``, e.g. sentence_ends) at every
    layer, then, as a control, as many other positions drawn from the same span; the target's
    probability at the query each time. If the name travels on those positions, cutting them
    removes it, and cutting as many others does not.

    Returns {"carriers", "control" (positions), "p" (no cut), "p_carriers", "p_control"}.
    """
    ids = check_tokens(ids, model.args.vocab_size)
    carriers = sorted({int(p) for p in carriers if source < p < query})
    if not carriers:
        raise MinimistralError(f"carrier_cut needs positions strictly between source {source} and query {query}.")
    others = [p for p in range(source + 1, query) if p not in carriers]
    control = sorted(int(c) for c in np.random.default_rng(seed).choice(
        others, size=min(len(carriers), len(others)), replace=False)) if others else []
    layers = range(model.args.n_layers)
    return {"carriers": carriers, "control": control,
            "p": probability_at(model, ids, query, target),
            "p_carriers": probability_at(model, ids, query, target, Cuts({l: carriers for l in layers})),
            "p_control": probability_at(model, ids, query, target, Cuts({l: control for l in layers}))}
