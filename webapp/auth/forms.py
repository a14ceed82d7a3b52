"""Login and password forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length


class LoginForm(FlaskForm):
    username = StringField(_l("用户名"), validators=[DataRequired(_l("请输入用户名。")), Length(max=60)])
    password = PasswordField(_l("密码"), validators=[DataRequired(_l("请输入密码。")), Length(max=200)])


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("当前密码"), validators=[DataRequired(_l("请输入当前密码。"))])
    new_password = PasswordField(
        _l("新密码"),
        validators=[DataRequired(_l("请输入新密码。")), Length(max=200)],
        description=_l("至少 10 个字符，包含大写字母、小写字母、数字、符号中的至少三类，且不能包含用户名。"),
    )
    confirm = PasswordField(
        _l("再次输入新密码"),
        validators=[DataRequired(_l("请再次输入新密码。")), EqualTo("new_password", _l("两次输入的新密码不一致。"))],
    )
