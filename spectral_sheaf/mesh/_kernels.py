"""Numba kernels for triangle meshes: per-face geometry and CSR assembly.

Conventions: ``faces[f, c]`` is corner ``c`` of face ``f``; the edge *opposite* corner
``c`` joins ``faces[f, (c + 1) % 3]`` and ``faces[f, (c + 2) % 3]``, and every
per-face array of shape ``(f, 3)`` (lengths, cotangents, weights) is indexed that way,
as libigl's ``edge_lengths`` is.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True, inline="always")
def _heron_double_area(a, b, c):  # pragma: no cover - compiled
    """Twice the area from side lengths, by Kahan's cancellation-free form of Heron.

    Returns a negative number when the lengths violate the triangle inequality.
    """
    # sort so that a >= b >= c
    if a < b:
        a, b = b, a
    if b < c:
        b, c = c, b
    if a < b:
        a, b = b, a
    p = (a + (b + c)) * (c - (a - b)) * (c + (a - b)) * (a + (b - c))
    if p < 0.0:
        return -1.0
    return 0.5 * np.sqrt(p)


@njit(cache=True, parallel=True)
def face_cotangents(V, F):  # pragma: no cover - compiled
    """Cotangent of every corner angle and twice each face's area, from positions.

    ``cot[f, c] = <u, v> / |u x v|`` with ``u, v`` the edges leaving corner ``c``;
    ``dbl[f] = |u x v|`` (the same for all three corners; taken at corner 0).
    """
    nf = F.shape[0]
    cot = np.empty((nf, 3), dtype=np.float64)
    dbl = np.empty(nf, dtype=np.float64)
    for f in prange(nf):
        i0 = F[f, 0]
        i1 = F[f, 1]
        i2 = F[f, 2]
        # edges: e0 = p2 - p1 (opposite 0), e1 = p0 - p2, e2 = p1 - p0
        e0x = V[i2, 0] - V[i1, 0]
        e0y = V[i2, 1] - V[i1, 1]
        e0z = V[i2, 2] - V[i1, 2]
        e1x = V[i0, 0] - V[i2, 0]
        e1y = V[i0, 1] - V[i2, 1]
        e1z = V[i0, 2] - V[i2, 2]
        e2x = V[i1, 0] - V[i0, 0]
        e2y = V[i1, 1] - V[i0, 1]
        e2z = V[i1, 2] - V[i0, 2]
        cx = e1y * e2z - e1z * e2y
        cy = e1z * e2x - e1x * e2z
        cz = e1x * e2y - e1y * e2x
        d = np.sqrt(cx * cx + cy * cy + cz * cz)
        dbl[f] = d
        # corner 0: edges e2 and -e1; corner 1: e0 and -e2; corner 2: e1 and -e0
        cot[f, 0] = -(e2x * e1x + e2y * e1y + e2z * e1z) / d
        cot[f, 1] = -(e0x * e2x + e0y * e2y + e0z * e2z) / d
        cot[f, 2] = -(e1x * e0x + e1y * e0y + e1z * e0z) / d
    return cot, dbl


@njit(cache=True, parallel=True)
def length_cotangents(lengths):  # pragma: no cover - compiled
    """Corner cotangents and twice the areas from side lengths (intrinsic geometry).

    ``cot_c = (l_a^2 + l_b^2 - l_c^2) / (2 dbl)``, with ``l_c`` opposite corner ``c``.
    A face whose lengths violate the triangle inequality gets ``dbl = -1``.
    """
    nf = lengths.shape[0]
    cot = np.empty((nf, 3), dtype=np.float64)
    dbl = np.empty(nf, dtype=np.float64)
    for f in prange(nf):
        a = lengths[f, 0]
        b = lengths[f, 1]
        c = lengths[f, 2]
        d = _heron_double_area(a, b, c)
        dbl[f] = d
        a2 = a * a
        b2 = b * b
        c2 = c * c
        cot[f, 0] = (b2 + c2 - a2) / (2.0 * d)
        cot[f, 1] = (c2 + a2 - b2) / (2.0 * d)
        cot[f, 2] = (a2 + b2 - c2) / (2.0 * d)
    return cot, dbl


@njit(cache=True, parallel=True)
def squared_lengths(V, F):  # pragma: no cover - compiled
    """Squared length of the edge opposite each corner."""
    nf = F.shape[0]
    out = np.empty((nf, 3), dtype=np.float64)
    for f in prange(nf):
        for c in range(3):
            i = F[f, (c + 1) % 3]
            j = F[f, (c + 2) % 3]
            s = 0.0
            for k in range(V.shape[1]):
                t = V[i, k] - V[j, k]
                s += t * t
            out[f, c] = s
    return out


@njit(cache=True, parallel=True)
def voronoi_corner_areas(cot, dbl, l2):  # pragma: no cover - compiled
    """Mixed Voronoi area of every corner (Meyer, Desbrun, Schroeder and Barr 2003).

    A non-obtuse face gives corner ``c`` its Voronoi region,
    ``(l_b^2 cot B + l_a^2 cot A) / 8`` over the two edges at ``c``; an obtuse face
    gives half its area to the obtuse corner and a quarter to each other one.
    """
    nf = cot.shape[0]
    out = np.empty((nf, 3), dtype=np.float64)
    for f in prange(nf):
        area = 0.5 * dbl[f]
        obtuse = -1
        for c in range(3):
            if cot[f, c] < 0.0:
                obtuse = c
        if obtuse >= 0:
            for c in range(3):
                out[f, c] = 0.5 * area if c == obtuse else 0.25 * area
        else:
            for c in range(3):
                a = (c + 1) % 3
                b = (c + 2) % 3
                # edges at c are opposite a and opposite b
                out[f, c] = 0.125 * (l2[f, a] * cot[f, a] + l2[f, b] * cot[f, b])
    return out


@njit(cache=True)
def _row_counts(F, n):  # pragma: no cover - compiled
    count = np.zeros(n, dtype=np.int64)
    nf = F.shape[0]
    for f in range(nf):
        for c in range(3):
            count[F[f, c]] += 2
    return count


@njit(cache=True, parallel=True)
def assemble_face_matrix(F, off, diag, n):  # pragma: no cover - compiled
    """Symmetric CSR buffers of ``sum over faces`` of a 3x3 element matrix.

    Face ``f`` adds ``off[f, c]`` to the two entries ``(i, j)`` and ``(j, i)`` of the
    edge opposite corner ``c`` and ``diag[f, c]`` to the diagonal entry of corner
    ``c``. Entries of the same (i, j) are summed; every row holds its diagonal (an
    explicit zero for a vertex no face uses). Faces with a repeated vertex (the
    Delta-complexes of intrinsic triangulations) are allowed: an "edge" from a vertex
    to itself lands on the diagonal. Column indices come out sorted.
    """
    nf = F.shape[0]
    count = _row_counts(F, n)
    start = np.empty(n + 1, dtype=np.int64)
    start[0] = 0
    for i in range(n):
        start[i + 1] = start[i] + count[i] + 1
    cols = np.empty(start[n], dtype=np.int64)
    vals = np.empty(start[n], dtype=np.float64)
    fill = start[:-1] + 1
    dsum = np.zeros(n, dtype=np.float64)
    for f in range(nf):
        for c in range(3):
            dsum[F[f, c]] += diag[f, c]
            j = F[f, (c + 1) % 3]
            k = F[f, (c + 2) % 3]
            w = off[f, c]
            cols[fill[j]] = k
            vals[fill[j]] = w
            fill[j] += 1
            cols[fill[k]] = j
            vals[fill[k]] = w
            fill[k] += 1
    # per row: sort by column (rows are short), merge equal columns
    length = np.empty(n, dtype=np.int64)
    for i in prange(n):
        cols[start[i]] = i
        vals[start[i]] = dsum[i]
        lo = start[i]
        hi = start[i + 1]
        for p in range(lo + 1, hi):
            cj = cols[p]
            vj = vals[p]
            q = p - 1
            while q >= lo and cols[q] > cj:
                cols[q + 1] = cols[q]
                vals[q + 1] = vals[q]
                q -= 1
            cols[q + 1] = cj
            vals[q + 1] = vj
        w = lo
        for p in range(lo + 1, hi):
            if cols[p] == cols[w]:
                vals[w] += vals[p]
            else:
                w += 1
                cols[w] = cols[p]
                vals[w] = vals[p]
        length[i] = w - lo + 1
    indptr = np.empty(n + 1, dtype=np.int64)
    indptr[0] = 0
    for i in range(n):
        indptr[i + 1] = indptr[i] + length[i]
    indices = np.empty(indptr[n], dtype=np.int64)
    data = np.empty(indptr[n], dtype=np.float64)
    for i in prange(n):
        src = start[i]
        dst = indptr[i]
        for p in range(length[i]):
            indices[dst + p] = cols[src + p]
            data[dst + p] = vals[src + p]
    return indptr, indices, data


@njit(cache=True)
def corner_sums(F, values, n):  # pragma: no cover - compiled
    """Sum per-corner values onto vertices (a lumped mass diagonal)."""
    out = np.zeros(n, dtype=np.float64)
    for f in range(F.shape[0]):
        for c in range(3):
            out[F[f, c]] += values[f, c]
    return out
