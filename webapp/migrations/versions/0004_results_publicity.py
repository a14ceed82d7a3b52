"""Results runs and decisions; publicity rounds, objections and the register.

Revision ID: 0004_results_publicity
Revises: 0003_expert_review
Create Date: 2026-11-21 07:15:00.830325

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004_results_publicity'
down_revision = '0003_expert_review'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('publicity_rounds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('program_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('working_days', sa.Integer(), nullable=False),
    sa.Column('end_confirmed_by_hand', sa.Boolean(), nullable=False),
    sa.Column('scope', sa.Text(), nullable=False),
    sa.Column('contact', sa.Text(), nullable=False),
    sa.Column('opened_by_id', sa.Integer(), nullable=False),
    sa.Column('opened_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('end_date >= start_date', name=op.f('ck_publicity_rounds_end_after_start')),
    sa.ForeignKeyConstraint(['opened_by_id'], ['users.id'], name=op.f('fk_publicity_rounds_opened_by_id_users')),
    sa.ForeignKeyConstraint(['program_id'], ['programs.id'], name=op.f('fk_publicity_rounds_program_id_programs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_publicity_rounds')),
    sa.UniqueConstraint('program_id', 'number', name=op.f('uq_publicity_rounds_program_id_number'))
    )
    op.create_table('result_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('program_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('rubric_sha256', sa.String(length=64), nullable=False),
    sa.Column('bootstrap', sa.Integer(), nullable=False),
    sa.Column('seed', sa.Integer(), nullable=False),
    sa.Column('budget', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('inputs', sa.Text(), nullable=False),
    sa.Column('inputs_sha256', sa.String(length=64), nullable=False),
    sa.Column('result', sa.Text(), nullable=False),
    sa.Column('awards', sa.Text(), nullable=False),
    sa.Column('extras', sa.Text(), nullable=False),
    sa.CheckConstraint('bootstrap >= 0', name=op.f('ck_result_runs_bootstrap_nonneg')),
    sa.CheckConstraint('length(inputs_sha256) = 64', name=op.f('ck_result_runs_inputs_sha_len')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_result_runs_created_by_id_users')),
    sa.ForeignKeyConstraint(['program_id'], ['programs.id'], name=op.f('fk_result_runs_program_id_programs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_result_runs'))
    )
    op.create_table('decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('pilot', 'post_subsidy', 'commendation', 'none', 'criticism', name='decision_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('proposed_kind', sa.Enum('pilot', 'post_subsidy', 'commendation', 'none', 'criticism', name='proposed_decision_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('proposed_amount', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=False),
    sa.Column('superseded_at', sa.DateTime(), nullable=True),
    sa.Column('objection_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("(kind IN ('pilot', 'post_subsidy')) = (amount IS NOT NULL AND amount > 0)", name=op.f('ck_decisions_funded_has_amount')),
    sa.CheckConstraint('(kind = proposed_kind AND coalesce(amount, 0) = coalesce(proposed_amount, 0)) OR length(reason) > 0', name=op.f('ck_decisions_override_has_reason')),
    sa.CheckConstraint('amount IS NULL OR amount >= 0', name=op.f('ck_decisions_amount_nonneg')),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_decisions_application_id_applications'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_decisions_decided_by_id_users')),
    sa.ForeignKeyConstraint(['run_id'], ['result_runs.id'], name=op.f('fk_decisions_run_id_result_runs'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_decisions'))
    )
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.create_index('ix_decisions_current', ['application_id', 'superseded_at'], unique=False)

    op.create_table('objections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('receipt_no', sa.String(length=40), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('organisation', sa.String(length=120), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('attachment_name', sa.String(length=200), nullable=True),
    sa.Column('attachment_sha256', sa.String(length=64), nullable=True),
    sa.Column('attachment_size', sa.BigInteger(), nullable=True),
    sa.Column('attachment_mime', sa.String(length=120), nullable=True),
    sa.Column('submitted_at', sa.DateTime(), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.CheckConstraint('length(name) > 0 AND length(phone) > 0 AND length(content) > 0', name=op.f('ck_objections_real_name')),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_objections_application_id_applications')),
    sa.ForeignKeyConstraint(['round_id'], ['publicity_rounds.id'], name=op.f('fk_objections_round_id_publicity_rounds'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_objections')),
    sa.UniqueConstraint('receipt_no', name=op.f('uq_objections_receipt_no'))
    )
    op.create_table('register_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('objection_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('investigation', sa.Text(), nullable=False),
    sa.Column('conclusion', sa.Enum('pending', 'upheld', 'not_upheld', name='objection_conclusion', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('reply', sa.Text(), nullable=False),
    sa.Column('concluded_on', sa.Date(), nullable=True),
    sa.Column('replied_on', sa.Date(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("conclusion = 'pending' OR (length(reply) > 0 AND concluded_on IS NOT NULL)", name=op.f('ck_register_entries_concluded_has_reply')),
    sa.ForeignKeyConstraint(['objection_id'], ['objections.id'], name=op.f('fk_register_entries_objection_id_objections'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_register_entries_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_register_entries')),
    sa.UniqueConstraint('objection_id', 'version', name=op.f('uq_register_entries_objection_id_version'))
    )


def downgrade():
    op.drop_table('register_entries')
    op.drop_table('objections')
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.drop_index('ix_decisions_current')

    op.drop_table('decisions')
    op.drop_table('result_runs')
    op.drop_table('publicity_rounds')
