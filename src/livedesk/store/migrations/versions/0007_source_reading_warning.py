"""source reading warning: what a source's page left to be assumed, and what fixes it

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sources') as batch:
        batch.add_column(sa.Column('reading_warning', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sources') as batch:
        batch.drop_column('reading_warning')
