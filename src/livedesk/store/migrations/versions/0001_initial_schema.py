"""initial schema

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from livedesk.store.tables import UTCDateTime

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None

# Full-text search: FTS5 kept in step by triggers on SQLite; a generated tsvector with a
# GIN index on PostgreSQL. Both match whole words, unstemmed.
SQLITE_SEARCH = [
    "CREATE VIRTUAL TABLE posts_fts USING fts5(headline, body, tokenize='unicode61 remove_diacritics 2')",
    """CREATE TRIGGER posts_fts_insert AFTER INSERT ON posts BEGIN
        INSERT INTO posts_fts(rowid, headline, body) VALUES (new.num, coalesce(new.headline, ''), new.search_text);
    END""",
    """CREATE TRIGGER posts_fts_delete AFTER DELETE ON posts BEGIN
        DELETE FROM posts_fts WHERE rowid = old.num;
    END""",
    """CREATE TRIGGER posts_fts_update AFTER UPDATE OF headline, search_text ON posts BEGIN
        DELETE FROM posts_fts WHERE rowid = old.num;
        INSERT INTO posts_fts(rowid, headline, body) VALUES (new.num, coalesce(new.headline, ''), new.search_text);
    END""",
]
POSTGRES_SEARCH = [
    """ALTER TABLE posts ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', coalesce(headline, '')), 'A')
        || setweight(to_tsvector('simple', search_text), 'B')) STORED""",
    "CREATE INDEX ix_posts_search_vector ON posts USING gin (search_vector)",
]


def upgrade() -> None:
    op.create_table('counters',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_counters'))
    )
    op.create_table('events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=120), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('standfirst', sa.Text(), nullable=False),
    sa.Column('lead_media', sa.JSON(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('coverage_start', UTCDateTime(), nullable=True),
    sa.Column('coverage_end', UTCDateTime(), nullable=True),
    sa.Column('topics', sa.JSON(), nullable=False),
    sa.Column('links', sa.JSON(), nullable=False),
    sa.Column('key_points', sa.JSON(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_events')),
    sa.UniqueConstraint('slug', name=op.f('uq_events_slug'))
    )
    op.create_table('idempotency_keys',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('scope', sa.String(length=300), nullable=False),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key', 'scope', name=op.f('pk_idempotency_keys'))
    )
    op.create_table('outlets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=True),
    sa.Column('own', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outlets')),
    sa.UniqueConstraint('slug', name=op.f('uq_outlets_slug'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('name', name=op.f('uq_users_name'))
    )
    op.create_table('changes',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('post_id', sa.String(length=24), nullable=True),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_changes_event_id_events')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_changes'))
    )
    with op.batch_alter_table('changes', schema=None) as batch_op:
        batch_op.create_index('ix_changes_event_id', ['event_id', 'id'], unique=False)

    op.create_table('developments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_developments_event_id_events')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_developments'))
    )
    with op.batch_alter_table('developments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_developments_event_id'), ['event_id'], unique=False)

    op.create_table('sources',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('outlet_id', sa.Integer(), nullable=True),
    sa.Column('url', sa.Text(), nullable=True),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=True),
    sa.Column('poll_interval_s', sa.Integer(), nullable=False),
    sa.Column('etag', sa.String(length=300), nullable=True),
    sa.Column('last_modified', sa.String(length=100), nullable=True),
    sa.Column('last_fetch_at', UTCDateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('error_count', sa.Integer(), nullable=False),
    sa.Column('next_poll_at', UTCDateTime(), nullable=True),
    sa.Column('lease_owner', sa.String(length=80), nullable=True),
    sa.Column('lease_until', UTCDateTime(), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_sources_event_id_events')),
    sa.ForeignKeyConstraint(['outlet_id'], ['outlets.id'], name=op.f('fk_sources_outlet_id_outlets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sources'))
    )
    with op.batch_alter_table('sources', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sources_event_id'), ['event_id'], unique=False)

    op.create_table('tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('revoked_at', UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_tokens_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_tokens_token_hash'))
    )
    op.create_table('posts',
    sa.Column('num', sa.Integer(), nullable=False),
    sa.Column('id', sa.String(length=24), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('outlet_id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=True),
    sa.Column('anchor', sa.String(length=200), nullable=True),
    sa.Column('published_at', UTCDateTime(), nullable=False),
    sa.Column('time_known', sa.Boolean(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=True),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.Column('headline', sa.Text(), nullable=True),
    sa.Column('body_md', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('media', sa.JSON(), nullable=False),
    sa.Column('authors', sa.JSON(), nullable=False),
    sa.Column('topics', sa.JSON(), nullable=False),
    sa.Column('pinned', sa.Boolean(), nullable=False),
    sa.Column('key_event', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('corrected_at', UTCDateTime(), nullable=True),
    sa.Column('correction_note', sa.Text(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_posts_created_by_users')),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_posts_event_id_events')),
    sa.ForeignKeyConstraint(['outlet_id'], ['outlets.id'], name=op.f('fk_posts_outlet_id_outlets')),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_posts_source_id_sources')),
    sa.PrimaryKeyConstraint('num', name=op.f('pk_posts')),
    sa.UniqueConstraint('id', name=op.f('uq_posts_id')),
    sa.UniqueConstraint('source_id', 'anchor', name='uq_posts_source_anchor')
    )
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.create_index('ix_posts_event_status_time', ['event_id', 'status', 'published_at', 'id'], unique=False)
        batch_op.create_index('ix_posts_status_time', ['status', 'published_at'], unique=False)

    op.create_table('post_topics',
    sa.Column('post_id', sa.String(length=24), nullable=False),
    sa.Column('topic', sa.String(length=80), nullable=False),
    sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_post_topics_post_id_posts')),
    sa.PrimaryKeyConstraint('post_id', 'topic', name=op.f('pk_post_topics'))
    )
    with op.batch_alter_table('post_topics', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_post_topics_topic'), ['topic'], unique=False)

    op.create_table('post_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.String(length=24), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('headline', sa.Text(), nullable=True),
    sa.Column('body_md', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('media', sa.JSON(), nullable=False),
    sa.Column('replaced_at', UTCDateTime(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_post_versions_post_id_posts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_post_versions'))
    )
    with op.batch_alter_table('post_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_post_versions_post_id'), ['post_id'], unique=False)


    op.execute("INSERT INTO counters (name, value) VALUES ('change', 0)")
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_SEARCH:
            op.execute(statement)
    else:
        for statement in POSTGRES_SEARCH:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE posts_fts")
    with op.batch_alter_table('post_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_post_versions_post_id'))

    op.drop_table('post_versions')
    with op.batch_alter_table('post_topics', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_post_topics_topic'))

    op.drop_table('post_topics')
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.drop_index('ix_posts_status_time')
        batch_op.drop_index('ix_posts_event_status_time')

    op.drop_table('posts')
    op.drop_table('tokens')
    with op.batch_alter_table('sources', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sources_event_id'))

    op.drop_table('sources')
    with op.batch_alter_table('developments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_developments_event_id'))

    op.drop_table('developments')
    with op.batch_alter_table('changes', schema=None) as batch_op:
        batch_op.drop_index('ix_changes_event_id')

    op.drop_table('changes')
    op.drop_table('users')
    op.drop_table('outlets')
    op.drop_table('idempotency_keys')
    op.drop_table('events')
    op.drop_table('counters')
