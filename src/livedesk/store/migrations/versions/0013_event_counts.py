"""event counts: posts per event and status, and published posts per event and topic, kept by
triggers, so an event page counts without reading all of an event's posts

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

FILL = [
    "INSERT INTO event_post_counts (event_id, status, total) SELECT event_id, status, count(*) FROM posts GROUP BY event_id, status",
    "INSERT INTO event_topic_counts (event_id, topic, total) SELECT p.event_id, t.topic, count(*) FROM post_topics t"
    " JOIN posts p ON p.id = t.post_id WHERE p.status = 'published' GROUP BY p.event_id, t.topic",
]

# a post's topics count while it is published; its topic rows may come and go before or after
_ADD_POST = """INSERT INTO event_post_counts (event_id, status, total) VALUES (new.event_id, new.status, 1)
        ON CONFLICT (event_id, status) DO UPDATE SET total = event_post_counts.total + 1;"""
_DROP_POST = "UPDATE event_post_counts SET total = total - 1 WHERE event_id = old.event_id AND status = old.status;"
_ADD_TOPICS = """INSERT INTO event_topic_counts (event_id, topic, total)
        SELECT new.event_id, topic, 1 FROM post_topics WHERE post_id = new.id AND new.status = 'published'
        ON CONFLICT (event_id, topic) DO UPDATE SET total = event_topic_counts.total + 1;"""
_DROP_TOPICS = """UPDATE event_topic_counts SET total = total - 1 WHERE old.status = 'published'
        AND event_id = old.event_id AND topic IN (SELECT topic FROM post_topics WHERE post_id = old.id);"""
_ADD_TOPIC = """INSERT INTO event_topic_counts (event_id, topic, total)
        SELECT event_id, new.topic, 1 FROM posts WHERE id = new.post_id AND status = 'published'
        ON CONFLICT (event_id, topic) DO UPDATE SET total = event_topic_counts.total + 1;"""
_DROP_TOPIC = """UPDATE event_topic_counts SET total = total - 1 WHERE topic = old.topic
        AND event_id IN (SELECT event_id FROM posts WHERE id = old.post_id AND status = 'published');"""

SQLITE = [
    f"CREATE TRIGGER event_counts_post_insert AFTER INSERT ON posts BEGIN {_ADD_POST} END",
    f"CREATE TRIGGER event_counts_post_delete AFTER DELETE ON posts BEGIN {_DROP_POST} {_DROP_TOPICS} END",
    "CREATE TRIGGER event_counts_post_update AFTER UPDATE OF status, event_id ON posts"
    " WHEN old.status IS NOT new.status OR old.event_id IS NOT new.event_id"
    f" BEGIN {_DROP_POST} {_ADD_POST} {_DROP_TOPICS} {_ADD_TOPICS} END",
    f"CREATE TRIGGER event_counts_topic_insert AFTER INSERT ON post_topics BEGIN {_ADD_TOPIC} END",
    f"CREATE TRIGGER event_counts_topic_delete AFTER DELETE ON post_topics BEGIN {_DROP_TOPIC} END",
]
SQLITE_DROP = ["event_counts_post_insert", "event_counts_post_delete", "event_counts_post_update",
               "event_counts_topic_insert", "event_counts_topic_delete"]

POSTGRESQL = [
    f"""CREATE FUNCTION event_counts_post() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            {_DROP_POST}
            {_DROP_TOPICS}
        END IF;
        IF TG_OP IN ('UPDATE', 'INSERT') THEN
            {_ADD_POST}
        END IF;
        IF TG_OP = 'UPDATE' THEN
            {_ADD_TOPICS}
        END IF;
        RETURN NULL;
    END $$""",
    f"""CREATE FUNCTION event_counts_topic() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            {_DROP_TOPIC}
        ELSE
            {_ADD_TOPIC}
        END IF;
        RETURN NULL;
    END $$""",
    "CREATE TRIGGER event_counts_post AFTER INSERT OR DELETE ON posts FOR EACH ROW EXECUTE FUNCTION event_counts_post()",
    "CREATE TRIGGER event_counts_post_update AFTER UPDATE OF status, event_id ON posts FOR EACH ROW"
    " WHEN (old.status IS DISTINCT FROM new.status OR old.event_id IS DISTINCT FROM new.event_id)"
    " EXECUTE FUNCTION event_counts_post()",
    "CREATE TRIGGER event_counts_topic AFTER INSERT OR DELETE ON post_topics FOR EACH ROW EXECUTE FUNCTION event_counts_topic()",
]


def upgrade() -> None:
    op.create_table(
        'event_post_counts',
        sa.Column('event_id', sa.Integer(), sa.ForeignKey('events.id'), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('total', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('event_id', 'status', name=op.f('pk_event_post_counts')),
    )
    op.create_table(
        'event_topic_counts',
        sa.Column('event_id', sa.Integer(), sa.ForeignKey('events.id'), nullable=False),
        sa.Column('topic', sa.String(length=80), nullable=False),
        sa.Column('total', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('event_id', 'topic', name=op.f('pk_event_topic_counts')),
    )
    for statement in FILL + (SQLITE if op.get_bind().dialect.name == "sqlite" else POSTGRESQL):
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in SQLITE_DROP:
            op.execute(f"DROP TRIGGER {trigger}")
    else:
        op.execute("DROP TRIGGER event_counts_post ON posts")
        op.execute("DROP TRIGGER event_counts_post_update ON posts")
        op.execute("DROP TRIGGER event_counts_topic ON post_topics")
        op.execute("DROP FUNCTION event_counts_post()")
        op.execute("DROP FUNCTION event_counts_topic()")
    op.drop_table('event_topic_counts')
    op.drop_table('event_post_counts')
