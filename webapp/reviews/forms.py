"""Review forms; the score form is built at run time from the rubric (one field per expert criterion)."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional


def score_form_class(rubric):
    """Like Indico's make_review_form: one field per expert-scored criterion, plus the opinion.

    Fields are text so that every message can be ours, in Chinese, naming the criterion; the numbers are
    checked by ``operations.parse_scores`` on the server.
    """

    class ScoreForm(FlaskForm):
        opinion = TextAreaField(_l("评审意见"), validators=[Optional(), Length(max=5000)],
                                description=_l("提交时必填，至少 20 字。"), render_kw={"rows": 6})

    for criterion in rubric.expert_criteria:
        field = StringField(
            _("%(title)s（0–%(max)s，步长 %(step)s）", title=criterion.title, max=criterion.max, step=criterion.step),
            validators=[Optional(), Length(max=12)],
            description=criterion.guidance or "",
            render_kw={"inputmode": "decimal", "autocomplete": "off", "data-max": str(criterion.max),
                       "data-step": str(criterion.step)},
        )
        setattr(ScoreForm, f"score_{criterion.key}", field)
    return ScoreForm


class DeclareForm(FlaskForm):
    reason = TextAreaField(_l("回避理由"), validators=[DataRequired(_l("请写明回避理由。")), Length(max=1000)],
                           render_kw={"rows": 3})


class AssignForm(FlaskForm):
    mode = RadioField(_l("分配方式"), choices=[], default="full")
    k = IntegerField(_l("每份评审人数（按份数分配时）"), default=5, validators=[Optional(), NumberRange(1, 50)])


class ManualForm(FlaskForm):
    application_id = SelectField(_l("申报单位"), coerce=int, choices=[], validate_choice=False)
    expert_id = SelectField(_l("专家"), coerce=int, choices=[], validate_choice=False)


class ReasonForm(FlaskForm):
    reason = StringField(_l("理由"), validators=[DataRequired(_l("请写明理由。")), Length(max=500)])


class ExclusionForm(FlaskForm):
    expert_name = StringField(_l("需回避专家姓名"), validators=[DataRequired(_l("请填写专家姓名。")), Length(max=80)])
    affiliation = StringField(_l("工作单位（如知道）"), validators=[Optional(), Length(max=120)])
    reason = TextAreaField(_l("申请回避理由"), validators=[DataRequired(_l("请写明理由。")), Length(max=1000)],
                           render_kw={"rows": 3})


class ExclusionDecisionForm(FlaskForm):
    expert_id = SelectField(_l("对应专家账户"), coerce=int, choices=[], validate_choice=False)
    note = StringField(_l("说明"), validators=[Optional(), Length(max=500)])


class ConfirmForm(FlaskForm):
    """Only the CSRF token."""
