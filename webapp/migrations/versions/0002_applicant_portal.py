"""Applicant portal: applications, figures, attachments, roster entries, receipts, formal checks.

Revision ID: 0002_applicant_portal
Revises: 0001_initial
Create Date: 2026-11-21 07:01:55.933355

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002_applicant_portal'
down_revision = '0001_initial'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('applications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('program_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'submitted', 'returned', 'passed', 'rejected', name='application_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('recommendation', sa.Text(), nullable=True),
    sa.Column('nominated_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=True),
    sa.Column('correction_until', sa.DateTime(), nullable=True),
    sa.CheckConstraint("status <> 'returned' OR correction_until IS NOT NULL", name=op.f('ck_applications_returned_has_window')),
    sa.CheckConstraint("status <> 'submitted' OR submitted_at IS NOT NULL", name=op.f('ck_applications_submitted_has_time')),
    sa.ForeignKeyConstraint(['nominated_by_id'], ['users.id'], name=op.f('fk_applications_nominated_by_id_users')),
    sa.ForeignKeyConstraint(['program_id'], ['programs.id'], name=op.f('fk_applications_program_id_programs'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_applications_unit_id_units'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_applications')),
    sa.UniqueConstraint('program_id', 'unit_id', name=op.f('uq_applications_program_id_unit_id'))
    )
    op.create_table('attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.Enum('evidence', 'roster', 'recommendation_letter', name='attachment_purpose', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('criterion', sa.String(length=60), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('original_name', sa.String(length=200), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('mime', sa.String(length=120), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('uploaded_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("(purpose = 'evidence') = (criterion IS NOT NULL)", name=op.f('ck_attachments_evidence_has_criterion')),
    sa.CheckConstraint('length(sha256) = 64', name=op.f('ck_attachments_sha_len')),
    sa.CheckConstraint('size > 0', name=op.f('ck_attachments_size_pos')),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_attachments_application_id_applications'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_attachments_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachments')),
    sa.UniqueConstraint('application_id', 'purpose', 'criterion', 'sha256', name=op.f('uq_attachments_application_id_purpose_criterion_sha256'))
    )
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.create_index('ix_attachments_sha256', ['sha256'], unique=False)

    op.create_table('figures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('indicator', sa.String(length=60), nullable=False),
    sa.Column('value', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('source', sa.Enum('unit', 'office', name='figure_source', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('value IS NULL OR value >= 0', name=op.f('ck_figures_value_nonneg')),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_figures_application_id_applications'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_figures')),
    sa.UniqueConstraint('application_id', 'indicator', name=op.f('uq_figures_application_id_indicator'))
    )
    op.create_table('formal_checks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('decision', sa.Enum('passed', 'returned', 'rejected', name='check_decision', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('correction_until', sa.DateTime(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("(decision = 'returned') = (correction_until IS NOT NULL)", name=op.f('ck_formal_checks_window_iff_returned')),
    sa.CheckConstraint("decision = 'passed' OR length(note) > 0", name=op.f('ck_formal_checks_note_required')),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_formal_checks_application_id_applications'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_formal_checks_decided_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_formal_checks'))
    )
    op.create_table('receipts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=False),
    sa.Column('submitted_by_id', sa.Integer(), nullable=False),
    sa.Column('manifest', sa.Text(), nullable=False),
    sa.Column('manifest_sha256', sa.String(length=64), nullable=False),
    sa.Column('withdrawn_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint('length(manifest_sha256) = 64', name=op.f('ck_receipts_manifest_sha_len')),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_receipts_application_id_applications'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_receipts_submitted_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_receipts')),
    sa.UniqueConstraint('number', name=op.f('uq_receipts_number'))
    )
    op.create_table('roster_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('row_no', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('enterprise', sa.String(length=200), nullable=True),
    sa.Column('founded_on', sa.Date(), nullable=True),
    sa.Column('approval_no', sa.String(length=120), nullable=True),
    sa.Column('members', sa.Integer(), nullable=True),
    sa.Column('chair', sa.String(length=80), nullable=True),
    sa.Column('duplicate_group', sa.Integer(), nullable=True),
    sa.CheckConstraint('members IS NULL OR members >= 0', name=op.f('ck_roster_entries_members_nonneg')),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_roster_entries_application_id_applications'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_roster_entries')),
    sa.UniqueConstraint('application_id', 'row_no', name=op.f('uq_roster_entries_application_id_row_no'))
    )


def downgrade():
    op.drop_table('roster_entries')
    op.drop_table('receipts')
    op.drop_table('formal_checks')
    op.drop_table('figures')
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_index('ix_attachments_sha256')

    op.drop_table('attachments')
    op.drop_table('applications')
