"""Expert review: assignments, scores (one row per assignment and criterion), exclusion requests, messages.

Revision ID: 0003_expert_review
Revises: 0002_applicant_portal
Create Date: 2026-11-21 07:08:26.729297

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003_expert_review'
down_revision = '0002_applicant_portal'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=False),
    sa.Column('sender_id', sa.Integer(), nullable=True),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('read_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['recipient_id'], ['users.id'], name=op.f('fk_messages_recipient_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sender_id'], ['users.id'], name=op.f('fk_messages_sender_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_messages'))
    )
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_messages_recipient_id'), ['recipient_id'], unique=False)

    op.create_table('assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('expert_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('assigned', 'submitted', 'declined', 'removed', name='assignment_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('opinion', sa.Text(), nullable=True),
    sa.Column('declined_reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("status <> 'declined' OR length(declined_reason) > 0", name=op.f('ck_assignments_declined_has_reason')),
    sa.CheckConstraint("status <> 'submitted' OR submitted_at IS NOT NULL", name=op.f('ck_assignments_submitted_has_time')),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_assignments_application_id_applications'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['expert_id'], ['users.id'], name=op.f('fk_assignments_expert_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assignments')),
    sa.UniqueConstraint('application_id', 'expert_id', name=op.f('uq_assignments_application_id_expert_id'))
    )
    op.create_table('exclusion_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('expert_name', sa.String(length=80), nullable=False),
    sa.Column('expert_affiliation', sa.String(length=120), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'accepted', 'declined', name='exclusion_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('expert_id', sa.Integer(), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=True),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('requested_at', sa.DateTime(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("status <> 'accepted' OR expert_id IS NOT NULL", name=op.f('ck_exclusion_requests_accepted_names_expert')),
    sa.CheckConstraint('length(reason) > 0', name=op.f('ck_exclusion_requests_reason_required')),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_exclusion_requests_application_id_applications'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_exclusion_requests_decided_by_id_users')),
    sa.ForeignKeyConstraint(['expert_id'], ['users.id'], name=op.f('fk_exclusion_requests_expert_id_users')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_exclusion_requests_requested_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exclusion_requests'))
    )
    op.create_table('scores',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assignment_id', sa.Integer(), nullable=False),
    sa.Column('criterion', sa.String(length=60), nullable=False),
    sa.Column('score', sa.Numeric(precision=8, scale=2), nullable=True),
    sa.CheckConstraint('score IS NULL OR score >= 0', name=op.f('ck_scores_score_nonneg')),
    sa.ForeignKeyConstraint(['assignment_id'], ['assignments.id'], name=op.f('fk_scores_assignment_id_assignments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scores')),
    sa.UniqueConstraint('assignment_id', 'criterion', name=op.f('uq_scores_assignment_id_criterion'))
    )


def downgrade():
    op.drop_table('scores')
    op.drop_table('exclusion_requests')
    op.drop_table('assignments')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_messages_recipient_id'))

    op.drop_table('messages')
