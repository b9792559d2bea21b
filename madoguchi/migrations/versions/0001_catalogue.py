"""catalogue: published procedure versions

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "procedure_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("procedure_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("source_path", sa.String(length=500), nullable=False),
        sa.Column("title_ja", sa.String(length=200), nullable=False),
        sa.Column("title_en", sa.String(length=200), nullable=False),
        sa.Column(
            "published_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.Column("published_by", sa.String(length=200), nullable=True),
        sa.Column("retired", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_procedure_versions")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_procedure_versions_fingerprint")),
        sa.UniqueConstraint("procedure_id", "version", name="uq_procedure_versions_id_version"),
    )
    op.create_index(
        op.f("ix_procedure_versions_procedure_id"), "procedure_versions", ["procedure_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_procedure_versions_procedure_id"), table_name="procedure_versions")
    op.drop_table("procedure_versions")
