"""site secrets and login failures

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from livedesk.store.tables import UTCDateTime

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('site_secrets',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('value', sa.String(length=200), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_site_secrets'))
    )
    op.create_table('login_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=300), nullable=False),
    sa.Column('failed_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_failures'))
    )
    op.create_index('ix_login_failures_key_time', 'login_failures', ['key', 'failed_at'])


def downgrade() -> None:
    op.drop_index('ix_login_failures_key_time', table_name='login_failures')
    op.drop_table('login_failures')
    op.drop_table('site_secrets')
