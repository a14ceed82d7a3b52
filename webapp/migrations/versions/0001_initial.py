"""Initial schema: units, users, login throttles, campaigns, programs, audit events.

The audit table is append-only in the database itself: UPDATE is refused always, DELETE is refused for
rows younger than the 180-day retention period (DESIGN §7).

Revision ID: 0001_initial
Revises: 
Create Date: 2026-11-21 06:48:40.044127

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0001_initial'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=120), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.Column('action', sa.String(length=80), nullable=False),
    sa.Column('object_type', sa.String(length=60), nullable=True),
    sa.Column('object_id', sa.String(length=60), nullable=True),
    sa.Column('result', sa.Enum('ok', 'denied', 'failed', name='audit_result', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.CheckConstraint('length(hash) = 64', name=op.f('ck_audit_events_hash_len')),
    sa.CheckConstraint('length(prev_hash) = 64', name=op.f('ck_audit_events_prev_hash_len')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events')),
    sa.UniqueConstraint('hash', name=op.f('uq_audit_events_hash'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_at'), ['at'], unique=False)
        batch_op.create_index('ix_audit_events_object', ['object_type', 'object_id'], unique=False)

    op.create_table('campaigns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('corps_conflicts_with_xinjiang', sa.Boolean(), nullable=False),
    sa.Column('pilot_may_also_get_post_subsidy', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('year BETWEEN 2000 AND 2100', name=op.f('ck_campaigns_year_range')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaigns')),
    sa.UniqueConstraint('year', name=op.f('uq_campaigns_year'))
    )
    op.create_table('login_throttles',
    sa.Column('username', sa.String(length=60), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(), nullable=True),
    sa.CheckConstraint('failures >= 0', name=op.f('ck_login_throttles_failures_nonneg')),
    sa.PrimaryKeyConstraint('username', name=op.f('pk_login_throttles'))
    )
    op.create_table('units',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=6), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('region', sa.String(length=40), nullable=False),
    sa.Column('category', sa.Enum('province', 'corps', 'city', name='unit_category', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('parent_code', sa.String(length=6), nullable=True),
    sa.CheckConstraint("(category = 'city') = (parent_code IS NOT NULL)", name=op.f('ck_units_city_has_parent')),
    sa.CheckConstraint('length(code) = 6', name=op.f('ck_units_code_len')),
    sa.ForeignKeyConstraint(['parent_code'], ['units.code'], name=op.f('fk_units_parent_code_units'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_units')),
    sa.UniqueConstraint('code', name=op.f('uq_units_code')),
    sa.UniqueConstraint('name', name=op.f('uq_units_name'))
    )
    op.create_table('programs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('pilot', 'post_subsidy', name='program_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('phase', sa.Enum('setup', 'open', 'formal_check', 'review', 'panel', 'publicity', 'final', 'paid', name='program_phase', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('rubric_file', sa.String(length=120), nullable=False),
    sa.Column('rubric_id', sa.String(length=120), nullable=False),
    sa.Column('rubric_toml', sa.Text(), nullable=False),
    sa.Column('rubric_sha256', sa.String(length=64), nullable=False),
    sa.Column('submission_deadline', sa.DateTime(), nullable=False),
    sa.Column('budget', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('publicity_start', sa.Date(), nullable=True),
    sa.Column('publicity_end', sa.Date(), nullable=True),
    sa.Column('phase_changed_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('budget IS NULL OR budget >= 0', name=op.f('ck_programs_budget_nonneg')),
    sa.CheckConstraint('length(rubric_sha256) = 64', name=op.f('ck_programs_rubric_sha_len')),
    sa.CheckConstraint('publicity_end IS NULL OR publicity_start IS NULL OR publicity_end >= publicity_start', name=op.f('ck_programs_publicity_order')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_programs_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programs')),
    sa.UniqueConstraint('campaign_id', 'kind', name=op.f('uq_programs_campaign_id_kind'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=60), nullable=False),
    sa.Column('display_name', sa.String(length=80), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.Enum('applicant', 'expert', 'office', 'finance', 'auditor', 'sysadmin', name='user_role', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('applicant_role', sa.Enum('clerk', 'leader', name='applicant_role', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('home_region_id', sa.Integer(), nullable=True),
    sa.Column('affiliation', sa.String(length=120), nullable=True),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('email', sa.String(length=120), nullable=True),
    sa.Column('is_enabled', sa.Boolean(), nullable=False),
    sa.Column('must_change_password', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('password_changed_at', sa.DateTime(), nullable=True),
    sa.Column('last_login_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("(role = 'applicant') = (unit_id IS NOT NULL AND applicant_role IS NOT NULL)", name=op.f('ck_users_applicant_has_unit')),
    sa.CheckConstraint("role <> 'expert' OR home_region_id IS NOT NULL", name=op.f('ck_users_expert_has_region')),
    sa.CheckConstraint('length(username) >= 3', name=op.f('ck_users_username_len')),
    sa.ForeignKeyConstraint(['home_region_id'], ['units.id'], name=op.f('fk_users_home_region_id_units'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_users_unit_id_units'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )

    _create_audit_triggers()


RETENTION_DAYS = 180


def _create_audit_triggers():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION audit_events_append_only() RETURNS trigger AS $$
            BEGIN
                IF TG_OP = 'UPDATE' THEN
                    RAISE EXCEPTION 'audit_events is append-only: UPDATE refused';
                END IF;
                IF OLD.at > (now() AT TIME ZONE 'UTC') - interval '{RETENTION_DAYS} days' THEN
                    RAISE EXCEPTION 'audit_events rows are kept {RETENTION_DAYS} days: DELETE refused';
                END IF;
                RETURN OLD;
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
            "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()"
        )
    elif dialect == "sqlite":
        op.execute(
            "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
            "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: UPDATE refused'); END"
        )
        op.execute(
            "CREATE TRIGGER audit_events_retention BEFORE DELETE ON audit_events "
            f"WHEN OLD.at > datetime('now', '-{RETENTION_DAYS} days') "
            f"BEGIN SELECT RAISE(ABORT, 'audit_events rows are kept {RETENTION_DAYS} days: DELETE refused'); END"
        )


def _drop_audit_triggers():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS audit_events_append_only()")
    elif dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_events_retention")


def downgrade():
    _drop_audit_triggers()
    op.drop_table('users')
    op.drop_table('programs')
    op.drop_table('units')
    op.drop_table('login_throttles')
    op.drop_table('campaigns')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_object')
        batch_op.drop_index(batch_op.f('ix_audit_events_at'))
        batch_op.drop_index(batch_op.f('ix_audit_events_actor_id'))
        batch_op.drop_index(batch_op.f('ix_audit_events_action'))

    op.drop_table('audit_events')
