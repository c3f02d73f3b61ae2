"""search scope: event and outlet words in the SQLite full-text index, and its vocabulary

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

# SQLite only. A third FTS5 column holds each post's event and outlet as words ("e12 o3"), so a
# search inside one event or outlet narrows within the index: ranking a handful of posts of one
# event then reads those posts, not every post in the archive that holds the word. Searches
# weigh the column 0 and keep the reader's words to headline and body. PostgreSQL filters
# by event and outlet through its B-tree indexes and needs nothing here.
# posts_fts_terms lists the index's words, so that a search can name the words a typed prefix
# stands for instead of asking FTS5 for a prefix match (see store.posts._typed_word). A prefix
# of two or three letters stands for too many words to name: the index keeps those prefixes
# too (about a tenth more space), so they are one look-up as well.
VOCABULARY = "CREATE VIRTUAL TABLE posts_fts_terms USING fts5vocab(posts_fts, 'row')"
SCOPE = "'e' || {row}.event_id || ' o' || {row}.outlet_id"
TABLE = "CREATE VIRTUAL TABLE posts_fts USING fts5({columns}, tokenize='unicode61 remove_diacritics 2'{prefix})"
TRIGGERS = [
    """CREATE TRIGGER posts_fts_insert AFTER INSERT ON posts BEGIN
        INSERT INTO posts_fts(rowid, {columns}) VALUES (new.num, coalesce(new.headline, ''), new.search_text{new_scope});
    END""",
    """CREATE TRIGGER posts_fts_delete AFTER DELETE ON posts BEGIN
        DELETE FROM posts_fts WHERE rowid = old.num;
    END""",
    """CREATE TRIGGER posts_fts_update AFTER UPDATE OF headline, search_text{moved} ON posts BEGIN
        DELETE FROM posts_fts WHERE rowid = old.num;
        INSERT INTO posts_fts(rowid, {columns}) VALUES (new.num, coalesce(new.headline, ''), new.search_text{new_scope});
    END""",
]


def _rebuild(with_scope: bool) -> None:
    columns = "headline, body, scope" if with_scope else "headline, body"
    new_scope = ", " + SCOPE.format(row="new") if with_scope else ""
    moved = ", event_id, outlet_id" if with_scope else ""
    for trigger in ("posts_fts_insert", "posts_fts_delete", "posts_fts_update"):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute("DROP TABLE IF EXISTS posts_fts")
    op.execute(TABLE.format(columns=columns, prefix=", prefix='2 3'" if with_scope else ""))
    op.execute(f"INSERT INTO posts_fts(rowid, {columns}) SELECT num, coalesce(headline, ''), search_text"
               f"{', ' + SCOPE.format(row='posts') if with_scope else ''} FROM posts")
    for trigger in TRIGGERS:
        op.execute(trigger.format(columns=columns, new_scope=new_scope, moved=moved))


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild(with_scope=True)
        op.execute(VOCABULARY)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE posts_fts_terms")
        _rebuild(with_scope=False)
