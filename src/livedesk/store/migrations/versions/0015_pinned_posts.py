"""pinned posts and page positions: a small index of each event's pinned posts, so the first page
of a big event finds them without walking all its posts; and one of each source's posts with their
positions, so live alignment sees whether any moved on its page without reading the posts

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_posts_pinned', 'posts', ['event_id', 'published_at'],
                    sqlite_where=sa.text('pinned = 1'), postgresql_where=sa.text('pinned'))
    op.create_index('ix_posts_source_positions', 'posts', ['source_id', 'status', 'num', 'position'])


def downgrade() -> None:
    op.drop_index('ix_posts_source_positions', table_name='posts')
    op.drop_index('ix_posts_pinned', table_name='posts')
