"""session expiry: a token is an API token or a desk session; sessions keep when they were last
used and what signed them in, so they expire when idle or old and can be listed and revoked

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

from livedesk.store.tables import UTCDateTime

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tokens') as batch:
        batch.add_column(sa.Column('kind', sa.String(length=16), nullable=False, server_default='api'))
        batch.add_column(sa.Column('last_used_at', UTCDateTime(), nullable=True))
        batch.add_column(sa.Column('label', sa.String(length=200), nullable=True))
        batch.create_index('ix_tokens_user_kind', ['user_id', 'kind'])


def downgrade() -> None:
    with op.batch_alter_table('tokens') as batch:
        batch.drop_index('ix_tokens_user_kind')
        batch.drop_column('label')
        batch.drop_column('last_used_at')
        batch.drop_column('kind')
