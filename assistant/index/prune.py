"""Pruning a large exact search of the vector matrix (vectors.py) with a bound, so it reads a quarter as much.

The matrix's rows are projected on their HEAD_DIMS leading directions (principal directions of an
even sample of rows: on the eval index's real vectors, 96 of 384 hold ~93% of their energy), kept
beside the matrix as `<key>.head.npy` with each row's length outside them (`<key>.rest.npy`) and the
directions (`<key>.basis.npy`). By Cauchy-Schwarz, a row's cosine to a unit question is at most its
projection's score plus the lengths of the two rests multiplied. The rows of highest bound are
rescored exactly from the matrix; once the n-th best exact score reaches the highest bound of the
rows not rescored, no other row can enter the n nearest: the answer is exactly the full scan's.
When CANDIDATES * n and then EXPAND more rows do not prove it, the best of those rescored is the
answer (`Head.proven` counts the proven searches).

Measured: on the eval index's real vectors (7,459 passages, its 154 questions, the 40 nearest),
151 answers were identical to the full scan's (116 proven); on the query benchmark's million
hashed vectors, whose space is not the questions' (their cosines are noise around 0.1), nothing
can be proven and the answers are the best of 3,000 rows by bound; the scan itself took 58 ms
against 94 ms for the full one (medians, council filters and unfiltered, same process, load ~8).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from assistant.files import atomic_save_array

log = logging.getLogger(__name__)

# Rows read one by one cost about this many rows read in one span: a filter keeping few rows spread far
# apart (each council's latest report) reads only those.
GATHER = 4
HEAD_DIMS = 96
CANDIDATES = 25  # rows rescored exactly per row wanted, before the bound is checked
EXPAND = 2_000  # rows rescored at most after those, when the bound does not prove the first enough
SLACK = 1e-5  # float32 rounding of the bound


class Head:
    """A matrix's rows projected on its leading directions, with each row's length outside them."""

    def __init__(self, basis: np.ndarray, rows: np.ndarray, rest: np.ndarray) -> None:
        self.basis = basis  # dim x HEAD_DIMS, orthonormal columns
        self.rows = rows  # every matrix row projected, matrix order
        self.rest = rest  # each row's length outside the basis
        self.proven = [0, 0]  # searches whose answer the bound proved exact, and all searches

    @staticmethod
    def of(matrix: np.ndarray, sample: int = 50_000) -> Head:
        """The head of a unit-row matrix, its directions taken from an even sample of rows."""
        step = max(1, len(matrix) // sample)
        rows = np.asarray(matrix[::step], dtype=np.float64)
        _, vectors = np.linalg.eigh(rows.T @ rows)
        basis = np.ascontiguousarray(vectors[:, ::-1][:, :HEAD_DIMS], dtype=np.float32)
        head = np.empty((len(matrix), basis.shape[1]), dtype=np.float32)
        for start in range(0, len(matrix), 100_000):
            head[start : start + 100_000] = matrix[start : start + 100_000] @ basis
        rest = np.sqrt(np.maximum(0.0, 1.0 - np.einsum("ij,ij->i", head, head)))
        return Head(basis, head, rest.astype(np.float32))

    def bounds(self, unit: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """For each matrix row (of `rows`, else all), a number its cosine to the unit vector cannot exceed."""
        projected = self.basis.T @ unit
        beyond = float(np.sqrt(max(0.0, 1.0 - float(projected @ projected)))) + SLACK
        if rows is None:
            return self.rows @ projected + self.rest * beyond
        low, high = int(rows[0]), int(rows[-1]) + 1
        if len(rows) * GATHER < high - low:
            bound = self.rows[rows] @ projected
        else:
            bound = (self.rows[low:high] @ projected)[rows - low]
        return bound + self.rest[rows] * beyond

    def nearest(
        self, matrix: np.ndarray, unit: np.ndarray, n: int, rows: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The n matrix rows (among `rows`, else all) nearest the unit vector and their exact cosines, nearest first."""
        bound = self.bounds(unit, rows)
        # The rows of highest bound, best first: CANDIDATES per row wanted, then EXPAND more if needed.
        wanted = min(len(bound), CANDIDATES * n + EXPAND)
        if wanted < len(bound):
            top = np.argpartition(-bound, wanted)
            edge, top = float(bound[top[wanted]]), top[:wanted]  # no row left out has a higher bound than `edge`
        else:
            edge, top = -np.inf, np.arange(len(bound))
        top = top[np.argsort(-bound[top], kind="stable")]
        self.proven[1] += 1
        picked, scores = np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        for start, end in ((0, CANDIDATES * n), (CANDIDATES * n, wanted)):
            found, cosines = self._rescored(matrix, unit, top[start:end], rows)
            picked, scores = np.concatenate([picked, found]), np.concatenate([scores, cosines])
            nth = np.partition(scores, len(scores) - n)[len(scores) - n] if len(scores) >= n else -np.inf
            left = float(bound[top[end]]) if end < len(top) else edge
            if left <= nth:  # no row not rescored can beat the n-th best found
                self.proven[0] += 1
                break
        best = np.lexsort((picked, -scores))[:n]  # ties in matrix order, as the full scan's stable sort
        return picked[best], scores[best]

    @staticmethod
    def _rescored(matrix: np.ndarray, unit: np.ndarray, at: np.ndarray, rows: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        found = np.sort(at if rows is None else rows[at])  # ascending: the reads follow the file
        return found, np.asarray(matrix[found] @ unit)


HEAD_PARTS = ("basis", "head", "rest")


def head_paths(folder: Path, key: str) -> dict[str, Path]:
    """The files of a key's Head (written before its matrix, for matrices of more than PRUNE_ABOVE rows)."""
    return {part: folder / f"{key}.{part}.npy" for part in HEAD_PARTS}


def save_head(folder: Path, key: str, matrix: np.ndarray) -> None:
    """Work out and write the Head of a key's matrix (unit rows)."""
    head = Head.of(matrix)
    for part, path in head_paths(folder, key).items():
        atomic_save_array(path, {"basis": head.basis, "head": head.rows, "rest": head.rest}[part])


def load_head(folder: Path, key: str, rows: int, dim: int) -> Head | None:
    """The key's Head, memory-mapped; None when it was not built (or is damaged: the search stays exact, unpruned)."""
    found = head_paths(folder, key)
    if not all(path.is_file() for path in found.values()):
        return None
    try:
        basis, head, rest = (np.load(found[part], mmap_mode="r") for part in HEAD_PARTS)
        if basis.shape[0] != dim or head.shape != (rows, basis.shape[1]) or rest.shape != (rows,):
            raise ValueError(f"basis {basis.shape}, head {head.shape}, rest {rest.shape} for {rows} rows of {dim}")
    except (OSError, ValueError) as exc:
        log.warning("the pruning files of %s are damaged (%s); searches read the whole matrix", folder / key, exc)
        return None
    return Head(np.asarray(basis), head, rest)
