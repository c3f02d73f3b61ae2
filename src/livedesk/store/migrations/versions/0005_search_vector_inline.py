"""search vector inline: PostgreSQL keeps each post's search vector in the row

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

# A post's search vector is its largest column, so PostgreSQL moved it out of the row (to the
# table's TOAST storage) first, and testing a post against a search's words read two more
# pages: a common word's search, walking some 15,000 of the newest posts, read 29,000 pages
# instead of 4,700. Stored MAIN, the vector stays in the row and the text columns move out
# instead. Rewriting the table (in post number order, the order posts were stored in)
# applies that to the posts already stored; it locks the table while it runs.
# SQLite needs nothing here.


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE posts ALTER COLUMN search_vector SET STORAGE MAIN")
        op.execute("CLUSTER posts USING pk_posts")
        op.execute("ANALYZE posts")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE posts ALTER COLUMN search_vector SET STORAGE EXTENDED")
