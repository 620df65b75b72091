"""Numba kernels of the learner: the augmented normalised sheaf Laplacian, forward and back.

With ``D_u = sum_{e at u} F_{u<|e}^T F_{u<|e}`` and ``S_u = (D_u + I)^{-1/2}``, the
operator is ``Delta = S (D - A_F) S``, ``(A_F)_{uv} = F_{u<|e}^T F_{v<|e}``. Applied to
``X`` (shape ``(n, d, h)``: a ``d x h`` block per node) in three steps, whose
intermediates the reverse pass reuses:

    Z_u = S_u X_u
    W_u = D_u Z_u - sum_{e = (u, v)} F_{u<|e}^T F_{v<|e} Z_v
    Y_u = S_u W_u

Maps are sides-major, ``(2m, d, d)``: ``F[e] = F_{u<|e}`` and ``F[m + e] = F_{v<|e}``
for ``edges[e] = (u, v)`` (the learner's outputs reshaped, with no copy);
the node incidence ``(indptr, nbr, eid, side)`` is :func:`sheaf._kernels.node_incidence`.
Node loops and edge loops run in parallel; every output is written by one iteration.

Arithmetic flags: the kernels of orthogonal and general maps, and the compiled functions
they call, take ``fastmath={"contract"}`` (multiply-adds fused, sums in the order
written). With ``"reassoc"`` as well, Numba 0.68 compiled their parallel loops to code
whose last bits differed between a kernel compiled in the process and the same kernel
loaded from Numba's cache, so a result depended on the state of the cache; with
``"contract"`` alone they agree (``tests/learn/test_reproducible.py``), and they are no
slower. The diagonal kernels keep ``{"reassoc", "contract"}``: compiled or cached, their
bits agree (the same test).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange


@njit(cache=True, inline="always")
def _sub_block(out, B, V, transpose, d, h, w=1.0):  # pragma: no cover - compiled
    """Subtract ``w B V`` (or ``w B^T V``) from ``out``: d x d ``B``, d x h ``V``.

    Rows of ``V`` outermost: the d rows of ``out`` it updates in turn are independent,
    where rows of ``out`` outermost chained each row's d updates through memory (a
    store, then a load of the same row). Each entry still sums over ``j`` in order, so
    the bits are those of the row-outer loop.
    """
    if transpose:
        for j in range(d):
            for i in range(d):
                a = w * B[j, i]
                for c in range(h):
                    out[i, c] -= a * V[j, c]
    else:
        for j in range(d):
            for i in range(d):
                a = w * B[i, j]
                for c in range(h):
                    out[i, c] -= a * V[j, c]


@njit(cache=True, inline="always")
def _pair_block(out, Fu, Fv, d):  # pragma: no cover - compiled
    """Write ``Fu^T Fv`` into ``out`` (d x d), each entry summed over ``k`` in order."""
    for i in range(d):
        for j in range(d):
            acc = 0.0
            for k in range(d):
                acc += Fu[k, i] * Fv[k, j]
            out[i, j] = acc


@njit(cache=True, parallel=True, fastmath={"contract"})
def pair_blocks(F):  # pragma: no cover - compiled
    """Every edge's off-diagonal block ``F_{u<|e}^T F_{v<|e}``, (m, d, d), from (2m, d, d)."""
    m = F.shape[0] // 2
    d = F.shape[1]
    B = np.empty((m, d, d))
    for e in prange(m):
        _pair_block(B[e], F[e], F[m + e], d)
    return B


@njit(cache=True, inline="always")
def _matmul_into(out, A, B, d, h):  # pragma: no cover - compiled
    """Write ``A B`` into ``out`` for ``A`` (d x d) and ``B`` (d x h).

    Rows of ``B`` outermost, as in :func:`_sub_block`; each entry sums over ``k`` in
    order.
    """
    for i in range(d):
        for c in range(h):
            out[i, c] = 0.0
    for k in range(d):
        for i in range(d):
            a = A[i, k]
            for c in range(h):
                out[i, c] += a * B[k, c]


@njit(cache=True, inline="always")
def _add_product(out, A, B, d):  # pragma: no cover - compiled
    """Add ``A B`` to ``out`` (d x d each), each entry's d terms in a register, in order."""
    for k in range(d):
        for b in range(d):
            acc = out[k, b]
            for a in range(d):
                acc += A[k, a] * B[a, b]
            out[k, b] = acc


@njit(cache=True, inline="always")
def _add_pair_gradient(dFu, dFv, Fu, Fv, dWu, Zu, dWv, Zv, Bm, d, h):  # pragma: no cover
    """Add an edge's gradient through its pair block ``F_u^T F_v`` to ``dFu``, ``dFv``.

    The block enters ``W_u`` as ``-F_u^T F_v Z_v`` and ``W_v`` as its transpose times
    ``Z_u``, so its gradient is ``B = -(dW_u Z_v^T + Z_u dW_v^T)``: ``dF_u += F_v B^T``
    and ``dF_v += F_u B``. ``B`` is formed whole in the scratch ``Bm`` (d x d), one
    reduction over the channels per entry; then each entry of ``dF_u`` and ``dF_v``
    takes its d terms in a register. Adding each term of ``B`` as it came (a read and
    a write of the entry per term) took a third more time at d = 5; the sums are the
    same, term by term, so the bits are too.
    """
    for a in range(d):
        for b in range(d):
            bab = 0.0
            for c in range(h):
                bab -= dWu[a, c] * Zv[b, c] + Zu[a, c] * dWv[b, c]
            Bm[a, b] = bab
    _add_product(dFu, Fv, Bm.T, d)
    _add_product(dFv, Fu, Bm, d)


# matrices the cyclic Jacobi solver below works on at once, one per SIMD lane
_LANES = 8


@njit(cache=True, fastmath={"contract"})
def _jacobi_eigh(A, w, V):  # pragma: no cover - compiled
    """Eigen-decompose small symmetric matrices in place by cyclic Jacobi rotations.

    ``A`` (d, d, lanes) holds one matrix per lane, the last axis; on return ``w``
    (d, lanes) holds the eigenvalues and the columns of ``V`` (d, d, lanes) the
    eigenvectors. For the stalk sizes of the learner (d <= 8) this is several times
    faster than a LAPACK call with its allocations, and as accurate (quadratic
    convergence; a matrix's sweeps stop when its off-diagonal part is below 1e-15 of
    its norm).

    Each step of the rotations' serial chain (two divisions and two square roots per
    rotation) serves all lanes at once: 7600 matrices of order 5 (film's nodes) took
    5.9 ms in lanes of 8 against 8.3 ms one at a time, on two threads. A lane that has
    converged (marked by a negative ``norm``), or whose pivot is zero, gets the
    identity rotation (cosine 1, sine 0), which leaves it exactly as it is, so each
    lane's result is bitwise that of its matrix alone.
    """
    d = A.shape[0]
    lanes = A.shape[2]
    cs = np.empty(lanes)
    sn = np.empty(lanes)
    norm = np.empty(lanes)
    for i in range(d):
        for j in range(d):
            for q in range(lanes):
                V[i, j, q] = 1.0 if i == j else 0.0
    for q in range(lanes):
        acc = 0.0
        for i in range(d):
            for j in range(d):
                acc += A[i, j, q] * A[i, j, q]
        norm[q] = acc
    for _ in range(50):
        live = 0
        for q in range(lanes):
            if norm[q] < 0.0:
                continue
            off = 0.0
            for i in range(d):
                for j in range(i + 1, d):
                    off += A[i, j, q] * A[i, j, q]
            if off <= 1e-30 * norm[q] or off == 0.0:
                norm[q] = -1.0  # converged: marked by a negative norm
            else:
                live += 1
        if live == 0:
            break
        for p in range(d):
            for r in range(p + 1, d):
                for q in range(lanes):
                    apq = A[p, r, q]
                    if norm[q] >= 0.0 and apq != 0.0:
                        theta = (A[r, r, q] - A[p, p, q]) / (2.0 * apq)
                        t = (1.0 if theta >= 0 else -1.0) / (abs(theta)
                                                             + np.sqrt(theta * theta + 1.0))
                        c = 1.0 / np.sqrt(t * t + 1.0)
                        cs[q] = c
                        sn[q] = t * c
                    else:
                        cs[q] = 1.0
                        sn[q] = 0.0
                for k in range(d):
                    for q in range(lanes):
                        akp = A[k, p, q]
                        akr = A[k, r, q]
                        A[k, p, q] = cs[q] * akp - sn[q] * akr
                        A[k, r, q] = sn[q] * akp + cs[q] * akr
                for k in range(d):
                    for q in range(lanes):
                        apk = A[p, k, q]
                        ark = A[r, k, q]
                        A[p, k, q] = cs[q] * apk - sn[q] * ark
                        A[r, k, q] = sn[q] * apk + cs[q] * ark
                for k in range(d):
                    for q in range(lanes):
                        vkp = V[k, p, q]
                        vkr = V[k, r, q]
                        V[k, p, q] = cs[q] * vkp - sn[q] * vkr
                        V[k, r, q] = sn[q] * vkp + cs[q] * vkr
    for i in range(d):
        for q in range(lanes):
            w[i, q] = A[i, i, q]


@njit(cache=True, parallel=True, fastmath={"contract"})
def laplacian_forward(F, X, indptr, nbr, eid, side):  # pragma: no cover - compiled
    """Return ``Y = Delta X`` and the intermediates ``(D, lam, Q, S, Z, W, B)``.

    ``B`` holds each edge's block ``F_{u<|e}^T F_{v<|e}`` (:func:`pair_blocks`), formed
    once and used by both ends here and again in the reverse pass.
    """
    n, d, h = X.shape
    m = F.shape[0] // 2
    B = pair_blocks(F)
    D = np.zeros((n, d, d))
    lam = np.empty((n, d))
    Q = np.empty((n, d, d))
    S = np.empty((n, d, d))
    Z = np.empty((n, d, h))
    # contiguous chunks of nodes, one scratch block each (per-node scratch arrays cost
    # more in fresh pages than they save); within a chunk, groups of _LANES nodes share
    # one call of the eigen-solver (chunks hold whole groups but the last; a short
    # group fills its free lanes with I)
    n_chunks = min(n, 64)
    per_chunk = (n + n_chunks - 1) // max(n_chunks, 1)
    size = (per_chunk + _LANES - 1) // _LANES * _LANES
    for chunk in prange(n_chunks):
        Au = np.empty((d, d, _LANES))  # the solver works in place
        wu = np.empty((d, _LANES))
        Vu = np.empty((d, d, _LANES))
        r = np.empty(d)
        end = min(n, (chunk + 1) * size)
        for first in range(chunk * size, end, _LANES):
            count = min(_LANES, end - first)
            for q in range(_LANES):
                for a in range(d):
                    for b in range(d):
                        Au[a, b, q] = 1.0 if a == b else 0.0
            for q in range(count):
                u = first + q
                for p in range(indptr[u], indptr[u + 1]):
                    Fo = F[eid[p] + side[p] * m]
                    for a in range(d):
                        for b in range(d):
                            acc = 0.0
                            for k in range(d):
                                acc += Fo[k, a] * Fo[k, b]
                            D[u, a, b] += acc
                for a in range(d):
                    for b in range(d):
                        Au[a, b, q] = D[u, a, b]
                    Au[a, a, q] += 1.0
            _jacobi_eigh(Au, wu, Vu)
            for q in range(count):
                u = first + q
                for a in range(d):
                    lam[u, a] = wu[a, q]
                    for b in range(d):
                        Q[u, a, b] = Vu[a, b, q]
                for k in range(d):
                    r[k] = 1.0 / np.sqrt(lam[u, k])
                for a in range(d):
                    for b in range(d):
                        acc = 0.0
                        for k in range(d):
                            acc += Q[u, a, k] * Q[u, b, k] * r[k]
                        S[u, a, b] = acc
                _matmul_into(Z[u], S[u], X[u], d, h)
    W = np.empty((n, d, h))
    Y = np.empty((n, d, h))
    for u in prange(n):
        _matmul_into(W[u], D[u], Z[u], d, h)
        for p in range(indptr[u], indptr[u + 1]):
            _sub_block(W[u], B[eid[p]], Z[nbr[p]], side[p] == 1, d, h)
        _matmul_into(Y[u], S[u], W[u], d, h)
    return Y, D, lam, Q, S, Z, W, B


@njit(cache=True, parallel=True, fastmath={"contract"})
def laplacian_backward(G, F, X, edges, indptr, nbr, eid, side, D, lam, Q, S, Z, W, B):
    """Reverse pass of :func:`laplacian_forward` for ``G = dL/dY``.

    Returns ``dX`` (n, d, h) and ``dF`` (2m, d, d), sides-major as ``F``.
    """  # pragma: no cover - compiled
    n, d, h = X.shape
    m = edges.shape[0]
    dW = np.empty((n, d, h))
    for u in prange(n):
        _matmul_into(dW[u], S[u], G[u], d, h)  # S symmetric
    dX = np.empty((n, d, h))
    dDtot = np.empty((n, d, d))
    # scratch per chunk of nodes: no allocation (nor BLAS call) inside the loop, and
    # no per-node scratch arrays
    n_chunks = min(n, 64)
    size = (n + n_chunks - 1) // max(n_chunks, 1)
    for chunk in prange(n_chunks):
        dZ = np.empty((d, h))
        dS = np.empty((d, d))
        M = np.empty((d, d))
        for u in range(chunk * size, min(n, (chunk + 1) * size)):
            _matmul_into(dZ, D[u], dW[u], d, h)
            for p in range(indptr[u], indptr[u + 1]):
                _sub_block(dZ, B[eid[p]], dW[nbr[p]], side[p] == 1, d, h)
            _matmul_into(dX[u], S[u], dZ, d, h)
            # S enters twice: Y = S W and Z = S X; dS = sym(G W^T + dZ X^T)
            for a in range(d):
                for b in range(d):
                    acc = 0.0
                    for c in range(h):
                        acc += G[u, a, c] * W[u, b, c] + dZ[a, c] * X[u, b, c]
                    dS[a, b] = acc
            for a in range(d):
                for b in range(a + 1, d):
                    t = 0.5 * (dS[a, b] + dS[b, a])
                    dS[a, b] = t
                    dS[b, a] = t
            # d(f(A)) for f(x) = x^-1/2 on A = D + I = Q diag(lam) Q^T: Daleckii-Krein,
            # M = Q^T dS Q scaled entrywise, then Q M Q^T
            V = Q[u]
            T = dDtot[u]  # scratch until its final value is written below
            for a in range(d):
                for j in range(d):
                    acc = 0.0
                    for k in range(d):
                        acc += dS[a, k] * V[k, j]
                    T[a, j] = acc
            w = lam[u]
            r = dS[0]  # lam^-1/2; dS is free until it receives Q M below
            for i in range(d):
                r[i] = 1.0 / np.sqrt(w[i])
            for i in range(d):
                for j in range(d):
                    acc = 0.0
                    for k in range(d):
                        acc += V[k, i] * T[k, j]
                    if abs(w[i] - w[j]) > 1e-12 * (w[i] + w[j]):
                        acc *= (r[i] - r[j]) / (w[i] - w[j])
                    else:  # the derivative of x^-1/2 at the mean, (x^-1/2)' = -x^-3/2 / 2
                        mean = 0.5 * (w[i] + w[j])
                        acc *= -0.5 / (mean * np.sqrt(mean))
                    M[i, j] = acc
            for a in range(d):
                for j in range(d):
                    acc = 0.0
                    for k in range(d):
                        acc += V[a, k] * M[k, j]
                    dS[a, j] = acc  # dS now holds Q M
            for a in range(d):
                for b in range(d):
                    acc = 0.0
                    for k in range(d):
                        acc += dS[a, k] * V[b, k]
                    for c in range(h):
                        acc += dW[u, a, c] * Z[u, b, c]
                    T[a, b] = acc
    dF = np.zeros((2 * m, d, d))
    e_chunks = min(m, 64)
    e_size = (m + e_chunks - 1) // max(e_chunks, 1)
    for chunk in prange(e_chunks):
        Bm = np.empty((d, d))  # scratch: the pair block's gradient, then g_u, then g_v
        for e in range(chunk * e_size, min(m, (chunk + 1) * e_size)):
            u = edges[e, 0]
            v = edges[e, 1]
            Fu = F[e]
            Fv = F[m + e]
            _add_pair_gradient(dF[e], dF[m + e], Fu, Fv, dW[u], Z[u], dW[v], Z[v], Bm,
                               d, h)
            # and through D_u, D_v: with g = dD + dD^T, dF_u += Fu g_u and dF_v += Fv g_v
            _add_degree_gradient(dF[e], Fu, dDtot[u], Bm, d)
            _add_degree_gradient(dF[m + e], Fv, dDtot[v], Bm, d)
    return dX, dF


@njit(cache=True, inline="always")
def _add_degree_gradient(dFo, Fo, dD, g, d):  # pragma: no cover - compiled
    """Add ``Fo (dD + dD^T)`` to ``dFo``; ``g`` (d x d) is scratch for ``dD + dD^T``.

    Each entry of ``dFo`` takes its d terms in a register, in the order of ``a``.
    """
    for a in range(d):
        for b in range(d):
            g[a, b] = dD[a, b] + dD[b, a]
    _add_product(dFo, Fo, g, d)


# ------------------------------------------------------------------ orthogonal maps
# F^T F = I: D_u = deg_u I and S_u = (deg_u + 1)^{-1/2} are scalars fixed by the graph
# (by the graph and the edge weights, below), so no eigen-decomposition runs and the
# maps enter only through the pairs F_{u<|e}^T F_{v<|e}. The maps are sides-major,
# (2m, d, d): F[e] = F_{u<|e} and F[m + e] = F_{v<|e} for edges[e] = (u, v), the layout
# the Cayley kernels produce.
# (The reverse pass drops D's dependence on the maps: for orthogonal maps it is the
# constant deg_u I, and the gradient it would add, F_u times a symmetric matrix, is
# normal to the orthogonal group, so the Cayley reverse pass discards it anyway.)
#
# Edge weights (the reference implementation's connection Laplacian with learned edge
# weights): both maps of edge e scaled by w_e, so with omega_e = w_e^2 the off-diagonal
# block is -omega_e F_u^T F_v and D_u = (sum_{e at u} omega_e) I, still a scalar. An
# empty ``omega`` means every weight 1 (then deg_u is the count, exactly as before).


@njit(cache=True, parallel=True, fastmath={"contract"})
def laplacian_forward_orth(F, omega, X, indptr, nbr, eid, side):  # pragma: no cover
    """:func:`laplacian_forward` for orthogonal maps ``F`` (2m, d, d), sides-major.

    ``omega`` (m,) weighs each edge's block (empty: all 1). Returns ``Y`` and the
    intermediates ``(s, Z, B, deg)``: ``s`` (n,) the scalars ``S_u``, ``B`` the pair
    blocks ``F_{u<|e}^T F_{v<|e}`` (:func:`pair_blocks`, unweighted), formed once per
    edge for both ends and the reverse pass, ``deg`` (n,) the weighted degrees.
    """
    n, d, h = X.shape
    weighted = omega.shape[0] > 0
    B = pair_blocks(F)
    deg = np.empty(n)
    s = np.empty(n)
    Z = np.empty((n, d, h))
    for u in prange(n):
        if weighted:
            acc = 0.0
            for p in range(indptr[u], indptr[u + 1]):
                acc += omega[eid[p]]
            deg[u] = acc
        else:
            deg[u] = float(indptr[u + 1] - indptr[u])
        s[u] = 1.0 / np.sqrt(deg[u] + 1.0)
        for a in range(d):
            for c in range(h):
                Z[u, a, c] = s[u] * X[u, a, c]
    Y = np.empty((n, d, h))
    for u in prange(n):
        W = Y[u]  # W_u, built in place and then scaled by S_u
        for a in range(d):
            for c in range(h):
                W[a, c] = deg[u] * Z[u, a, c]
        for p in range(indptr[u], indptr[u + 1]):
            e = eid[p]
            _sub_block(W, B[e], Z[nbr[p]], side[p] == 1, d, h,
                       omega[e] if weighted else 1.0)
        for a in range(d):
            for c in range(h):
                W[a, c] *= s[u]
    return Y, s, Z, B, deg


@njit(cache=True, parallel=True, fastmath={"contract"})
def laplacian_backward_orth(G, F, omega, X, Y, edges, indptr, nbr, eid, side, s, Z, B,
                            deg):  # pragma: no cover - compiled
    """Reverse pass of :func:`laplacian_forward_orth`: ``dX``, ``dF`` and ``domega``.

    The operator is symmetric, so ``dX = S (D - A_F) S G``. Per edge, with
    ``Bm = -(dW_u Z_v^T + Z_u dW_v^T)`` the gradient of the block ``F_u^T F_v``:
    ``dF_u = omega_e F_v Bm^T`` and ``dF_v = omega_e F_u Bm``. With weights (else
    ``domega`` is empty), ``omega_e`` enters the block, ``<B_e, Bm>``, and the degrees
    of both ends; a degree ``D_u`` enters ``W_u`` directly, ``<dW_u, Z_u>``, and through
    ``S_u = (D_u + 1)^{-1/2}``, which scales row ``u`` of ``Y`` and of ``Z``:
    ``dS_u = (<G_u, Y_u> + <dX_u, X_u>) / S_u`` and ``dS_u/dD_u = -S_u^3 / 2``.
    """
    n, d, h = G.shape
    m = edges.shape[0]
    weighted = omega.shape[0] > 0
    dW = np.empty((n, d, h))
    for u in prange(n):
        for a in range(d):
            for c in range(h):
                dW[u, a, c] = s[u] * G[u, a, c]
    dX = np.empty((n, d, h))
    for u in prange(n):
        dZ = dX[u]
        for a in range(d):
            for c in range(h):
                dZ[a, c] = deg[u] * dW[u, a, c]
        for p in range(indptr[u], indptr[u + 1]):
            e = eid[p]
            _sub_block(dZ, B[e], dW[nbr[p]], side[p] == 1, d, h,
                       omega[e] if weighted else 1.0)
        for a in range(d):
            for c in range(h):
                dZ[a, c] *= s[u]
    dD = np.empty(n if weighted else 0)
    if weighted:
        for u in prange(n):
            direct = 0.0
            ds = 0.0
            for a in range(d):
                for c in range(h):
                    direct += dW[u, a, c] * Z[u, a, c]
                    ds += G[u, a, c] * Y[u, a, c] + dX[u, a, c] * X[u, a, c]
            dD[u] = direct - 0.5 * s[u] * s[u] * ds
    dF = np.zeros((2 * m, d, d))
    domega = np.empty(m if weighted else 0)
    e_chunks = min(m, 64)
    e_size = (m + e_chunks - 1) // max(e_chunks, 1)
    for chunk in prange(e_chunks):
        Bm = np.empty((d, d))
        for e in range(chunk * e_size, min(m, (chunk + 1) * e_size)):
            u = edges[e, 0]
            v = edges[e, 1]
            _add_pair_gradient(dF[e], dF[m + e], F[e], F[m + e], dW[u], Z[u], dW[v], Z[v],
                               Bm, d, h)
            if weighted:  # dF[e] and dF[m + e] hold this edge's terms alone: scale them
                w = omega[e]
                acc = dD[u] + dD[v]
                for a in range(d):
                    for b in range(d):
                        dF[e, a, b] *= w
                        dF[m + e, a, b] *= w
                        acc += B[e, a, b] * Bm[a, b]
                domega[e] = acc
    return dX, dF, domega


@njit(cache=True, parallel=True)
def cayley_forward(T, d):  # pragma: no cover - compiled
    """Cayley maps ``Q = (I - A)^{-1} (I + A)`` of the skew ``A`` of each row of ``T``.

    ``T`` (N, d (d - 1) / 2) holds strict upper triangles, row-major. Returns ``Q`` and
    ``Minv = (I - A)^{-1}`` (kept for the reverse pass). ``I - A`` is inverted by
    Gauss-Jordan elimination without pivoting, which is safe: its leading principal
    minors are ``det(I - A_k) >= 1`` for skew ``A_k``. A LAPACK call per 3 x 3 matrix
    costs more than the arithmetic (numpy's batched solve: 0.7 s an epoch on chameleon).
    """
    N = T.shape[0]
    Q = np.empty((N, d, d))
    Minv = np.empty((N, d, d))
    # rows go in contiguous chunks with one scratch pair each: per-row scratch arrays
    # (N d^2 each) cost more in fresh pages than the arithmetic (film, d = 5: 0.6x)
    n_chunks = min(N, 64)
    size = (N + n_chunks - 1) // max(n_chunks, 1)
    for chunk in prange(n_chunks):
        A = np.zeros((d, d))  # the skew matrix; its diagonal stays 0
        M = np.empty((d, d))  # I - A, reduced in place to I
        for r in range(chunk * size, min(N, (chunk + 1) * size)):
            p = 0
            for i in range(d):
                for j in range(i + 1, d):
                    A[i, j] = T[r, p]
                    A[j, i] = -T[r, p]
                    p += 1
            Inv = Minv[r]
            for i in range(d):
                for j in range(d):
                    M[i, j] = (1.0 if i == j else 0.0) - A[i, j]
                    Inv[i, j] = 1.0 if i == j else 0.0
            for k in range(d):
                piv = 1.0 / M[k, k]
                for j in range(d):
                    M[k, j] *= piv
                    Inv[k, j] *= piv
                for i in range(d):
                    if i != k:
                        f = M[i, k]
                        if f != 0.0:
                            for j in range(d):
                                M[i, j] -= f * M[k, j]
                                Inv[i, j] -= f * Inv[k, j]
            for i in range(d):
                for j in range(d):
                    acc = Inv[i, j]  # the identity part of I + A
                    for k in range(d):
                        acc += Inv[i, k] * A[k, j]
                    Q[r, i, j] = acc
    return Q, Minv


@njit(cache=True, parallel=True)
def cayley_backward(G, Q, Minv, d):  # pragma: no cover - compiled
    """Gradient with respect to ``T`` of ``sum(G * Q)`` for :func:`cayley_forward`.

    From ``(I - A) Q = I + A``: ``dQ = (I - A)^{-1} dA (I + Q)``, so the gradient of
    ``A`` is ``Minv^T G (I + Q)^T`` and that of ``T`` its skew part's upper triangle.
    """
    N = G.shape[0]
    out = np.empty((N, d * (d - 1) // 2))
    n_chunks = min(N, 64)  # one scratch pair per chunk, as in cayley_forward
    size = (N + n_chunks - 1) // max(n_chunks, 1)
    for chunk in prange(n_chunks):
        H = np.empty((d, d))  # Minv^T G
        GA = np.empty((d, d))  # H (I + Q)^T
        for r in range(chunk * size, min(N, (chunk + 1) * size)):
            for i in range(d):
                for j in range(d):
                    acc = 0.0
                    for k in range(d):
                        acc += Minv[r, k, i] * G[r, k, j]
                    H[i, j] = acc
            for i in range(d):
                for j in range(d):
                    acc = H[i, j]
                    for k in range(d):
                        acc += H[i, k] * Q[r, j, k]
                    GA[i, j] = acc
            p = 0
            for i in range(d):
                for j in range(i + 1, d):
                    out[r, p] = GA[i, j] - GA[j, i]
                    p += 1
    return out


# --------------------------------------------------------------------- diagonal maps
# F = diag(f): the blocks are diagonal, D_u = sum f^2 and S_u = (D_u + 1)^{-1/2} are
# vectors, and a pair contributes (f_u * f_v) * Z_v: d h work instead of d^2 h.


@njit(cache=True, parallel=True, fastmath={"reassoc", "contract"})
def laplacian_forward_diag(f, X, indptr, nbr, eid, side):  # pragma: no cover - compiled
    """:func:`laplacian_forward` for diagonal maps ``f`` (m, 2, d).

    Returns ``Y`` and the intermediates ``(D, S, Z, W)``, ``D`` and ``S`` of shape (n, d).
    """
    n, d, h = X.shape
    D = np.zeros((n, d))
    S = np.empty((n, d))
    Z = np.empty((n, d, h))
    for u in prange(n):
        for p in range(indptr[u], indptr[u + 1]):
            for a in range(d):
                D[u, a] += f[eid[p], side[p], a] ** 2
        for a in range(d):
            S[u, a] = 1.0 / np.sqrt(D[u, a] + 1.0)
            for c in range(h):
                Z[u, a, c] = S[u, a] * X[u, a, c]
    W = np.empty((n, d, h))
    Y = np.empty((n, d, h))
    for u in prange(n):
        for a in range(d):
            for c in range(h):
                W[u, a, c] = D[u, a] * Z[u, a, c]
        for p in range(indptr[u], indptr[u + 1]):
            e = eid[p]
            v = nbr[p]
            for a in range(d):
                coef = f[e, 0, a] * f[e, 1, a]
                for c in range(h):
                    W[u, a, c] -= coef * Z[v, a, c]
        for a in range(d):
            for c in range(h):
                Y[u, a, c] = S[u, a] * W[u, a, c]
    return Y, D, S, Z, W


@njit(cache=True, parallel=True, fastmath={"reassoc", "contract"})
def laplacian_backward_diag(G, f, X, edges, indptr, nbr, eid, side, D, S, Z, W):
    """Reverse pass of :func:`laplacian_forward_diag`: ``dX`` and ``df`` (m, 2, d).

    ``dS = sum_c (G W + dZ X)`` (S enters through Y = S W and Z = S X),
    ``dD = sum_c dW Z - S^3 dS / 2``; per edge ``dcoef = -sum_c (dW_u Z_v + dW_v Z_u)``,
    ``df_u = 2 f_u dD_u + f_v dcoef`` and ``df_v = 2 f_v dD_v + f_u dcoef``.
    """  # pragma: no cover - compiled
    n, d, h = X.shape
    m = edges.shape[0]
    dW = np.empty((n, d, h))
    for u in prange(n):
        for a in range(d):
            for c in range(h):
                dW[u, a, c] = S[u, a] * G[u, a, c]
    dX = np.empty((n, d, h))
    dD = np.empty((n, d))
    dZs = np.empty((n, d, h))
    for u in prange(n):
        dZ = dZs[u]
        for a in range(d):
            for c in range(h):
                dZ[a, c] = D[u, a] * dW[u, a, c]
        for p in range(indptr[u], indptr[u + 1]):
            e = eid[p]
            v = nbr[p]
            for a in range(d):
                coef = f[e, 0, a] * f[e, 1, a]
                for c in range(h):
                    dZ[a, c] -= coef * dW[v, a, c]
        for a in range(d):
            dS = 0.0
            dDa = 0.0
            for c in range(h):
                dX[u, a, c] = S[u, a] * dZ[a, c]
                dS += G[u, a, c] * W[u, a, c] + dZ[a, c] * X[u, a, c]
                dDa += dW[u, a, c] * Z[u, a, c]
            dD[u, a] = dDa - 0.5 * S[u, a] ** 3 * dS
    df = np.empty((m, 2, d))
    for e in prange(m):
        u = edges[e, 0]
        v = edges[e, 1]
        for a in range(d):
            dc = 0.0
            for c in range(h):
                dc -= dW[u, a, c] * Z[v, a, c] + dW[v, a, c] * Z[u, a, c]
            df[e, 0, a] = 2.0 * f[e, 0, a] * dD[u, a] + f[e, 1, a] * dc
            df[e, 1, a] = 2.0 * f[e, 1, a] * dD[v, a] + f[e, 0, a] * dc
    return dX, df


# ------------------------------------------------- exp, expm1 and tanh in vector lanes
# libm's exp and expm1 are calls the compiler cannot put in vector lanes, and the
# element-wise kernels (ELU on every layer's features, tanh on every edge's map
# parameters) spent most of their time in them: on film, d = 3, diagonal maps, the ELU
# passes took a fifth of an epoch. These inline versions are plain arithmetic and a
# table lookup (2^k), which the loops vectorise: one pass of the layer's ELU on film
# (365k entries) took 1.1 ms instead of 4.5 ms. Within 1 ulp of libm on 400k arguments
# in [-100, 0] (exp: down to -708) (tests/learn/test_kernels.py); NaN stays NaN.

_POW2 = 2.0 ** -np.arange(1076.0)  # 2^-k, k = 0 .. 1075 (subnormal from 2^-1023; 2^-1075 is 0)
_LN2_HI = 6.93147180369123816490e-01  # ln 2 split as fdlibm does: k * _LN2_HI is exact
_LN2_LO = 1.90821492927058770002e-10
_INV_LN2 = 1.44269504088896338700e00


@njit(cache=True, inline="always")
def _exp_parts(x):  # pragma: no cover - compiled
    """``(2^k, expm1(r))`` with ``x = k ln 2 + r``, ``|r| <= ln(2) / 2``, for ``x <= 0``.

    ``exp(x) = 2^k (1 + expm1(r))``; below -745 the result is exp(-745) (0 to double
    precision). ``expm1(r)`` by its Taylor series to ``r^14 / 14!`` (truncation under
    ``1e-17`` relative), in Horner's form.
    """
    x = -745.0 if x < -745.0 else x  # keeps NaN
    k = np.floor(x * _INV_LN2 + 0.5)
    r = (x - k * _LN2_HI) - k * _LN2_LO
    q = 1.0 / 87178291200.0
    q = q * r + 1.0 / 6227020800.0
    q = q * r + 1.0 / 479001600.0
    q = q * r + 1.0 / 39916800.0
    q = q * r + 1.0 / 3628800.0
    q = q * r + 1.0 / 362880.0
    q = q * r + 1.0 / 40320.0
    q = q * r + 1.0 / 5040.0
    q = q * r + 1.0 / 720.0
    q = q * r + 1.0 / 120.0
    q = q * r + 1.0 / 24.0
    q = q * r + 1.0 / 6.0
    q = q * r + 0.5
    i = -int(k)  # a NaN's index is clamped: the NaN comes through r
    i = 0 if i < 0 else (1075 if i > 1075 else i)
    return _POW2[i], r + r * r * q


@njit(cache=True, inline="always")
def _expm1_neg(x):  # pragma: no cover - compiled
    """``expm1(x)`` for ``x <= 0``: ``2^k expm1(r) + (2^k - 1)``, no cancellation."""
    s, p = _exp_parts(x)
    return s * p + (s - 1.0)


@njit(cache=True, inline="always")
def _exp_neg(x):  # pragma: no cover - compiled
    """``exp(x)`` for ``x <= 0``."""
    s, p = _exp_parts(x)
    return s * p + s


@njit(cache=True, inline="always")
def _tanh(y):  # pragma: no cover - compiled
    """``tanh`` as ``-expm1(-2|y|) / (2 + expm1(-2|y|))``, with the sign of ``y``.

    No cancellation at any ``|y|``: the numerator keeps the relative accuracy of small
    arguments, and for large ones both terms are near 1. Within 2.5 ulps of the exact
    value on a million arguments in [0, 100] (libm's ``tanh``: 1.2; splitting at
    ``|y| = 1/2`` into ``1 - 2 E / (1 + E)``, ``E = exp(-2|y|)``, above gave 2.7), and
    branch-free, so it vectorises.
    """
    e = _expm1_neg(-2.0 * abs(y))
    return math.copysign(-e / (2.0 + e), y)


@njit(cache=True, parallel=True)
def gather_tanh(N1, N2, first, second):  # pragma: no cover - compiled
    """``T[r] = tanh(N1[first[r]] + N2[second[r]])``."""
    R = first.shape[0]
    p = N1.shape[1]
    T = np.empty((R, p))
    for r in prange(R):
        a = first[r]
        b = second[r]
        for j in range(p):
            T[r, j] = N1[a, j] + N2[b, j]
    # tanh in a flat second pass: rows of p = d numbers (diagonal maps) are too short
    # for vector lanes, the whole array is not
    flat = T.reshape(-1)
    for i in prange(flat.size):
        flat[i] = _tanh(flat[i])
    return T



@njit(cache=True, parallel=True)
def scatter_tanh_backward(dT, T, indptr, eid, side):  # pragma: no cover - compiled
    """Reverse pass of :func:`gather_tanh` through the node incidence.

    With ``dZ = dT (1 - T^2)``: ``dN1[u]`` sums ``dZ`` over the rows whose first
    endpoint is ``u`` and ``dN2[u]`` over those whose second is. Node ``u`` at edge ``e``
    on side ``s`` is the first endpoint of row ``e + s m`` and the second of row
    ``e + (1 - s) m``; each output row is written by one iteration.
    """
    n = indptr.shape[0] - 1
    m = T.shape[0] // 2
    p = T.shape[1]
    dN1 = np.zeros((n, p))
    dN2 = np.zeros((n, p))
    for u in prange(n):
        for q in range(indptr[u], indptr[u + 1]):
            r1 = eid[q] + side[q] * m
            r2 = eid[q] + (1 - side[q]) * m
            for j in range(p):
                dN1[u, j] += dT[r1, j] * (1.0 - T[r1, j] * T[r1, j])
                dN2[u, j] += dT[r2, j] * (1.0 - T[r2, j] * T[r2, j])
    return dN1, dN2

# ------------------------------------------------------------ the dense parts of a layer
# Element-wise steps fused into single passes over the (n, d, h) features: numpy would
# make a temporary per operator (the ELU alone takes five), and on a graph like film
# these passes cost more than the Laplacian. A dropout mask is an array of the
# features' shape, or NO_MASK (one element) for none.

NO_MASK = np.ones((1, 1, 1))


@njit(cache=True, parallel=True)
def dropout_scale(r, p):  # pragma: no cover - compiled
    """Turn uniform draws ``r`` (flat) in place into the inverted-dropout mask.

    ``1 / (1 - p)`` where ``r >= p``, else 0: the values of numpy's
    ``(r >= p) / (1 - p)`` without its boolean temporary and second pass.
    """
    keep = 1.0 / (1.0 - p)
    for i in prange(r.shape[0]):
        r[i] = keep if r[i] >= p else 0.0
    return r


@njit(cache=True, inline="always")
def _elu(y):  # pragma: no cover - compiled
    e = _expm1_neg(0.0 if y > 0.0 else y)  # both sides computed: the loops vectorise
    return y if y > 0.0 else e


@njit(cache=True, parallel=True)
def mix_stalks(W1, x, mask_m, mask_d):  # pragma: no cover - compiled
    """``xf = x * mask_m``, ``xd = x * mask_d`` and ``X1 = W1 xd`` (per node, ``W1`` d x d).

    An unmasked output is ``x`` itself, not a copy.
    """
    n, d, h = x.shape
    has_m = mask_m.shape[0] == n
    has_d = mask_d.shape[0] == n
    xf = np.empty_like(x) if has_m else x
    xd = np.empty_like(x) if has_d else x
    X1 = np.empty_like(x)
    for u in prange(n):
        for a in range(d):
            for c in range(h):
                if has_m:
                    xf[u, a, c] = x[u, a, c] * mask_m[u, a, c]
                if has_d:
                    xd[u, a, c] = x[u, a, c] * mask_d[u, a, c]
        for i in range(d):
            for c in range(h):
                X1[u, i, c] = 0.0
            for j in range(d):
                w = W1[i, j]
                for c in range(h):
                    X1[u, i, c] += w * xd[u, j, c]
    return xf, xd, X1


@njit(cache=True, parallel=True)
def mix_stalks_backward(W1, dX1, xd, mask_d, dxf, mask_m, dx):  # pragma: no cover
    """Reverse pass of :func:`mix_stalks`: ``dx += (W1^T dX1) * mask_d + dxf * mask_m``.

    Updates ``dx`` in place and returns ``dW1`` = sum over nodes and channels of
    ``dX1_i xd_j``.
    """
    n, d, h = dx.shape
    has_m = mask_m.shape[0] == n
    has_d = mask_d.shape[0] == n
    part = np.zeros((n, d, d))
    for u in prange(n):
        for j in range(d):
            for c in range(h):
                acc = 0.0
                for i in range(d):
                    acc += W1[i, j] * dX1[u, i, c]
                if has_d:
                    acc *= mask_d[u, j, c]
                g = dxf[u, j, c]
                if has_m:
                    g *= mask_m[u, j, c]
                dx[u, j, c] += acc + g
        for i in range(d):
            for j in range(d):
                acc = 0.0
                for c in range(h):
                    acc += dX1[u, i, c] * xd[u, j, c]
                part[u, i, j] = acc
    return part.sum(axis=0)


@njit(cache=True, parallel=True)
def elu_residual(x, Y, t):  # pragma: no cover - compiled
    """Return the layer's output ``(1 + t_a) x - ELU(Y)``, ``t`` (d,) the ``tanh eps``."""
    n, d, h = x.shape
    out = np.empty_like(x)
    for u in prange(n):
        for a in range(d):
            k = 1.0 + t[a]
            for c in range(h):
                out[u, a, c] = k * x[u, a, c] - _elu(Y[u, a, c])
    return out


@njit(cache=True, parallel=True)
def elu_residual_backward(dx, x, Y, t):  # pragma: no cover - compiled
    """Reverse pass of :func:`elu_residual` for ``dx`` = d loss / d output.

    Returns ``dY``, the residual path's ``(1 + t_a) dx`` and, per stalk index, the sum of
    ``dx * x`` (the gradient of ``t``).
    """
    n, d, h = x.shape
    dY = np.empty_like(x)
    dprev = np.empty_like(x)
    part = np.zeros((n, d))
    for u in prange(n):
        for a in range(d):
            k = 1.0 + t[a]
            for c in range(h):
                g = dx[u, a, c]
                y = Y[u, a, c]
                e = _exp_neg(0.0 if y > 0.0 else y)
                dY[u, a, c] = -g if y > 0.0 else -g * e
                dprev[u, a, c] = k * g
            # the sum in a loop of its own: in order, it would keep the loop above
            # (and its exp) out of vector lanes
            acc = 0.0
            for c in range(h):
                acc += dx[u, a, c] * x[u, a, c]
            part[u, a] = acc
    return dY, dprev, part.sum(axis=0)


@njit(cache=True, parallel=True)
def elu_dropout(H, mask):  # pragma: no cover - compiled
    """``ELU(H) * mask`` for ``H`` (n, k) and a mask (n, k) or NO_MASK's one element."""
    n, k = H.shape
    has = mask.size == H.size
    flat = mask.reshape(-1)
    out = np.empty_like(H)
    for u in prange(n):
        for j in range(k):
            y = _elu(H[u, j])
            out[u, j] = y * flat[u * k + j] if has else y
    return out


@njit(cache=True, parallel=True)
def elu_dropout_backward(dx, H, mask):  # pragma: no cover - compiled
    """Reverse pass of :func:`elu_dropout`: ``dx * mask * ELU'(H)``."""
    n, k = H.shape
    has = mask.size == H.size
    flat = mask.reshape(-1)
    out = np.empty_like(H)
    for u in prange(n):
        for j in range(k):
            y = H[u, j]
            e = _exp_neg(0.0 if y > 0.0 else y)
            g = dx[u, j] if y > 0.0 else dx[u, j] * e
            out[u, j] = g * flat[u * k + j] if has else g
    return out



# ----------------------------------------------------------- sparse (bag-of-words) input
# scipy's CSR times dense runs one scalar loop per stored entry; these vectorise along
# the hidden columns (texas: 0.1 ms instead of 0.5 ms per product).


@njit(cache=True, parallel=True)
def csr_times_dense(indptr, indices, data, B):  # pragma: no cover - compiled
    """Return ``A @ B`` for a CSR ``A`` given by its arrays and a dense ``B``."""
    n = indptr.shape[0] - 1
    k = B.shape[1]
    out = np.zeros((n, k))
    for i in prange(n):
        for p in range(indptr[i], indptr[i + 1]):
            a = data[p]
            j = indices[p]
            for c in range(k):
                out[i, c] += a * B[j, c]
    return out


@njit(cache=True)
def csr_transpose_times_dense(indptr, indices, data, G, n_cols):  # pragma: no cover
    """``A^T @ G`` for a CSR ``A`` with ``n_cols`` columns: each stored entry adds a row.

    Serial: rows of the output are shared between the entries of different rows of A.
    """
    k = G.shape[1]
    out = np.zeros((n_cols, k))
    for i in range(indptr.shape[0] - 1):
        for p in range(indptr[i], indptr[i + 1]):
            a = data[p]
            j = indices[p]
            for c in range(k):
                out[j, c] += a * G[i, c]
    return out


@njit(cache=True, inline="always")
def _adam_entry(pf, gf, af, bf, i, decay, b1, b2, step, c2, eps):  # pragma: no cover
    gk = gf[i] + decay * pf[i] if decay != 0.0 else gf[i]
    af[i] = af[i] * b1 + (1.0 - b1) * gk
    bf[i] = bf[i] * b2 + (1.0 - b2) * gk * gk
    pf[i] -= step * af[i] / (np.sqrt(bf[i] / c2) + eps)


@njit(cache=True)
def adam_update(p, g, m1, m2, decay, b1, b2, step, c2, eps):  # pragma: no cover
    """One Adam step in place, in ``torch.optim.Adam``'s arithmetic order.

    ``g + decay p`` is the decayed gradient, ``step = lr / (1 - b1^t)`` and
    ``c2 = 1 - b2^t``; all arrays are C-contiguous and of one shape.
    """
    pf, gf = p.reshape(-1), g.reshape(-1)  # views: the arrays are contiguous
    af, bf = m1.reshape(-1), m2.reshape(-1)
    for i in range(pf.size):
        _adam_entry(pf, gf, af, bf, i, decay, b1, b2, step, c2, eps)


@njit(cache=True, parallel=True)
def adam_update_parallel(p, g, m1, m2, decay, b1, b2, step, c2, eps):  # pragma: no cover
    """Run :func:`adam_update` over the threads, entry by entry the same arithmetic.

    For the large arrays: the encoder's weights (136k entries on texas) took a fifth
    of a texas epoch in one thread.
    """
    pf, gf = p.reshape(-1), g.reshape(-1)
    af, bf = m1.reshape(-1), m2.reshape(-1)
    for i in prange(pf.size):
        _adam_entry(pf, gf, af, bf, i, decay, b1, b2, step, c2, eps)
