"""Portal forms (the figures form is built from the rubric in ``figures.py``)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional


class EvidenceForm(FlaskForm):
    criterion = SelectField(
        _l("对应的评分项目"), validators=[DataRequired(_l("请选择评分项目。"))], choices=[]
    )
    title = StringField(
        _l("材料标题"),
        validators=[DataRequired(_l("请填写材料标题。")), Length(max=200)],
        description=_l("例如“2014年企业科协工作总结”“省委常委会会议纪要（摘录）”。"),
    )
    file = FileField(
        _l("文件"),
        validators=[FileRequired(_l("请选择要上传的文件。"))],
        description=_l(
            "PDF、Word（DOCX）、Excel（XLSX）、JPG、PNG，每个文件不超过 50 MB，本申报合计不超过 300 MB。"
        ),
    )


class RosterForm(FlaskForm):
    file = FileField(
        _l("名册文件（XLSX）"),
        validators=[FileRequired(_l("请选择名册文件。"))],
        description=_l("请使用模板填写；标题行、合并单元格、全角数字、各种日期写法均可识别。"),
    )


class RecommendationForm(FlaskForm):
    recommendation = TextAreaField(
        _l("推荐意见"),
        validators=[Length(max=5000)],
        description=_l("由单位负责人填写，至少 20 字。"),
        render_kw={"rows": 6},
    )


class LetterForm(FlaskForm):
    file = FileField(_l("盖章推荐函（PDF 或图片）"), validators=[FileRequired(_l("请选择推荐函文件。"))])


class NominateForm(FlaskForm):
    unit_id = SelectField(
        _l("邀请单位"), coerce=int, choices=[], validators=[DataRequired(_l("请选择单位。"))]
    )


class CheckForm(FlaskForm):
    decision = RadioField(_l("审查结论"), choices=[], validators=[DataRequired(_l("请选择审查结论。"))])
    note = TextAreaField(
        _l("说明"),
        validators=[Optional(), Length(max=2000)],
        render_kw={"rows": 4},
        description=_l("退回补正时写明需补充的材料；不通过时写明理由。单位可以看到这段说明。"),
    )
    working_days = IntegerField(
        _l("补正期限（工作日）"), default=3, validators=[Optional(), NumberRange(1, 10)]
    )


class ConfirmForm(FlaskForm):
    """Only the CSRF token, for POST buttons."""


class PayeeForm(FlaskForm):
    payee_name = StringField(_l("收款单位"), validators=[Optional(), Length(max=120)],
                             description=_l("与银行开户名一致的单位全称"))
    bank_name = StringField(_l("开户银行"), validators=[Optional(), Length(max=120)],
                            description=_l("具体到支行，如 中国工商银行北京海淀支行"))
    bank_account = StringField(_l("银行账号"), validators=[Optional(), Length(max=40)])
