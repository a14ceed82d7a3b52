"""The auditor's filter form (GET, so filters can be bookmarked and exported)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectChoice, SelectField, StringField
from wtforms.validators import Length, Optional


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a read-only GET filter

    date_from = DateField(_l("起始日期（北京时间）"), validators=[Optional()])
    date_to = DateField(_l("截止日期（北京时间）"), validators=[Optional()])
    actor = StringField(_l("操作人"), validators=[Optional(), Length(max=120)])
    action = StringField(_l("操作"), validators=[Optional(), Length(max=80)])
    object = StringField(_l("对象（类型:编号）"), validators=[Optional(), Length(max=120)])
    result = SelectField(
        _l("结果"),
        choices=[SelectChoice("", _l("全部")), SelectChoice("ok", _l("成功")), SelectChoice("denied", _l("拒绝")),
                 SelectChoice("failed", _l("失败"))],
        validators=[Optional()],
    )
