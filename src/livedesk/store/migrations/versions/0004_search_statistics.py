"""search statistics: PostgreSQL samples more words of the search vectors

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

# PostgreSQL chooses between reading the GIN index (then sorting every match by time) and
# walking posts newest first until the search's window is full by how many posts it thinks a
# word matches. Its statistics name the commonest thousand words by default, so it took a
# word or prefix matching 3% of a million posts for a rare one and read and sorted some 40,000
# posts (0.4 s instead of 0.06 s). Ten times the sample names ten thousand words. SQLite
# needs nothing here.


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE posts ALTER COLUMN search_vector SET STATISTICS 1000")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE posts ALTER COLUMN search_vector SET STATISTICS -1")
