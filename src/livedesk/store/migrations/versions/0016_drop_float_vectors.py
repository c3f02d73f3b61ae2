"""drop the sentence vectors of the model as numpy ran it ('use-multilingual-v3'): the 8-bit
graph that onnxruntime runs keeps its own ('use-multilingual-v3-int8'), and a post is embedded
again the next time its event is aligned

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(sa.text("DELETE FROM embeddings WHERE model = 'use-multilingual-v3'"))


def downgrade() -> None:
    pass  # the vectors are made again on demand
