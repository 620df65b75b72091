"""Thick-restart block Lanczos for the largest eigenvalues of an M-self-adjoint operator.

Used on the shift-inverted operator ``S = (A - sigma M)^{-1} M``, whose largest
eigenvalues ``theta = 1 / (lambda - sigma)`` are the eigenvalues of ``A`` nearest above
``sigma``. Blocks make two things cheaper than a single-vector Lanczos: a sparse
triangular solve with ``b`` right-hand sides costs well under ``b`` single solves, and
a block of size ``b`` finds up to ``b`` members of a degenerate group in exact
arithmetic (a single vector finds one).

The basis is kept M-orthonormal by two passes of classical Gram-Schmidt against all
previous vectors (full reorthogonalisation) and Cholesky QR, twice, within the block.
The projected matrix ``T = Q^H M S Q`` is built from the Gram-Schmidt coefficients;
``S Q = Q T + V E`` with ``V`` the open block, so the Ritz pair ``(theta, Q y)`` has the
residual ``||E y||_M``, known without applying ``S``. When the basis is full it is
restarted with the wanted Ritz vectors (thick restart), keeping ``E y``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.linalg

__all__ = ["block_lanczos_largest"]


def _mdot(X: np.ndarray, MY: np.ndarray) -> np.ndarray:
    return (X.conj().T if np.iscomplexobj(X) else X.T) @ MY


def _cholesky_qr(W: np.ndarray, MW: np.ndarray, M: Any,
                 out: tuple[np.ndarray, np.ndarray] | None = None,
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """M-orthonormalise ``W = V R``; ``ok`` is False when the block is rank deficient.

    With ``out`` (two arrays shaped like ``W``; M None only), the two passes write into
    them instead of fresh arrays (on a large basis, fresh pages cost as much as the
    arithmetic); ``W`` itself is left as it was.
    """
    W0, MW0 = W, MW
    R = np.eye(W.shape[1], dtype=W.dtype)
    for i in range(2):
        G = _mdot(W, MW)
        G = 0.5 * (G + G.conj().T)
        scale = max(float(np.abs(np.diag(G)).max()), np.finfo(float).tiny)
        try:
            C = np.linalg.cholesky(G)  # G = C C^H
        except np.linalg.LinAlgError:
            return W0, MW0, np.eye(W.shape[1], dtype=W.dtype), False
        if float(np.abs(np.diag(C)).min()) ** 2 < 1e-24 * scale:
            return W0, MW0, np.eye(W.shape[1], dtype=W.dtype), False
        Ci = np.linalg.inv(C)  # b x b lower triangular, well conditioned here
        if out is not None and M is None and out[i].dtype == W.dtype:
            W = np.matmul(W, Ci.conj().T, out=out[i])
            MW = W
        else:
            W = W @ Ci.conj().T
            MW = W if M is None else MW @ Ci.conj().T
        R = C.conj().T @ R
    return W, MW, R, True


class _Basis:
    """Preallocated M-orthonormal basis with its M-image.

    The known kernel ``K`` (with the vectors already found) sits in the columns in
    front of the basis, in the same array, so that one product with the whole array
    projects out both: a kernel of one column, projected on its own (a pass over the
    block each time, and a BLAS product of inner dimension 1), took 0.43 s of a run on
    the 490k grid against 1.04 s for the basis of up to 60 columns. With one pass
    against ``K`` (``k_passes=1``: the missed check's 20 found vectors on that grid),
    ``K`` is left where it is and projected on its own, which spares a copy of it.
    """

    def __init__(self, n: int, cols: int, dtype: Any, M: Any, K: np.ndarray | None,
                 b: int, k_passes: int = 2) -> None:
        self.K: np.ndarray | None = None
        if k_passes == 1 and K is not None and K.shape[1]:
            # one pass against K a block: K stays where it is, projected on its own
            self.K, self.MK = K, (K if M is None else np.asarray(M @ K))
            K = None
        r = 0 if K is None else K.shape[1]
        self.r = r
        self._store = np.empty((n, r + cols), dtype=dtype, order="F")
        if r:
            self._store[:, :r] = K
        self.Q = self._store[:, r:]
        if M is None:
            self._mstore = self._store
        else:
            self._mstore = np.empty((n, r + cols), dtype=dtype, order="F")
            if r:
                self._mstore[:, :r] = np.asarray(M @ K)
        self.MQ = self._mstore[:, r:]
        self.M = M
        # scratch blocks, reused (M None): a product's result, and Cholesky QR's passes;
        # column-major, like the basis, so that a block copied into it is one stream
        self._tmp = np.empty((n, b), dtype=dtype, order="F") if M is None else None
        self._qr = (np.empty((n, b), dtype=dtype, order="F"),
                    np.empty((n, b), dtype=dtype, order="F")) if M is None else None

    def _subtract(self, W: np.ndarray, Q: np.ndarray, c: np.ndarray) -> np.ndarray:
        """``W - Q c``, in place in ``W`` when a scratch block fits (M None)."""
        tmp = self._tmp
        if tmp is None or tmp.shape != W.shape or tmp.dtype != W.dtype:
            return W - Q @ c
        np.matmul(Q, c, out=tmp)
        W -= tmp
        return W

    def project_out(self, W: np.ndarray, MW: np.ndarray, upto: int) -> tuple[np.ndarray,
                                                                                np.ndarray,
                                                                                np.ndarray]:
        """Gram-Schmidt against ``K`` and columns ``:upto``: two passes (one on a K apart)."""
        r = self.r
        C = np.zeros((upto, W.shape[1]), dtype=W.dtype)
        if self.M is None and (not W.flags.writeable
                               or np.may_share_memory(W, self._store[:, :r + upto])):
            W = W.copy()  # the updates below are in place
        if self.K is not None:
            c = _mdot(self.K, MW)
            if self.M is None:
                W = MW = self._subtract(W, self.K, c)
            else:
                W, MW = W - self.K @ c, MW - self.MK @ c
        if r + upto == 0:
            return W, MW, C
        for _ in range(2):
            Q, MQ = self._store[:, :r + upto], self._mstore[:, :r + upto]
            c = _mdot(Q, MW)
            C += c[r:]
            if self.M is None:
                W = MW = self._subtract(W, Q, c)
            else:
                W = W - Q @ c
                MW = MW - MQ @ c
        return W, MW, C

    def new_block(self, W: np.ndarray, M: Any, upto: int, rng: np.random.Generator,
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Orthogonalise ``W`` against columns ``:upto``; returns (V, MV, C, B)."""
        MW = W if M is None else np.asarray(M @ W)
        W, MW, C = self.project_out(W, MW, upto)
        V, MV, B, ok = _cholesky_qr(W, MW, M, self._qr)
        if not ok:
            # (near) invariant subspace: continue with fresh random directions; the
            # coupling of the spent directions is kept in B
            Wn = W.copy()
            norms = np.sqrt(np.abs(np.einsum("ij,ij->j", W.conj(), MW)))
            scale = max(float(norms.max()), np.finfo(float).tiny)
            B = np.zeros((W.shape[1], W.shape[1]), dtype=W.dtype)
            # orthonormalise column by column, replacing dependent ones
            for j in range(W.shape[1]):
                w = Wn[:, j:j + 1]
                mw = w if M is None else np.asarray(M @ w)
                prev = Wn[:, :j]
                mprev = prev if M is None else np.asarray(M @ prev)
                for _ in range(2):
                    c = _mdot(prev, mw)
                    B[:j, j] += c[:, 0]
                    w = w - prev @ c
                    mw = w if M is None else mw - mprev @ c
                nrm = float(np.sqrt(abs(_mdot(w, mw)[0, 0])))
                if nrm <= 1e-10 * scale:
                    r = rng.standard_normal(w.shape).astype(W.dtype)
                    mr = r if M is None else np.asarray(M @ r)
                    r, mr, _ = self.project_out(r, mr, upto)
                    for _ in range(2):
                        c = _mdot(prev, mr)
                        r = r - prev @ c
                        mr = r if M is None else mr - mprev @ c
                    w = r / np.sqrt(abs(_mdot(r, mr)[0, 0]))
                    B[j, j] = 0.0
                else:
                    B[j, j] = nrm
                    w = w / nrm
                Wn[:, j:j + 1] = w
            V = Wn
            MV = V if M is None else np.asarray(M @ V)
        return V, MV, C, B


def block_lanczos_largest(
    apply: Callable[..., np.ndarray],
    n: int,
    k: int,
    *,
    M: Any = None,
    K: np.ndarray | None = None,
    block: int = 8,
    max_dim: int | None = None,
    rtol: float = 1e-10,
    max_applies: int = 10000,
    accept: Callable[[np.ndarray, np.ndarray], bool] | None = None,
    residual_of: Callable[[np.ndarray], np.ndarray] | None = None,
    atol: float = 0.0,
    dtype: Any = np.float64,
    k_passes: int = 2,
    apply_into: bool = False,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, int, bool]:
    """Compute the ``k`` largest eigenpairs of ``S``, given ``apply(M V) = S V``.

    Parameters
    ----------
    apply : callable
        Maps an ``(n, b)`` block ``M V`` to ``S V`` (for shift-invert: a solve with the
        factorisation of ``A - sigma M``).
    n, k : int
        Size and number of pairs.
    M : sparse or None
        The inner product (``S`` is M-self-adjoint).
    K : array, shape (n, r), optional
        M-orthonormal vectors kept out of the basis (a known kernel, found vectors).
    block : int
        Block size.
    max_dim : int, optional
        Basis size that triggers a thick restart; default ``max(3 k, k + 4 block)``.
    rtol : float
        A Ritz pair is converged when ``||S x - theta x||_M <= rtol |theta|``.
    max_applies : int
        Cap on the columns passed to ``apply``.
    accept : callable, optional
        Called with the converged (theta, X); returning False tightens ``rtol``
        and ``atol`` a hundredfold and goes on (the caller checks the true residuals).
    residual_of : callable, optional
        For shift-invert, ``S = (A - sigma M)^{-1} M``: maps a block ``V`` to
        ``(A - sigma M) V``. A Ritz pair is then converged when the residual of the
        original problem, ``||A x - lambda M x||`` with ``lambda = sigma + 1 / theta``,
        is at most ``atol``; that residual is ``||(A - sigma M) V E y|| / |theta|``
        (``V`` the open block), one product with ``A`` and no solve. ``rtol`` is then
        a gate: the product is formed only once every wanted pair meets it.
    atol : float
        See ``residual_of``.
    dtype : dtype
    k_passes : {2, 1}
        Gram-Schmidt passes against ``K`` for each new block (two against the basis
        always). One is enough where ``S`` does not amplify what is left of ``K``
        much: vectors found with residuals at the tolerance (the missed check), not a
        kernel that shift-invert multiplies by ``1 / |sigma|``.
    apply_into : bool
        Whether ``apply`` takes a second argument, a column-major ``(n, b)`` array to
        write ``S V`` into: one array serves every step, where fresh ones would cost
        their pages each time.
    rng : Generator

    Returns
    -------
    theta : ndarray, shape (k,)
        Descending.
    X : ndarray, shape (n, k)
    applies : int
        Columns passed to ``apply``.
    converged : bool
    """
    b = max(1, min(block, n))
    r = 0 if K is None else K.shape[1]
    max_dim = max(3 * k, k + 4 * b) if max_dim is None else max_dim
    max_dim = min(max_dim, n - r - b)
    keep = min(max(k + b, k + k // 2), max_dim - b)
    if residual_of is not None and not atol > 0:
        raise ValueError(f"atol must be > 0 with residual_of; got {atol!r}")
    if max_dim < k + b or keep < k:
        raise ValueError("problem too small for the block Lanczos solver")
    basis = _Basis(n, max_dim + b, dtype, M, K, b, k_passes)
    restart_buf: np.ndarray | None = None
    W0 = rng.standard_normal((n, b))
    if np.dtype(dtype).kind == "c":
        W0 = W0 + 1j * rng.standard_normal((n, b))
    V, MV, _, _ = basis.new_block(W0.astype(dtype), M, 0, rng)
    p = 0  # applied columns: basis.Q[:, :p]; open block at p:p+b
    basis.Q[:, :b] = V
    if M is not None:
        basis.MQ[:, :b] = MV
    T = np.zeros((0, 0), dtype=dtype)
    E = np.zeros((b, 0), dtype=dtype)
    applies = 0
    tightened = 0
    ratio: np.ndarray | None = None  # A's residuals over our own, where last measured
    skipped = 0  # steps in a row whose product with A the ratios skipped
    into = np.empty((n, b), dtype=dtype, order="F") if apply_into else None
    while True:
        # the product is projected in place and copied into the basis: its array is
        # free again by the next step
        W = np.asarray(apply(basis.MQ[:, p:p + b]) if into is None
                       else apply(basis.MQ[:, p:p + b], into))
        applies += b
        Vn, MVn, C, B = basis.new_block(W, M, p + b, rng)
        Tn = np.zeros((p + b, p + b), dtype=dtype)
        Tn[:p, :p] = T
        cross = 0.5 * (E.conj().T + C[:p])
        Tn[:p, p:] = cross
        Tn[p:, :p] = cross.conj().T
        Coo = C[p:]
        Tn[p:, p:] = 0.5 * (Coo + Coo.conj().T)
        T = Tn
        p += b
        E = np.zeros((b, p), dtype=dtype)
        E[:, p - b:] = B
        if p < k:
            basis.Q[:, p:p + b] = Vn
            if M is not None:
                basis.MQ[:, p:p + b] = MVn
            continue
        theta, Y = scipy.linalg.eigh(T)
        want = np.arange(p - 1, p - 1 - k, -1)
        EY = E @ Y[:, want]
        size = np.maximum(np.abs(theta[want]), np.finfo(float).tiny)
        own = np.linalg.norm(EY, axis=0) / size
        done = bool(np.all(own <= rtol))
        if done and residual_of is not None:
            # skipped (at most twice running) while the ratios of A's residuals to our
            # own, pair by pair where last measured, say some are still more than twice
            # too large
            done = (ratio is None or skipped >= 2
                    or float(np.max(own * ratio)) <= 2.0 * atol)
            skipped = 0 if done else skipped + 1
            if done:
                # M x = (A - sigma M) S x = (A - sigma M) (theta x + V E y), so that
                # A x - lambda M x = -(A - sigma M) V E y / theta (the norms through
                # the b x b Gram matrix of (A - sigma M) V: no (n, k) array)
                R = np.asarray(residual_of(Vn))
                G = _mdot(R, R)
                res2 = np.einsum("ij,ij->j", EY.conj(), G @ EY).real
                res = np.sqrt(np.maximum(res2, 0.0)) / size
                ratio = res / np.maximum(own, np.finfo(float).tiny)
                done = bool(np.all(res <= atol))
        if done or applies >= max_applies:
            X = basis.Q[:, :p] @ Y[:, want]
            if not done:
                return theta[want], X, applies, False
            if accept is None or accept(theta[want], X) or tightened >= 2:
                return theta[want], X, applies, True
            tightened += 1
            rtol *= 1e-2
            atol *= 1e-2
        if p + b > max_dim:
            # thick restart with the top Ritz vectors
            kept = np.arange(p - 1, p - 1 - keep, -1)
            if restart_buf is None:
                restart_buf = np.empty((n, keep), dtype=basis.Q.dtype, order="F")
            Qk = np.matmul(basis.Q[:, :p], Y[:, kept], out=restart_buf)
            basis.Q[:, :keep] = Qk
            if M is not None:
                basis.MQ[:, :keep] = basis.MQ[:, :p] @ Y[:, kept]
            T = np.diag(theta[kept]).astype(dtype)
            E = E @ Y[:, kept]
            p = keep
        basis.Q[:, p:p + b] = Vn
        if M is not None:
            basis.MQ[:, p:p + b] = MVn
