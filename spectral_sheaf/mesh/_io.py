"""Reading and writing triangle meshes: OBJ and OFF here, PLY and more through meshio.

OBJ and ASCII OFF are parsed here (vectorised, no loop over records): meshio's OBJ
reader rejects files whose texture-coordinate count differs from the vertex count,
which is most textured OBJ files (Spot among them), and its OFF reader exits the
interpreter on a polygon. Other formats (PLY ASCII and binary, ...) go through meshio
(the ``mesh`` extra).
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ._checks import _as_faces, _as_vertices

__all__ = ["read_mesh", "write_mesh"]

_MESHIO_HINT = 'reading and writing {fmt} needs meshio: pip install "spectral_sheaf[mesh]"'


def _meshio(fmt: str) -> Any:
    try:
        import meshio
    except ImportError as exc:  # pragma: no cover - meshio is in the test extra
        raise ImportError(_MESHIO_HINT.format(fmt=fmt)) from exc
    return meshio


def _fan(starts: np.ndarray, sizes: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Fan-triangulate polygons ``idx[starts[i] : starts[i] + sizes[i]]``."""
    n_tri = sizes - 2
    first = np.repeat(starts, n_tri)
    j = np.arange(int(n_tri.sum())) - np.repeat(np.cumsum(n_tri) - n_tri, n_tri) + 1
    return np.column_stack([idx[first], idx[first + j], idx[first + j + 1]])


def _polygons_to_triangles(starts: np.ndarray, sizes: np.ndarray, idx: np.ndarray,
                           path: Path) -> np.ndarray:
    if (sizes < 3).any():
        raise ValueError(
            f"{path} has {int((sizes < 3).sum())} faces with fewer than three vertices"
        )
    if (sizes > 3).any():
        warnings.warn(
            f"{path}: fan-triangulated {int((sizes > 3).sum())} polygons with more than "
            "three vertices (a fan from each polygon's first vertex)",
            UserWarning,
            stacklevel=3,
        )
    return _fan(starts, sizes, idx)


def _read_obj(path: Path) -> tuple[np.ndarray, np.ndarray]:
    return parse_obj(path.read_text(errors="replace"), path)


def parse_obj(text: str, path: Any = "<text>") -> tuple[np.ndarray, np.ndarray]:
    """Vertices and (fan-triangulated) faces of OBJ text; ``path`` names it in messages."""
    text = text.removeprefix("\ufeff")
    kinds = np.array(re.findall(r"^[ \t]*(v|f)[ \t]", text, flags=re.M))
    # records up to an end-of-line comment
    v_text = " v ".join(re.findall(r"^[ \t]*v[ \t]+([^#\r\n]*)", text, flags=re.M))
    f_text = " f ".join(re.findall(r"^[ \t]*f[ \t]+([^#\r\n]*)", text, flags=re.M))
    if not v_text or not f_text:
        raise ValueError(f"{path} holds no 'v' or no 'f' records; is it an OBJ mesh?")
    v_tok = np.array(("v " + v_text).split())
    v_start = np.flatnonzero(v_tok == "v")
    if np.any(np.diff(np.append(v_start, v_tok.size)) < 4):
        raise ValueError(f"{path}: a 'v' record has fewer than three coordinates")
    try:
        V = np.column_stack([v_tok[v_start + k].astype(np.float64) for k in (1, 2, 3)])
    except ValueError as exc:
        raise ValueError(f"{path}: a 'v' record holds a non-number ({exc})") from exc
    # keep the vertex index of each "v/vt/vn" token
    f_tok = np.array(re.sub(r"/\S*", "", "f " + f_text).split())
    is_f = f_tok == "f"
    f_start = np.flatnonzero(is_f)
    sizes = np.diff(np.append(f_start, f_tok.size)) - 1
    try:
        idx = f_tok[~is_f].astype(np.int64)
    except ValueError as exc:
        raise ValueError(f"{path}: an 'f' record holds a non-integer index ({exc})") from exc
    if (idx == 0).any():
        raise ValueError(f"{path}: an 'f' record holds index 0; OBJ indices start at 1")
    # OBJ is one-based; negative indices count back from the last vertex read so far
    v_before = np.cumsum(kinds == "v")[kinds == "f"]
    per_index = np.repeat(v_before, sizes)
    idx = np.where(idx < 0, per_index + idx, idx - 1)
    starts = f_start - np.arange(f_start.size)
    return V, _polygons_to_triangles(starts, sizes, idx, path)


def _read_off(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """ASCII OFF: header, counts, vertex lines, face lines ``k i_1 ... i_k [colour]``."""
    text = path.read_text(errors="replace").removeprefix("\ufeff")
    lines = [ln for ln in re.sub(r"#[^\n]*", "", text).splitlines() if ln.strip()]
    if not lines or not lines[0].strip().upper().endswith("OFF"):
        raise ValueError(f"{path} does not start with an OFF header")
    if lines[0].strip().upper() != "OFF":
        raise ValueError(f"{path}: only plain ASCII 'OFF' is read here; got {lines[0]!r}")
    try:
        nv, nf = (int(x) for x in lines[1].split()[:2])
    except (IndexError, ValueError) as exc:
        raise ValueError(f"{path}: the counts line {lines[1]!r} is not 'nv nf ne'") from exc
    if len(lines) < 2 + nv + nf:
        raise ValueError(f"{path} promises {nv} vertices and {nf} faces but holds "
                         f"{len(lines) - 2} records")
    v_tok = np.array(" v ".join(["", *lines[2:2 + nv]]).split())
    v_start = np.flatnonzero(v_tok == "v")
    V = np.column_stack([v_tok[v_start + k].astype(np.float64) for k in (1, 2, 3)])
    f_tok = np.array(" f ".join(["", *lines[2 + nv:2 + nv + nf]]).split())
    f_start = np.flatnonzero(f_tok == "f")
    sizes = f_tok[f_start + 1].astype(np.int64)
    first = f_start + 2
    within = np.arange(int(sizes.sum())) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    idx = f_tok[np.repeat(first, sizes) + within].astype(np.int64)
    starts = np.cumsum(sizes) - sizes
    return V, _polygons_to_triangles(starts, sizes, idx, path)


def read_mesh(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read a triangle mesh: OBJ and OFF (here), PLY and others (meshio).

    Polygons are fan-triangulated, with a warning saying how many. Texture coordinates
    and normals are ignored. Nothing is repaired: run :func:`check_mesh` on the result.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    vertices : ndarray, shape (n, 3), float64
    faces : ndarray, shape (f, 3), int64
        Zero-based.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path {str(path)!r} is not a file")
    if path.suffix.lower() == ".obj":
        return _read_obj(path)
    if path.suffix.lower() == ".off":
        return _read_off(path)
    meshio = _meshio(path.suffix or "this format")
    try:
        mesh = meshio.read(path)
    except SystemExit as exc:  # meshio exits the interpreter on some files it rejects
        raise ValueError(f"meshio could not read {path} (it gave up: exit {exc})") from None
    V = np.asarray(mesh.points, dtype=np.float64)
    blocks = []
    for cell in mesh.cells:
        if cell.type == "triangle":
            blocks.append(np.asarray(cell.data, dtype=np.int64))
        elif cell.type == "quad" or cell.type.startswith("polygon"):
            data = np.asarray(cell.data, dtype=np.int64)
            k = data.shape[1]
            starts = np.arange(data.shape[0]) * k
            sizes = np.full(data.shape[0], k)
            blocks.append(_polygons_to_triangles(starts, sizes, data.ravel(), path))
    if not blocks:
        raise ValueError(f"{path} holds no triangles or polygons")
    if V.shape[1] == 2:
        V = np.column_stack([V, np.zeros(V.shape[0])])
    return np.ascontiguousarray(V), np.ascontiguousarray(np.concatenate(blocks))


def write_mesh(path: str | Path, vertices: Any, faces: Any, *, binary: bool = False) -> None:
    """Write a triangle mesh; the format follows the suffix (OBJ, OFF, PLY, ...).

    ``binary=True`` writes binary PLY (and other formats meshio writes in binary).
    """
    path = Path(path)
    V = _as_vertices(vertices)
    F = _as_faces(faces, V.shape[0], allow_repeated=True)
    if path.suffix.lower() == ".obj":
        with path.open("w") as fh:
            fh.write("# written by spectral_sheaf\n")
            np.savetxt(fh, V, fmt="v %.17g %.17g %.17g")
            np.savetxt(fh, F + 1, fmt="f %d %d %d")
        return
    meshio = _meshio(path.suffix or "this format")
    kwargs = {"binary": binary} if path.suffix.lower() in (".ply", ".vtk", ".vtu") else {}
    meshio.write(path, meshio.Mesh(V, [("triangle", F)]), **kwargs)
