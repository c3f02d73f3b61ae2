"""websub: subscribers of this site's feeds, their pending deliveries, and hubs this site follows

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

from livedesk.store.tables import UTCDateTime

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'websub_subscribers',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('topic', sa.String(length=300), nullable=False),
        sa.Column('topic_url', sa.Text(), nullable=False),
        sa.Column('callback', sa.String(length=2000), nullable=False),
        sa.Column('secret', sa.String(length=200), nullable=True),
        sa.Column('lease_seconds', sa.Integer(), nullable=False),
        sa.Column('expires_at', UTCDateTime(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.UniqueConstraint('topic', 'callback', name=op.f('uq_websub_subscribers_topic')),
    )
    op.create_table(
        'websub_deliveries',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('subscriber_id', sa.Integer(),
                  sa.ForeignKey('websub_subscribers.id', ondelete='CASCADE',
                                name=op.f('fk_websub_deliveries_subscriber_id_websub_subscribers')), nullable=False),
        sa.Column('change_id', sa.Integer(), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('due_at', UTCDateTime(), nullable=False),
        sa.Column('lease_owner', sa.String(length=80), nullable=True),
        sa.Column('lease_until', UTCDateTime(), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
    )
    op.create_index('ix_websub_deliveries_subscriber_id', 'websub_deliveries', ['subscriber_id'])
    op.create_index('ix_websub_deliveries_due_at', 'websub_deliveries', ['due_at'])
    op.create_table(
        'websub_follows',
        sa.Column('source_id', sa.Integer(),
                  sa.ForeignKey('sources.id', ondelete='CASCADE', name=op.f('fk_websub_follows_source_id_sources')),
                  primary_key=True),
        sa.Column('hub', sa.Text(), nullable=False),
        sa.Column('topic', sa.Text(), nullable=False),
        sa.Column('token', sa.String(length=40), nullable=False),
        sa.Column('secret', sa.String(length=80), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('lease_seconds', sa.Integer(), nullable=True),
        sa.Column('expires_at', UTCDateTime(), nullable=True),
        sa.Column('requested_at', UTCDateTime(), nullable=False),
        sa.Column('last_push_at', UTCDateTime(), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.UniqueConstraint('token', name=op.f('uq_websub_follows_token')),
    )
    # deliveries start from the changes made after this migration, not the whole history
    op.execute("INSERT INTO counters (name, value) SELECT 'websub', COALESCE(MAX(id), 0) FROM changes")


def downgrade() -> None:
    op.execute("DELETE FROM counters WHERE name = 'websub'")
    op.drop_table('websub_follows')
    op.drop_index('ix_websub_deliveries_due_at', table_name='websub_deliveries')
    op.drop_index('ix_websub_deliveries_subscriber_id', table_name='websub_deliveries')
    op.drop_table('websub_deliveries')
    op.drop_table('websub_subscribers')
