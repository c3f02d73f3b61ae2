"""one alignment per event: developments.event_id is unique, so a first save can't be stored twice

Revision ID: 0008
Revises: 0007
"""

from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # keep the newest row of an event that two first saves stored twice
    op.execute(
        "DELETE FROM developments WHERE id NOT IN (SELECT MAX(id) FROM developments GROUP BY event_id)"
    )
    with op.batch_alter_table('developments') as batch:
        batch.drop_index('ix_developments_event_id')
        batch.create_index('ix_developments_event_id', ['event_id'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('developments') as batch:
        batch.drop_index('ix_developments_event_id')
        batch.create_index('ix_developments_event_id', ['event_id'], unique=False)
