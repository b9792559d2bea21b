"""signatures: the applicant's electronic signatures

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 02:30:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('application_signatures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('draft_public_id', sa.String(length=32), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=True),
    sa.Column('resident_id', sa.Integer(), nullable=True),
    sa.Column('content_sha256', sa.String(length=64), nullable=False),
    sa.Column('signature', sa.LargeBinary(), nullable=False),
    sa.Column('certificate_pem', sa.Text(), nullable=False),
    sa.Column('certificate_serial', sa.String(length=64), nullable=False),
    sa.Column('signed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_application_signatures_application_id_applications'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_application_signatures_resident_id_residents'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_application_signatures'))
    )
    with op.batch_alter_table('application_signatures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_application_signatures_application_id'), ['application_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_application_signatures_draft_public_id'), ['draft_public_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_application_signatures_resident_id'), ['resident_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('application_signatures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_application_signatures_resident_id'))
        batch_op.drop_index(batch_op.f('ix_application_signatures_draft_public_id'))
        batch_op.drop_index(batch_op.f('ix_application_signatures_application_id'))

    op.drop_table('application_signatures')
