"""back office: staff, roles, notes, assignment

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 01:08:55.319693
"""

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('staff',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('totp_secret', sa.String(length=64), nullable=True),
    sa.Column('totp_confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('totp_last_step', sa.Integer(), nullable=True),
    sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff')),
    sa.UniqueConstraint('email', name=op.f('uq_staff_email'))
    )
    op.create_table('staff_roles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('office_id', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_staff_roles_staff_id_staff'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_roles')),
    sa.UniqueConstraint('staff_id', 'office_id', 'role', name='uq_staff_roles_staff_office_role')
    )
    with op.batch_alter_table('staff_roles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_roles_office_id'), ['office_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_staff_roles_staff_id'), ['staff_id'], unique=False)

    op.create_table('application_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_application_notes_application_id_applications'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_application_notes_staff_id_staff'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_application_notes'))
    )
    with op.batch_alter_table('application_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_application_notes_application_id'), ['application_id'], unique=False)

    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('assigned_to_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('counter_staff_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_applications_assigned_to_id'), ['assigned_to_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_applications_counter_staff_id_staff'), 'staff', ['counter_staff_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_applications_assigned_to_id_staff'), 'staff', ['assigned_to_id'], ['id'], ondelete='SET NULL')



def downgrade() -> None:
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_applications_assigned_to_id_staff'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_applications_counter_staff_id_staff'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_applications_assigned_to_id'))
        batch_op.drop_column('counter_staff_id')
        batch_op.drop_column('assigned_at')
        batch_op.drop_column('assigned_to_id')

    with op.batch_alter_table('application_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_application_notes_application_id'))

    op.drop_table('application_notes')
    with op.batch_alter_table('staff_roles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_roles_staff_id'))
        batch_op.drop_index(batch_op.f('ix_staff_roles_office_id'))

    op.drop_table('staff_roles')
    op.drop_table('staff')
