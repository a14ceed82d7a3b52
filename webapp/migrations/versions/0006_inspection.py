"""Inspection and targets: national targets, unit tasks, roster spot checks and their entries.

Revision ID: 0006_inspection
Revises: 0005_outputs_payments
Create Date: 2026-11-21 07:33:06.779857

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006_inspection'
down_revision = '0005_outputs_payments'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('national_targets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('new_kexie', sa.Integer(), nullable=False),
    sa.Column('liaison', sa.Integer(), nullable=False),
    sa.Column('park_coverage', sa.Numeric(precision=6, scale=4), nullable=False),
    sa.Column('national_park_coverage', sa.Numeric(precision=6, scale=4), nullable=False),
    sa.Column('baseline_coverage', sa.Numeric(precision=6, scale=4), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('new_kexie >= 0 AND liaison >= 0', name=op.f('ck_national_targets_counts_nonneg')),
    sa.CheckConstraint('park_coverage BETWEEN 0 AND 1 AND national_park_coverage BETWEEN 0 AND 1 AND baseline_coverage BETWEEN 0 AND 1', name=op.f('ck_national_targets_ratios_in_range')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_national_targets_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_national_targets_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_national_targets')),
    sa.UniqueConstraint('campaign_id', name=op.f('uq_national_targets_campaign_id'))
    )
    op.create_table('unit_targets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('basis', sa.BigInteger(), nullable=True),
    sa.Column('task_new_kexie', sa.Integer(), nullable=False),
    sa.Column('task_liaison', sa.Integer(), nullable=False),
    sa.Column('source', sa.Enum('allocated', 'imported', 'adjusted', name='target_source', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("source <> 'adjusted' OR length(reason) > 0", name=op.f('ck_unit_targets_adjusted_has_reason')),
    sa.CheckConstraint('basis IS NULL OR basis >= 0', name=op.f('ck_unit_targets_basis_nonneg')),
    sa.CheckConstraint('task_new_kexie >= 0 AND task_liaison >= 0', name=op.f('ck_unit_targets_tasks_nonneg')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_unit_targets_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_unit_targets_unit_id_units'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_unit_targets_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unit_targets')),
    sa.UniqueConstraint('campaign_id', 'unit_id', name=op.f('uq_unit_targets_campaign_id_unit_id'))
    )
    op.create_table('spot_checks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('seed', sa.BigInteger(), nullable=False),
    sa.Column('roster_size', sa.Integer(), nullable=False),
    sa.Column('sample_size', sa.Integer(), nullable=False),
    sa.Column('inspector_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('sample_size > 0', name=op.f('ck_spot_checks_size_pos')),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_spot_checks_application_id_applications'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_spot_checks_created_by_id_users')),
    sa.ForeignKeyConstraint(['inspector_id'], ['users.id'], name=op.f('fk_spot_checks_inspector_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_spot_checks')),
    sa.UniqueConstraint('application_id', name=op.f('uq_spot_checks_application_id'))
    )
    op.create_table('spot_check_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('spot_check_id', sa.Integer(), nullable=False),
    sa.Column('roster_entry_id', sa.Integer(), nullable=False),
    sa.Column('row_no', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'verified', 'not_found', 'dormant', 'duplicate', name='check_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('evidence_name', sa.String(length=200), nullable=True),
    sa.Column('evidence_sha256', sa.String(length=64), nullable=True),
    sa.Column('evidence_mime', sa.String(length=120), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_spot_check_entries_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['roster_entry_id'], ['roster_entries.id'], name=op.f('fk_spot_check_entries_roster_entry_id_roster_entries'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['spot_check_id'], ['spot_checks.id'], name=op.f('fk_spot_check_entries_spot_check_id_spot_checks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_spot_check_entries')),
    sa.UniqueConstraint('spot_check_id', 'roster_entry_id', name=op.f('uq_spot_check_entries_spot_check_id_roster_entry_id'))
    )


def downgrade():
    op.drop_table('spot_check_entries')
    op.drop_table('spot_checks')
    op.drop_table('unit_targets')
    op.drop_table('national_targets')
