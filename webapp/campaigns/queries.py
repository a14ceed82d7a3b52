"""Loading campaigns and programs for views (404 when missing; due phase moves applied on load)."""

from __future__ import annotations

from flask import abort
from sqlalchemy import select

from webapp.campaigns.models import Campaign, Program
from webapp.campaigns.operations import apply_due_transitions
from webapp.core.db import db


def all_campaigns() -> list[Campaign]:
    campaigns = list(db.session.scalars(select(Campaign).order_by(Campaign.year.desc())))
    for campaign in campaigns:
        for program in campaign.programs:
            apply_due_transitions(program)
    return campaigns


def get_campaign_or_404(campaign_id: int) -> Campaign:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        abort(404)
    for program in campaign.programs:
        apply_due_transitions(program)
    return campaign


def get_program_or_404(program_id: int) -> Program:
    program = db.session.get(Program, program_id)
    if program is None:
        abort(404)
    apply_due_transitions(program)
    return program
