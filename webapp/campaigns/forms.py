"""Campaign and program forms."""

from __future__ import annotations

from datetime import date, time

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional


class CampaignForm(FlaskForm):
    year = IntegerField(_l("年度"), validators=[DataRequired(_l("请填写年度。")), NumberRange(2000, 2100)])
    title = StringField(_l("名称"), validators=[DataRequired(_l("请填写名称。")), Length(max=200)])
    corps_conflicts_with_xinjiang = BooleanField(_l("兵团与新疆视为同一地区回避"), default=True)
    pilot_may_also_get_post_subsidy = BooleanField(_l("试点示范单位当年可同时获得后补助"), default=False)


class ProgramForm(FlaskForm):
    rubric_file = SelectField(_l("评分细则"), validators=[DataRequired(_l("请选择评分细则。"))], choices=[])
    deadline_date = DateField(_l("申报截止日期（北京时间）"), validators=[DataRequired(_l("请填写截止日期。"))])
    deadline_time = TimeField(_l("截止时刻"), default=time(23, 59, 59), format=["%H:%M:%S", "%H:%M"], render_kw={"step": 1},
                              validators=[DataRequired(_l("请填写截止时刻，格式 时:分:秒。"))])
    budget = DecimalField(_l("预算（元）"), places=2, validators=[Optional(), NumberRange(min=0)])

    def default_deadline(self, year: int) -> None:
        if self.deadline_date.data is None:
            self.deadline_date.data = date(year, 10, 31)


class AdvanceForm(FlaskForm):
    target = StringField(validators=[DataRequired()])
    note = TextAreaField(_l("说明"), validators=[Optional(), Length(max=500)])
