"""Region conflicts (回避, §4), as a pure rule on GB/T 2260 codes.

An expert conflicts with an applicant when both belong to the same provincial-level region: the same
unit; the applicant is a sub-provincial city of the expert's province; the expert's region is a
sub-provincial city of the applicant's province; or two such cities of one province. Whether 新疆
(650000) and 兵团 (660000) count as one region is a campaign setting.
"""

from __future__ import annotations

from typing import NamedTuple

from webapp.core.i18n import N_

XINJIANG = "650000"
CORPS = "660000"


class Region(NamedTuple):
    """A unit's code and, for a sub-provincial city, its province's code."""

    code: str
    parent_code: str | None = None

    @property
    def province(self) -> str:
        return self.parent_code or self.code


def region_conflict(expert: Region, applicant: Region, *, corps_with_xinjiang: bool) -> str | None:
    """The reason the expert may not review the applicant, or None.

    The reason is the untranslated Chinese text; ``operations.conflict_reason`` translates it for display.

    >>> region_conflict(Region("210000"), Region("210200", "210000"), corps_with_xinjiang=True)
    '申报单位是专家所在省份的副省级城市'
    """
    if expert.code == applicant.code:
        return N_("专家与申报单位属同一地区")
    if applicant.parent_code is not None and applicant.parent_code == expert.code:
        return N_("申报单位是专家所在省份的副省级城市")
    if expert.parent_code is not None and expert.parent_code == applicant.code:
        return N_("专家所在地是申报单位所在省份的副省级城市")
    if expert.province == applicant.province:
        return N_("专家与申报单位同属一个省份")
    if corps_with_xinjiang and {expert.province, applicant.province} == {XINJIANG, CORPS}:
        return N_("新疆与新疆生产建设兵团按同一地区回避")
    return None
