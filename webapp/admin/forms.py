"""Account forms for the system administrator."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from webapp.auth.models import ROLE_LABELS


class NewUserForm(FlaskForm):
    username = StringField(_l("用户名"), validators=[DataRequired(_l("请填写用户名。")), Length(min=3, max=60)])
    display_name = StringField(_l("姓名"), validators=[DataRequired(_l("请填写姓名。")), Length(max=80)])
    role = SelectField(_l("角色"), choices=[SelectChoice(r.value, label) for r, label in ROLE_LABELS.items()])
    unit_id = SelectField(_l("所属申报单位（仅申报单位账户）"), coerce=int, choices=[], validate_choice=False)
    applicant_role = SelectField(
        _l("申报岗位"), choices=[SelectChoice("", "—"), SelectChoice("clerk", _l("填报员")), SelectChoice("leader", _l("负责人"))], validators=[Optional()]
    )
    home_region_id = SelectField(_l("所在地区（仅评审专家，用于回避）"), coerce=int, choices=[], validate_choice=False)
    affiliation = StringField(_l("工作单位"), validators=[Optional(), Length(max=120)])
    phone = StringField(_l("电话"), validators=[Optional(), Length(max=40)])
    email = StringField(_l("电子邮箱"), validators=[Optional(), Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message=_l("电子邮箱格式不正确。")), Length(max=120)])


class ConfirmForm(FlaskForm):
    """An empty form: just the CSRF token for a POST button."""
