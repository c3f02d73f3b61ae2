"""embeddings: sentence vectors of post texts, by text and model

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('embeddings',
    sa.Column('text_key', sa.String(length=64), nullable=False),
    sa.Column('model', sa.String(length=40), nullable=False),
    sa.Column('vector', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('text_key', 'model', name=op.f('pk_embeddings'))
    )


def downgrade() -> None:
    op.drop_table('embeddings')
