"""Sentence vectors kept by text and model, so that a post's text is embedded once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from sqlalchemy import Connection, select

from livedesk.store.db import insert_new
from livedesk.store.tables import embeddings

BATCH = 500  # keys per query


def load(conn: Connection, model: str, keys: Sequence[str]) -> dict[str, np.ndarray]:
    """The stored vectors of these text keys, by key; keys never embedded are left out."""
    found: dict[str, np.ndarray] = {}
    wanted = sorted(set(keys))
    for start in range(0, len(wanted), BATCH):
        rows = conn.execute(
            select(embeddings.c.text_key, embeddings.c.vector).where(
                embeddings.c.model == model, embeddings.c.text_key.in_(wanted[start : start + BATCH])
            )
        )
        for key, blob in rows:
            found[key] = np.frombuffer(blob, dtype="<f4").copy()
    return found


def save(conn: Connection, model: str, vectors: Mapping[str, np.ndarray]) -> None:
    """Store these vectors; a key stored already (by another node, say) is kept as it is."""
    rows = [
        {"text_key": key, "model": model, "vector": np.asarray(vector, dtype="<f4").tobytes()}
        for key, vector in vectors.items()
    ]
    for start in range(0, len(rows), BATCH):
        conn.execute(insert_new(conn, embeddings), rows[start : start + BATCH])
