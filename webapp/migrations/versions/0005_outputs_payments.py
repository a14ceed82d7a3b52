"""Outputs and payments: payee fields on applications, notice drafts, payment records.

Revision ID: 0005_outputs_payments
Revises: 0004_results_publicity
Create Date: 2026-11-21 07:28:11.045009

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005_outputs_payments'
down_revision = '0004_results_publicity'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('notice_drafts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('commendation', 'criticism', name='notice_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('doc_number', sa.String(length=60), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('addressees', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('signature', sa.String(length=120), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_notice_drafts_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_notice_drafts_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notice_drafts')),
    sa.UniqueConstraint('campaign_id', 'kind', name=op.f('uq_notice_drafts_campaign_id_kind'))
    )
    op.create_table('payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('decision_id', sa.Integer(), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=False),
    sa.Column('voucher_no', sa.String(length=60), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_payments_amount_pos')),
    sa.CheckConstraint('length(voucher_no) > 0', name=op.f('ck_payments_voucher_required')),
    sa.ForeignKeyConstraint(['decision_id'], ['decisions.id'], name=op.f('fk_payments_decision_id_decisions'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_payments_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payments')),
    sa.UniqueConstraint('decision_id', name=op.f('uq_payments_decision_id'))
    )
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payee_name', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('bank_name', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('bank_account', sa.String(length=40), nullable=True))



def downgrade():
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_column('bank_account')
        batch_op.drop_column('bank_name')
        batch_op.drop_column('payee_name')

    op.drop_table('payments')
    op.drop_table('notice_drafts')
