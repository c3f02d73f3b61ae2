"""alignment rows: an event's developments and aligned posts one row each, so a new post rewrites
only what it changed; developments.data keeps the alignment's summary (last post number seen,
posts aligned, which live alignment wrote it)

Revision ID: 0012
Revises: 0011
"""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from livedesk.store.tables import UTCDateTime

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

developments = sa.table('developments', sa.column('id', sa.Integer), sa.column('event_id', sa.Integer),
                        sa.column('data', sa.JSON))


def upgrade() -> None:
    dev_rows = op.create_table(
        'alignment_developments',
        sa.Column('event_id', sa.Integer(), sa.ForeignKey('events.id'), nullable=False),
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('first_time', UTCDateTime(), nullable=True),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('event_id', 'id', name=op.f('pk_alignment_developments')),
    )
    post_rows = op.create_table(
        'alignment_posts',
        sa.Column('event_id', sa.Integer(), sa.ForeignKey('events.id'), nullable=False),
        sa.Column('post_id', sa.String(length=24), nullable=False),
        sa.Column('development_id', sa.String(length=64), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('outlet', sa.String(length=200), nullable=False),
        sa.Column('time', UTCDateTime(), nullable=True),
        sa.Column('time_inferred', sa.Boolean(), nullable=False),
        sa.Column('time_uncertainty_s', sa.Integer(), nullable=True),
        sa.Column('headline', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('event_id', 'post_id', name=op.f('pk_alignment_posts')),
    )
    op.create_index('ix_alignment_posts_development', 'alignment_posts', ['event_id', 'development_id'])
    # the stored alignments, each one JSON value until now, become rows
    conn = op.get_bind()
    for row in conn.execute(sa.select(developments.c.id, developments.c.event_id, developments.c.data)).all():
        data = row.data or {}
        _copy(conn, dev_rows, post_rows, row.event_id, data)
        summary = {"last_num": data.get("last_num", 0), "posts": len(data.get("posts", [])),
                   "updated_at": data.get("updated_at"), "writer": None}
        conn.execute(sa.update(developments).where(developments.c.id == row.id).values(data=summary))


def _when(iso: str | None) -> datetime | None:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")) if iso else None


def _copy(conn: sa.Connection, dev_rows: sa.Table, post_rows: sa.Table, event_id: int, data: dict[str, Any]) -> None:
    dev_of = {pid: d["id"] for d in data.get("developments", []) for pid in d.get("post_ids", [])}
    devs = [{"event_id": event_id, "id": d["id"], "first_time": _when(d.get("first_time")), "data": d}
            for d in data.get("developments", [])]
    posts = [{"event_id": event_id, "post_id": p["id"], "development_id": dev_of.get(p["id"], ""), "seq": k,
              "outlet": p.get("outlet") or "", "time": _when(p.get("time")), "time_inferred": bool(p.get("time_inferred")),
              "time_uncertainty_s": p.get("time_uncertainty_s"), "headline": p.get("headline")}
             for k, p in enumerate(data.get("posts", []))]
    for start in range(0, len(devs), 1000):
        conn.execute(sa.insert(dev_rows), devs[start:start + 1000])
    for start in range(0, len(posts), 1000):
        conn.execute(sa.insert(post_rows), posts[start:start + 1000])


def downgrade() -> None:
    # the alignments are recomputed from the posts when next read
    op.execute("DELETE FROM developments")
    op.drop_index('ix_alignment_posts_development', table_name='alignment_posts')
    op.drop_table('alignment_posts')
    op.drop_table('alignment_developments')
