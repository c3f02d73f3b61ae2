"""media blobs: uploaded photos' renditions, stored in the database for every node to serve

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

from livedesk.store.tables import UTCDateTime

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'media_blobs',
        sa.Column('name', sa.String(length=64), primary_key=True),
        sa.Column('upload_id', sa.String(length=24), nullable=False),
        sa.Column('width', sa.Integer(), nullable=False),
        sa.Column('height', sa.Integer(), nullable=False),
        sa.Column('content_type', sa.String(length=40), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.Column('created_by', sa.Integer(), sa.ForeignKey('users.id'), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
    )
    op.create_index('ix_media_blobs_upload_id', 'media_blobs', ['upload_id'])


def downgrade() -> None:
    op.drop_index('ix_media_blobs_upload_id', table_name='media_blobs')
    op.drop_table('media_blobs')
