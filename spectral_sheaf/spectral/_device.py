"""``eigsh`` on CuPy input: the cupyx solvers, verified on the device.

The methods that need only products run where the matrix is: Chebyshev-filtered
subspace iteration (``method="chfsi"``, ours, in ``_chfsi.py``), thick-restart Lanczos
(``cupyx.scipy.sparse.linalg.eigsh``, behind ``method="arpack"``), LOBPCG
(``cupyx.scipy.sparse.linalg.lobpcg``) and dense ``eigh`` (up to 5000 rows). There is no
shift-invert: the GPU has no sparse factorisation of ours. Every answer gets the same
verification as on the CPU: residuals against ``tol * ||A||``, and a search for skipped
eigenvalues, here the smallest (largest) Ritz value on the M-orthogonal complement of
the found vectors, by Chebyshev-filtered subspace iteration (a block of 9, at most 60
steps) where M is None or diagonal, else by single-vector LOBPCG (200 steps). A
Rayleigh quotient can only overestimate the next eigenvalue, so a value past the last
found one proves a miss; a Ritz pair that has not converged makes the check
"inconclusive" (reported, not a failure; for Lanczos, a reason to restart). The same
code runs on SciPy input, which is how it is tested without a device.
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np

from .. import _backend
from .._validation import check_int

__all__ = ["eigsh_device"]

DEVICE_METHODS = ("auto", "dense", "arpack", "lobpcg", "chfsi")
DENSE_MAX = 5000  # dense eigh on the device up to this size
DENSE_AUTO = 500  # auto uses dense eigh up to this size


def _linalg(A: Any) -> Any:
    return _backend.sparse_linalg_namespace(A)


def _dense(A: Any) -> Any:
    return A.toarray() if hasattr(A, "toarray") else A


def eigsh_device(A: Any, k: int, *, M: Any, which: str, method: str, tol: float,
                 maxiter: int | None, known_kernel: Any, on_failure: str, rng: Any,
                 t0: float) -> Any:
    """Run :func:`~spectral_sheaf.spectral.eigsh` for CuPy input (see its docstring)."""
    from ._eigsh import EigenResult, rejected, unverified

    xp = _backend.array_namespace(A, M, known_kernel)  # a CPU/GPU mix is a TypeError
    if method not in DEVICE_METHODS:
        raise ValueError(f"method={method!r} runs on the CPU only; for CuPy input use "
                         "'auto', 'dense', 'arpack' (cupyx's Lanczos), 'lobpcg' or 'chfsi', "
                         "or move A to the host with spectral_sheaf._backend.to_numpy")
    shape: tuple[int, ...] = tuple(getattr(A, "shape", ()))
    if len(shape) != 2 or shape[0] != shape[1]:
        raise ValueError(f"A must be a square matrix; got shape {shape}")
    n = shape[0]
    k = check_int(k, "k", minimum=1)
    if k > n or (k == n and method not in ("dense", "auto")):
        raise ValueError(
            f"k must be < n = {n} for iterative methods (<= n for method='dense'); got k={k}")
    if xp.iscomplexobj(A.data if hasattr(A, "data") and hasattr(A, "tocsr") else A):
        raise TypeError("A must be real for CuPy input; got a complex matrix")
    Ad = A.tocsr() if hasattr(A, "tocsr") else xp.asarray(A, dtype=xp.float64)
    vals = Ad.data if hasattr(Ad, "tocsr") else Ad
    if not bool(xp.isfinite(vals).all()):
        raise ValueError("A must contain only finite values; got NaN or inf entries")
    asym = Ad - Ad.T
    err = float(abs(asym).max()) if not hasattr(asym, "tocsr") else \
        (float(abs(asym.data).max()) if asym.nnz else 0.0)
    norm = float(xp.asarray(abs(Ad).sum(axis=1)).max()) if n else 0.0
    if err > 1e-10 * max(norm, 1e-300):
        raise ValueError(f"A must be symmetric for eigsh; got max |A - A^T| = {err:.3g}. "
                         "eigsh solves symmetric (Hermitian) problems only")
    mdiag = None
    if M is not None:
        if tuple(getattr(M, "shape", ())) != (n, n):
            raise ValueError(f"M must have the shape of A, ({n}, {n}); got "
                             f"{getattr(M, 'shape', ())}")
        d = xp.asarray(M.diagonal())
        if bool((d <= 0).any()):
            raise ValueError(f"M must be positive definite; got a diagonal entry "
                             f"{float(d.min()):.3g} <= 0")
        mdiag = _diagonal_of(xp, M)
    K = None
    if known_kernel is not None:
        K = xp.asarray(known_kernel, dtype=xp.float64).reshape(n, -1)
        if which != "smallest":
            raise ValueError("known_kernel applies to which='smallest' only")
        if K.shape[1] > k:
            raise ValueError(f"known_kernel has {K.shape[1]} columns, more than k = {k}")
        K = _m_orthonormalize(xp, K, M)
    g = np.random.default_rng(rng)
    if method == "auto":
        order = ["dense"] if n <= DENSE_AUTO else (
            ["chfsi", "arpack", "lobpcg"] if M is None or mdiag is not None else ["lobpcg"])
        if n <= DENSE_MAX and "dense" not in order:
            order.append("dense")
    else:
        order = [method]
    counter = {"mv": 0}
    attempts: list[str] = []
    last = None
    for m in order:
        try:
            lam, X = _solve(xp, m, Ad, M, mdiag, K, k, which, tol, maxiter, norm, g,
                            counter)
        except (np.linalg.LinAlgError, RuntimeError, ValueError) as exc:
            if method != "auto" and isinstance(exc, ValueError):
                raise
            attempts.append(f"{m}: failed ({type(exc).__name__}: {str(exc)[:120]})")
            continue
        missed = _missed_check(xp, Ad, M, lam, X, K, which, tol, norm, g, counter)
        if m == "arpack" and (missed.startswith("missed") or "inconclusive" in missed):
            # single-vector Lanczos skips members of degenerate groups (seen on the
            # device on grids of 90k and 490k rows, where the check was inconclusive):
            # run it again with what it found moved out of the way, as on the CPU
            try:
                lam, X, missed = _arpack_restarts(xp, Ad, M, mdiag, K, lam, X, k, which,
                                                  tol, maxiter, norm, g, counter, missed)
            except (np.linalg.LinAlgError, RuntimeError, ValueError) as exc:
                attempts.append(f"{m}: restart failed ({type(exc).__name__}: "
                                f"{str(exc)[:120]})")
                continue
        MX = X if M is None else _backend.dense_product(M, X)
        R = _backend.dense_product(Ad, X) - MX * lam[None, :]
        res = _backend.to_numpy(xp.linalg.norm(R, axis=0))
        conv = res <= tol * max(norm, np.finfo(float).tiny)
        label = "chfsi (device)" if m == "chfsi" else f"{m} (cupyx)"  # ours, or cupyx's
        last = EigenResult(lam, _fix_signs(xp, X), res, conv, label, tol, norm,
                           counter["mv"], 0, time.perf_counter() - t0, missed,
                           tuple(attempts))
        if last.verified:
            return last
        attempts.append(rejected(m, res, tol, norm, missed))
    return unverified(method, attempts, last, on_failure, stacklevel=4)


def _arpack_restarts(xp: Any, A: Any, M: Any, mdiag: Any, K: Any, lam: Any, X: Any, k: int,
                     which: str, tol: float, maxiter: int | None, norm: float,
                     g: np.random.Generator, counter: dict, missed: str,
                     rounds: int = 3) -> tuple[Any, Any, str]:
    """Deflation restarts of the device Lanczos: what was found is moved out of the way.

    Each round runs Lanczos again on the operator with every pair found so far
    shifted above the spectrum (as ``known_kernel`` is), for the same number of new
    pairs; the new pairs and the old are merged and the ``k`` most extreme kept. It
    stops when a round brings nothing beyond the edge of the kept set, then the missed
    check runs again. Returns the pairs and the check's line (with what the restarts
    did).
    """
    first = missed
    found_more = False
    r = 0 if K is None else K.shape[1]
    sign = 1.0 if which == "smallest" else -1.0
    gap = max(tol * norm * 10, 1e-12 * norm)
    B = A if which == "smallest" else -A  # the largest of A are the smallest of -A
    for _ in range(rounds):
        edge = float(lam[-1] if which == "smallest" else lam[0])
        kk = min(k - r, A.shape[0] - X.shape[1] - 1)
        if kk <= 0:
            break
        Kall = _m_orthonormalize(xp, X, M)
        mu, Y = _solve(xp, "arpack", B, M, mdiag, Kall, Kall.shape[1] + kk, "smallest",
                       tol, maxiter, norm, g, counter)
        mu, Y = sign * mu[Kall.shape[1]:], Y[:, Kall.shape[1]:]
        if not bool((sign * (edge - _backend.to_numpy(mu)) > gap).any()):
            break  # nothing beyond the edge of what was found
        found_more = True
        lam_all = xp.concatenate([lam[r:], mu])
        X_all = xp.concatenate([X[:, r:], Y], axis=1)
        keep = xp.argsort(sign * lam_all)[:k - r]  # the k - r most extreme
        keep = keep[xp.argsort(lam_all[keep])]
        Z = X_all[:, keep]
        if K is not None:
            Z = Z - K @ (K.T @ (Z if M is None else _backend.dense_product(M, Z)))
        lam = lam_all[keep] if K is None else xp.concatenate([lam[:r], lam_all[keep]])
        Z = _m_orthonormalize(xp, Z, M)
        X = Z if K is None else xp.concatenate([K, Z], axis=1)
    if found_more:  # the new set gets a check of its own
        check = _missed_check(xp, A, M, lam, X, K, which, tol, norm, g, counter)
        return lam, X, (check + "; after deflation restarts, which the first check called "
                        f"for: {first}")
    return lam, X, first + "; a deflation restart, which it called for, found nothing more"


def _m_orthonormalize(xp: Any, X: Any, M: Any) -> Any:
    if M is None:
        return xp.linalg.qr(X)[0]
    G = X.T @ _backend.dense_product(M, X)
    C = xp.linalg.cholesky(0.5 * (G + G.T))
    return xp.linalg.solve(C, X.T).T


def _fix_signs(xp: Any, X: Any) -> Any:
    if X.size == 0:
        return X
    idx = xp.argmax(xp.abs(X), axis=0)
    s = xp.sign(X[idx, xp.arange(X.shape[1])])
    return X * xp.where(s == 0, 1.0, s)


def _solve(xp: Any, method: str, A: Any, M: Any, mdiag: Any, K: Any, k: int, which: str,
           tol: float, maxiter: int | None, norm: float, g: np.random.Generator,
           counter: dict) -> tuple[Any, Any]:
    n = A.shape[0]
    r = 0 if K is None else K.shape[1]
    kk = k - r
    if kk == 0:
        return xp.zeros(r), K
    shift = 2.0 * norm + 1.0  # moves the known kernel above the spectrum
    MK = None if K is None else (K if M is None else _backend.dense_product(M, K))
    if method == "dense":
        if n > DENSE_MAX:
            raise ValueError(f"method='dense' diagonalises up to {DENSE_MAX} rows on the "
                             f"device; got n = {n}")
        B = xp.asarray(_dense(A), dtype=xp.float64)
        if MK is not None:
            B = B + shift * (MK @ MK.T)
        if M is None:
            lam, V = xp.linalg.eigh(B)
        else:  # M = C C^T: C^-1 B C^-T y = lambda y, x = C^-T y
            C = xp.linalg.cholesky(xp.asarray(_dense(M), dtype=xp.float64))
            Ci = xp.linalg.inv(C)
            lam, Y = xp.linalg.eigh(Ci @ B @ Ci.T)
            V = Ci.T @ Y
        counter["mv"] += n
        sel = slice(0, kk) if which == "smallest" else slice(n - kk, n)
        lam, X = lam[sel], V[:, sel]
    elif method == "arpack":
        if M is not None and mdiag is None:
            raise ValueError("method='arpack' on the device takes M None or diagonal; use "
                             "method='lobpcg' for a full M")
        linalg = _linalg(A)
        s = None if mdiag is None else 1.0 / xp.sqrt(mdiag)
        Ks = None if K is None else (K if s is None else K / s[:, None])  # M^1/2 K

        def apply(V: Any) -> Any:
            counter["mv"] += 1 if V.ndim == 1 else V.shape[1]
            W = V if s is None else (s * V if V.ndim == 1 else s[:, None] * V)
            W = _backend.dense_product(A, W)
            W = W if s is None else (s * W if W.ndim == 1 else s[:, None] * W)
            if Ks is not None:
                W = W + shift * (Ks @ (Ks.T @ V))
            return W

        op = linalg.LinearOperator((n, n), matvec=apply, matmat=apply, dtype=xp.float64)
        v0 = xp.asarray(g.standard_normal(n))
        lam, Y = linalg.eigsh(op, k=kk, which="SA" if which == "smallest" else "LA",
                              v0=v0, tol=0.1 * tol, maxiter=maxiter or 20 * n)
        order = xp.argsort(lam)
        lam, Y = lam[order], Y[:, order]
        X = Y if s is None else s[:, None] * Y
    elif method == "chfsi":
        if M is not None and mdiag is None:
            raise ValueError("method='chfsi' takes M None or diagonal; use "
                             "method='lobpcg' for a full M")
        from ._chfsi import chfsi_pairs

        lam, X = chfsi_pairs(xp, A, mdiag, K, kk, which, tol, norm, maxiter, g, counter)
    else:  # lobpcg
        linalg = _linalg(A)

        def apply_l(V: Any) -> Any:
            counter["mv"] += 1 if V.ndim == 1 else V.shape[1]
            return _backend.dense_product(A, V)

        op = linalg.LinearOperator((n, n), matvec=apply_l, matmat=apply_l,
                                   dtype=xp.float64)
        X0 = xp.asarray(g.standard_normal((n, min(n - r, kk + max(2, kk // 4)))))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # unconverged blocks are judged below
            # half the tolerance: on SciPy input (tests/spectral/test_device.py), SciPy
            # 1.18's LOBPCG returned a residual of 8.9e-8 for tol 8e-8 (seen on the
            # GPU machine's SciPy; its last block is not the one it tested)
            lam, X = linalg.lobpcg(op, X0, B=M, Y=K, tol=0.5 * tol * norm,
                                   maxiter=maxiter or 500, largest=which == "largest")
        order = xp.argsort(lam)  # ascending: the largest kk are the last
        order = order[-kk:] if which == "largest" else order[:kk]
        lam, X = lam[order], X[:, order]
    if K is not None:
        lam = xp.concatenate([xp.zeros(r), lam])
        X = xp.concatenate([K, X], axis=1)
    return lam, X


def _diagonal_of(xp: Any, M: Any) -> Any:
    """M's diagonal where M is a diagonal matrix (None for M None or not diagonal)."""
    if M is None:
        return None
    Mc = M.tocoo() if hasattr(M, "tocoo") else None
    if Mc is None or bool((Mc.data[Mc.row != Mc.col] != 0).any()):
        return None
    return xp.asarray(M.diagonal()).astype(xp.float64)


def _missed_check(xp: Any, A: Any, M: Any, lam: Any, X: Any, K: Any, which: str,
                  tol: float, norm: float, g: np.random.Generator, counter: dict) -> str:
    n, k = X.shape
    if k >= n:
        return "complete spectrum: nothing to miss"
    edge = float(lam[-1] if which == "smallest" else lam[0])
    gap_tol = max(tol * norm * 10, 1e-12 * norm)
    mdiag = _diagonal_of(xp, M)
    if M is None or mdiag is not None:
        # a block of 9 filtered on the complement: it converged on grids of 10^4 and
        # 9 10^4 rows, where single-vector LOBPCG's 200 steps were inconclusive (its
        # residual 30-70x the gap tolerance) and at twice LOBPCG's time on the CPU
        from ._chfsi import chfsi_pairs

        Xo = _m_orthonormalize(xp, X, M)
        mv = {"mv": 0}
        mu, V = chfsi_pairs(xp, A, mdiag, Xo, 1, which, gap_tol / max(norm, 1e-300),
                            norm, 60, g, mv)
        counter["mv"] += mv["mv"]
        how = "Chebyshev-filtered subspace iteration on the complement of the found vectors"
    else:
        linalg = _linalg(A)
        y0 = xp.asarray(g.standard_normal((n, 1)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mu, V = linalg.lobpcg(A, y0, B=M, Y=X, tol=gap_tol, maxiter=200,
                                  largest=which == "largest")
        counter["mv"] += 200
        how = "single-vector LOBPCG on the complement of the found vectors"
    beyond = float(mu[0])
    MV = V if M is None else _backend.dense_product(M, V)
    res = float(xp.linalg.norm(_backend.dense_product(A, V) - beyond * MV))
    if res > gap_tol:
        how += f", inconclusive: residual {res:.3g}"
    if (which == "smallest" and beyond < edge - gap_tol) or \
            (which == "largest" and beyond > edge + gap_tol):
        return (f"missed: {how} found an eigenvalue estimate {beyond:.12g} beyond the last "
                f"one returned, {edge:.12g}")
    return f"none missed ({how}; next eigenvalue estimate {beyond:.12g})"
