"""Office pages: results runs (tables, charts, per-applicant explanation), decisions and the what-if;
the unit's own outcome after the program is final."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select

from scoring.indicators import formula_scores
from scoring.reliability import describe
from webapp.applications.models import Application
from webapp.auth.models import Role
from webapp.auth.permissions import roles_required
from webapp.campaigns.models import Phase
from webapp.campaigns.queries import get_program_or_404
from webapp.campaigns.rubrics import rubric_of
from webapp.core.db import db
from webapp.core.i18n import N_
from webapp.results import workflow as _workflow  # noqa: F401  (registers phase guards)
from webapp.results.models import DECISION_LABELS, Decision, DecisionKind, ResultRun
from webapp.results.operations import (
    ResultsError,
    adopt_proposals,
    change_decision,
    current_decisions,
    funded_total,
    is_stale,
    latest_run,
    proposals,
    ranked_applications,
    run_results,
    what_if,
)

bp = Blueprint("results", __name__)


DISCUSS_FLAGS = ("insufficient_reviews", "high_disagreement", "boundary", "tie_at_cutoff")
FLAG_LABELS = {
    "insufficient_reviews": N_("评审份数不足"),
    "high_disagreement": N_("专家分歧大"),
    "boundary": N_("处于资助线附近"),
    "tie_at_cutoff": N_("资助线处并列"),
    "lenient": N_("偏宽"),
    "severe": N_("偏严"),
    "inconsistent": N_("与他人排序不一致"),
}
MEASURES = [("icc_a1", N_("ICC(A,1) 单个专家绝对一致性")), ("icc_c1", N_("ICC(C,1) 单个专家相对一致性")),
            ("icc_ak", N_("ICC(A,k) 专家组平均分的可靠性")), ("kendall_w", N_("肯德尔和谐系数 W")),
            ("krippendorff_alpha", N_("克里彭多夫 α（区间）"))]


class ConfirmForm(FlaskForm):
    """Only the CSRF token."""


def flag_label(flag: str) -> str:
    if flag.startswith("missing_indicator:"):
        return _("缺少数据：%(key)s", key=flag.split(":", 1)[1])
    if flag.startswith("not_applicable:"):
        return _("不适用：%(key)s", key=flag.split(":", 1)[1])
    return _(FLAG_LABELS[flag]) if flag in FLAG_LABELS else flag


def _run_or_404(program, number: int | None) -> ResultRun | None:
    if number is None:
        return latest_run(program)
    run = db.session.scalar(select(ResultRun).where(ResultRun.program_id == program.id, ResultRun.number == number))
    if run is None:
        abort(404)
    return run


@bp.route("/programs/<int:program_id>/results")
@roles_required(Role.office)
def index(program_id: int):
    program = get_program_or_404(program_id)
    run = _run_or_404(program, request.args.get("run", type=int))
    runs = db.session.scalars(select(ResultRun).where(ResultRun.program_id == program.id)
                              .order_by(ResultRun.number.desc())).all()
    context = {"program": program, "run": run, "runs": runs, "confirm": ConfirmForm(), "flag_label": flag_label,
               "discuss": request.args.get("filter") == "discuss"}
    if run is not None:
        from webapp.results.charts import leniency_chart, rank_interval_chart

        rubric = rubric_of(program)
        data = run.result_data()
        names = {row[0]: row[1] for row in run.inputs_data()["applications"]}
        rows = data["applications"]
        if context["discuss"]:
            rows = [r for r in rows if any(f in DISCUSS_FLAGS for f in r["flags"])]
        extras = run.extras_data()
        reliability = data.get("reliability") or {}
        context.update(
            rubric=rubric, data=data, rows=rows, names=names, extras=extras, stale=is_stale(run),
            awards={a["application"]: a for a in run.awards_data()["awards"]},
            reliability=[(key, _(label), reliability.get(key), describe(reliability.get(key), key))
                         for key, label in MEASURES],
            reliability_meta=reliability,
            rank_chart=rank_interval_chart(
                [(names.get(r["application"], r["application"]), r["rank"],
                  (r["rank_interval"] or [None, None])[0], (r["rank_interval"] or [None, None])[1])
                 for r in data["applications"]], extras.get("cutoff_rank")),
            leniency=leniency_chart([(e["expert"], e.get("leniency"), bool(e.get("flags"))) for e in data["experts"]]),
        )
    return render_template("results/index.html", **context)


@bp.route("/programs/<int:program_id>/results/run", methods=["POST"])
@roles_required(Role.office)
def run(program_id: int):
    program = get_program_or_404(program_id)
    if ConfirmForm().validate_on_submit():
        try:
            bootstrap = int(request.form.get("bootstrap") or 1000)
            seed_text = (request.form.get("seed") or "").strip()
            seed = int(seed_text) if seed_text else None
        except ValueError:
            flash(_("自助法次数和随机种子须为整数。"), "danger")
            return redirect(url_for("results.index", program_id=program.id))
        try:
            record = run_results(program, bootstrap=bootstrap, seed=seed, actor=current_user._get_current_object())
        except ResultsError as exc:
            for problem in exc.problems:
                flash(problem, "danger")
        else:
            flash(_("已完成第 %(n)s 次评审结果运行。", n=record.number), "success")
    return redirect(url_for("results.index", program_id=program.id))


def explain_tie_break(rubric, data: dict, code: str) -> str | None:
    """Which step of rule 6 separated this application from others with the same total."""
    rows = [r for r in data["applications"] if r["rank"] is not None]
    me = next((r for r in rows if r["application"] == code), None)
    if me is None:
        return None
    same = [r for r in rows if r["total"] == me["total"] and r["application"] != code]
    if not same:
        return None
    notes = []
    for other in same:
        for key in rubric.aggregation.tie_break:
            a, b = me["criteria"].get(key), other["criteria"].get(key)
            if a != b:
                title = rubric.criterion(key).title
                if (a or 0) > (b or 0):
                    notes.append(_("与 %(other)s 总分相同，按“%(title)s”得分（%(a)s 对 %(b)s）排在前",
                                   other=other["application"], title=title, a=a, b=b))
                else:
                    notes.append(_("与 %(other)s 总分相同，按“%(title)s”得分（%(a)s 对 %(b)s）排在后",
                                   other=other["application"], title=title, a=a, b=b))
                break
        else:
            if other["rank"] == me["rank"]:
                notes.append(_("与 %(other)s 总分及各排序项目均相同，并列第 %(rank)s 名",
                               other=other["application"], rank=me["rank"]))
            elif me["rank"] < other["rank"]:
                notes.append(_("与 %(other)s 总分及各排序项目均相同，按提交时间较早排在前",
                               other=other["application"]))
            else:
                notes.append(_("与 %(other)s 总分及各排序项目均相同，按提交时间较晚排在后",
                               other=other["application"]))
    return _("；").join(notes)


@bp.route("/programs/<int:program_id>/results/<int:number>/<code>")
@roles_required(Role.office)
def explain(program_id: int, number: int, code: str):
    program = get_program_or_404(program_id)
    run = _run_or_404(program, number)
    data = run.result_data()
    row = next((r for r in data["applications"] if r["application"] == code), None)
    if row is None:
        abort(404)
    rubric = rubric_of(program)
    inputs = run.inputs_data()
    name = next((a[1] for a in inputs["applications"] if a[0] == code), code)
    reviews: dict[str, dict[str, str]] = {}
    for application, expert, criterion, score in inputs["scores"]:
        if application == code:
            reviews.setdefault(expert, {})[criterion] = score
    totals = run.extras_data()["reviewer_totals"].get(code, {})
    figures = {k: Decimal(v) for a, k, v in inputs["indicators"] if a == code}
    formula = formula_scores(rubric, figures)
    from webapp.results.charts import breakdown_chart

    chart = breakdown_chart([(c.title, row["criteria"].get(c.key), c.max) for c in rubric.criteria],
                            title=_("%(name)s 各项得分与满分", name=name))
    return render_template("results/explain.html", program=program, run=run, row=row, rubric=rubric, name=name,
                           chart=chart,
                           reviews=reviews, totals=totals, retained=set(row["retained"]), formula=formula,
                           figures=figures, tie=explain_tie_break(rubric, data, code), flag_label=flag_label)


class DecisionForm(FlaskForm):
    pass


def _decimal(text: str | None) -> Decimal | None:
    text = (text or "").replace(",", "").strip()
    if not text:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ResultsError([_("金额“%(text)s”不是数字。", text=text)]) from None


@bp.route("/programs/<int:program_id>/decisions", methods=["GET", "POST"])
@roles_required(Role.office)
def decisions(program_id: int):
    program = get_program_or_404(program_id)
    run = latest_run(program)
    actor = current_user._get_current_object()
    if request.method == "POST" and ConfirmForm().validate_on_submit():
        try:
            if request.form.get("action") == "adopt":
                if run is None:
                    raise ResultsError([_("请先运行评审结果。")])
                adopt_proposals(program, run, actor=actor)
                flash(_("已按第 %(n)s 次评审结果生成资助建议。", n=run.number), "success")
            elif request.form.get("action") == "change":
                application = db.session.get(Application, request.form.get("application_id", type=int))
                if application is None or application.program_id != program.id:
                    abort(404)
                change_decision(application, kind=DecisionKind(request.form.get("kind")),
                                amount=_decimal(request.form.get("amount")), reason=request.form.get("reason", ""),
                                actor=actor)
                flash(_("已修改 %(unit)s 的决定。", unit=application.unit.name), "success")
        except (ResultsError, ValueError) as exc:
            db.session.rollback()
            for problem in getattr(exc, "problems", [str(exc)]):
                flash(problem, "danger")
        return redirect(url_for("results.decisions", program_id=program.id))
    current = current_decisions(program)
    rows = []
    result_rows = {r["application"]: r for r in run.result_data()["applications"]} if run else {}
    proposal = proposals(program, run) if run else {}
    for application in ranked_applications(program):
        rows.append({"application": application, "decision": current.get(application.id),
                     "result": result_rows.get(application.unit.code), "proposal": proposal.get(application.id)})
    rows.sort(key=lambda r: (r["result"] is None or r["result"]["rank"] is None,
                             r["result"]["rank"] if r["result"] and r["result"]["rank"] else 0))
    scenario = None
    problems: list[str] = []
    if run is not None and request.args.get("whatif"):
        try:
            amounts = {k: int(request.args[k]) for k in ("amount", "amount_min", "amount_max", "step")
                       if request.args.get(k)}
            scenario = what_if(program, run, budget=request.args.get("budget", type=int),
                               count=request.args.get("count", type=int), amounts=amounts)
        except (ResultsError, ValueError) as exc:
            problems = getattr(exc, "problems", [str(exc)])
    history = db.session.scalars(select(Decision).join(Application).where(
        Application.program_id == program.id, Decision.superseded_at.is_not(None)).order_by(Decision.id.desc())).all()
    return render_template(
        "results/decisions.html", program=program, run=run, rows=rows, confirm=ConfirmForm(),
        kinds=list(DecisionKind), labels=DECISION_LABELS, funded=funded_total(program), scenario=scenario,
        problems=problems, rubric=rubric_of(program), history=history,
        editable=program.phase == Phase.panel,
        names={a.unit.code: a.unit.name for a in ranked_applications(program)},
    )


@bp.route("/applications/<int:application_id>/outcome")
@roles_required(Role.applicant, Role.office)
def outcome(application_id: int):
    """After 定案 the unit sees its own outcome and score breakdown."""
    from webapp.applications.views import load_application

    application = load_application(application_id)
    program = application.program
    if Phase(program.phase) not in (Phase.final, Phase.paid):
        return render_template("results/outcome.html", application=application, final=False)
    decision = current_decisions(program).get(application.id)
    run = decision.run if decision else latest_run(program)
    row = None
    if run is not None:
        row = next((r for r in run.result_data()["applications"] if r["application"] == application.unit.code), None)
    return render_template("results/outcome.html", application=application, final=True, decision=decision,
                           row=row, rubric=rubric_of(program), flag_label=flag_label)
