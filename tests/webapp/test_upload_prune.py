"""``flask uploads prune``: stored files nothing refers to, and stale temporaries, go after a grace period."""

from __future__ import annotations

import hashlib
import io
import json
import os
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.webapp.portal_helpers import pdf_bytes, png_bytes
from webapp.applications.models import Attachment, Receipt, RosterEntry
from webapp.applications.operations import (
    add_evidence,
    manifest_of,
    referenced_upload_hashes,
    start_application,
)
from webapp.applications.uploads import (
    TMP_DIRNAME,
    PruneRefused,
    open_stored,
    prune_unreferenced,
    store_upload,
)
from webapp.audit.models import AuditEvent
from webapp.auth.models import ApplicantRole, Role
from webapp.campaigns.models import Phase, ProgramKind
from webapp.campaigns.rubrics import rubric_of
from webapp.core.timeutil import now
from webapp.inspection.models import SpotCheck, SpotCheckEntry
from webapp.publicity.models import Objection, PublicityRound

MB = 1024**2
HOUR = 3600


def _age(path: Path, hours: float) -> None:
    moment = time.time() - hours * HOUR
    os.utime(path, (moment, moment))


def put(root: Path, data: bytes, *, hours: float = 48) -> str:
    """Write ``data`` where a stored file goes, last modified ``hours`` ago; its hash."""
    sha = hashlib.sha256(data).hexdigest()
    path = root / sha[:2] / sha[2:4] / sha
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    _age(path, hours)
    return sha


def stored_path(root: Path, sha: str) -> Path:
    return root / sha[:2] / sha[2:4] / sha


def cutoff(hours: float = 24) -> datetime:
    return datetime.now(UTC) - timedelta(hours=hours)


@pytest.fixture
def layout(tmp_path):
    """An upload folder with one of everything; the names of the parts."""
    root = tmp_path / "uploads"
    parts = {
        "referenced": put(root, b"referenced"),
        "orphan": put(root, b"orphan"),
        "young": put(root, b"young", hours=1),
    }
    tmp = root / TMP_DIRNAME
    tmp.mkdir()
    (tmp / "upload-stale").write_bytes(b"half an upload")
    _age(tmp / "upload-stale", 30)
    (tmp / "upload-fresh").write_bytes(b"an upload in flight")
    # Not ours: another name, another place, a link, a folder where a file goes. All old.
    misplaced = hashlib.sha256(b"misplaced").hexdigest()
    (root / "00" / "00").mkdir(parents=True)
    foreign = {
        "notes.txt": root / "notes.txt",
        f"00/00/{misplaced}": root / "00" / "00" / misplaced,
        "00/00/" + "A" * 64: root / "00" / "00" / ("A" * 64),
        "zz": root / "zz" / "x",
    }
    for path in foreign.values():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"not ours")
        _age(path, 100)
    link_target = stored_path(root, parts["referenced"])
    sha_link = hashlib.sha256(b"link").hexdigest()
    link = stored_path(root, sha_link)
    link.parent.mkdir(parents=True)
    link.symlink_to(link_target)
    foreign[f"{sha_link[:2]}/{sha_link[2:4]}/{sha_link}"] = link
    return root, parts, foreign


# ---------------------------------------------------------------- the filesystem walk


def test_prune_removes_old_unreferenced_and_stale_temporaries_only(layout):
    root, parts, foreign = layout
    result = prune_unreferenced(root, {parts["referenced"].upper()}, cutoff())

    orphan = parts["orphan"]
    assert sorted((f.path.as_posix(), f.size, f.temporary) for f in result.removed) == [
        (f"{TMP_DIRNAME}/upload-stale", len(b"half an upload"), True),
        (f"{orphan[:2]}/{orphan[2:4]}/{orphan}", len(b"orphan"), False),
    ]
    assert (result.stored_bytes, result.temporary_bytes) == (len(b"orphan"), len(b"half an upload"))
    assert not stored_path(root, orphan).exists()
    assert not (root / TMP_DIRNAME / "upload-stale").exists()
    # Both fan-out folders went with the orphan (no other file here shares its first two hex digits).
    assert not stored_path(root, orphan).parent.parent.exists()
    assert result.dirs_removed == 2
    assert (root / TMP_DIRNAME).is_dir()

    assert stored_path(root, parts["referenced"]).is_file() and result.kept == 1
    assert stored_path(root, parts["young"]).is_file()
    assert (root / TMP_DIRNAME / "upload-fresh").is_file()
    assert result.young == 2
    assert sorted(p.as_posix() for p in result.foreign) == sorted(foreign)
    assert all(p.exists() or p.is_symlink() for p in foreign.values())
    assert result.failed == () and result.dry_run is False


def test_prune_dry_run_lists_but_removes_nothing(layout):
    root, parts, foreign = layout
    before = sorted(p for p in root.rglob("*"))
    result = prune_unreferenced(root, {parts["referenced"]}, cutoff(), dry_run=True)
    assert sorted(p for p in root.rglob("*")) == before
    assert {f.path.name for f in result.removed} == {parts["orphan"], "upload-stale"}
    assert result.dry_run is True and result.dirs_removed == 0
    assert result.kept == 1 and result.young == 2 and len(result.foreign) == len(foreign)


def test_prune_grace_period_is_the_cutoff(layout):
    root, parts, _ = layout
    result = prune_unreferenced(root, {parts["referenced"]}, cutoff(hours=72))
    assert result.removed == ()
    assert stored_path(root, parts["orphan"]).is_file()
    assert result.young == 4


def test_prune_refuses_when_nothing_on_disk_is_referenced(layout):
    root, parts, _ = layout
    before = sorted(p for p in root.rglob("*"))
    for dry_run in (False, True):
        with pytest.raises(PruneRefused, match="错误的数据库或上传目录"):
            prune_unreferenced(root, {"f" * 64}, cutoff(), dry_run=dry_run)
    assert sorted(p for p in root.rglob("*")) == before


def test_prune_missing_folder_is_empty_result(tmp_path):
    result = prune_unreferenced(tmp_path / "nowhere", set(), cutoff())
    assert (result.removed, result.kept, result.young, result.foreign) == ((), 0, 0, ())


def test_prune_keeps_parent_folder_shared_with_a_kept_file(tmp_path):
    root = tmp_path / "uploads"
    # Two hashes in the same first-level folder: removing one keeps that folder for the other.
    first = b"file 0"
    sha = hashlib.sha256(first).hexdigest()
    second = next(
        data
        for data in (f"file {n}".encode() for n in range(1, 100_000))
        if (other := hashlib.sha256(data).hexdigest())[:2] == sha[:2] and other[2:4] != sha[2:4]
    )
    kept, gone = put(root, first), put(root, second)
    result = prune_unreferenced(root, {kept}, cutoff())
    assert [f.path.name for f in result.removed] == [gone]
    assert not stored_path(root, gone).parent.exists()
    assert stored_path(root, kept).is_file() and result.dirs_removed == 1


def test_storing_the_same_content_again_renews_it_against_prune(tmp_path):
    root = tmp_path / "uploads"
    keep = put(root, b"something referenced")
    first = store_upload(io.BytesIO(pdf_bytes("again")), "a.pdf", upload_dir=root, max_bytes=MB)
    _age(first.path, 48)
    again = store_upload(io.BytesIO(pdf_bytes("again")), "a.pdf", upload_dir=root, max_bytes=MB)
    assert again.already_stored
    result = prune_unreferenced(root, {keep}, cutoff())  # its row is not committed yet
    assert result.removed == () and first.path.is_file()


# ---------------------------------------------------------------- the command, on real rows


@pytest.fixture
def rows(app, session, make_program, make_user, unit):
    """Files referenced from each place a stored file's hash is kept, one orphan left by a failed
    request, one young orphan and a stale temporary; all but the young one modified two days ago."""
    program = make_program(ProgramKind.post_subsidy, phase=Phase.open)
    clerk = make_user(Role.applicant, unit_code="210200", applicant_role=ApplicantRole.clerk)
    root = Path(app.config["UPLOAD_DIR"])
    criteria = rubric_of(program).expert_criteria
    with app.test_request_context():
        application = start_application(program, unit("210200"), actor=clerk)

        def evidence(n: int, text: str) -> Attachment:
            return add_evidence(
                application,
                criterion=criteria[n].key,
                title=f"材料{n}",
                stream=io.BytesIO(pdf_bytes(text)),
                filename=f"{text}.pdf",
                actor=clerk,
            )

        attachment = evidence(0, "attachment")
        certified = evidence(1, "certified")
        at = now()
        manifest = json.dumps(manifest_of(application, at), ensure_ascii=False, sort_keys=True)
        session.add(
            Receipt(
                number="2099HB-210200-01",
                application=application,
                submitted_at=at,
                submitted_by_id=clerk.id,
                manifest=manifest,
                manifest_sha256=hashlib.sha256(manifest.encode()).hexdigest(),
            )
        )
        application.attachments.remove(certified)  # only the receipt still lists this file
        session.delete(certified)

        spot = store_upload(io.BytesIO(png_bytes()), "现场.png", upload_dir=root, max_bytes=MB)
        roster = RosterEntry(application=application, row_no=1, name="甲公司科协")
        check = SpotCheck(
            application=application,
            seed=1,
            roster_size=1,
            sample_size=1,
            created_by_id=clerk.id,
            created_at=at,
        )
        session.add(
            SpotCheckEntry(
                spot_check=check,
                roster_entry=roster,
                row_no=1,
                evidence_sha256=spot.sha256,
                evidence_name="现场.png",
            )
        )
        lodged = store_upload(io.BytesIO(pdf_bytes("objection")), "异议.pdf", upload_dir=root, max_bytes=MB)
        round_ = PublicityRound(
            program_id=program.id,
            number=1,
            start_date=date(2099, 1, 5),
            end_date=date(2099, 1, 9),
            working_days=5,
            contact="办公室",
            opened_by_id=clerk.id,
            opened_at=at,
        )
        session.add(
            Objection(
                receipt_no="2099GS01-0001",
                round=round_,
                name="张三",
                organisation="某单位",
                phone="010-12345678",
                content="异议内容",
                submitted_at=at,
                attachment_name="异议.pdf",
                attachment_sha256=lodged.sha256,
                attachment_size=lodged.size,
                attachment_mime=lodged.mime,
            )
        )
        session.commit()
        referenced = {
            "attachment": attachment.sha256,
            "receipt": certified.sha256,
            "spot check": spot.sha256,
            "objection": lodged.sha256,
        }

        # A request that stored its file and then failed: the row is rolled back, the bytes stay.
        orphan = evidence(2, "orphan")
        orphan_sha = orphan.sha256
        session.rollback()
    young = store_upload(io.BytesIO(pdf_bytes("young")), "young.pdf", upload_dir=root, max_bytes=MB)
    (root / TMP_DIRNAME / "upload-crashed").write_bytes(b"partial")
    for path in root.rglob("*"):
        if path.is_file() and path != young.path:
            _age(path, 48)
    return {
        "referenced": referenced,
        "orphan": orphan_sha,
        "young": young.sha256,
        "root": root,
    }


def test_referenced_upload_hashes_covers_every_place(app, session, rows):
    with app.app_context():
        found = referenced_upload_hashes()
    assert set(rows["referenced"].values()) <= found
    assert rows["orphan"] not in found and rows["young"] not in found


def test_uploads_prune_command_removes_orphan_keeps_referenced_and_audits(app, session, rows):
    root = rows["root"]
    result = app.test_cli_runner().invoke(args=["uploads", "prune"])
    assert result.exit_code == 0, result.output
    assert "未被引用的上传文件：删除 1 个，共 " in result.output
    assert "保留 4 个被引用的文件" in result.output
    assert "过期临时文件：删除 1 个" in result.output
    assert "另有 1 个文件未满 24 小时" in result.output

    with pytest.raises(FileNotFoundError):
        open_stored(root, rows["orphan"])
    for place, sha in rows["referenced"].items():
        assert open_stored(root, sha).is_file(), place
    assert open_stored(root, rows["young"]).is_file()
    assert not (root / TMP_DIRNAME / "upload-crashed").exists()

    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "uploads.prune")).all()
    assert len(events) == 1
    assert events[0].actor_name == "命令行"
    detail = events[0].detail_data
    assert (detail["removed"], detail["temporaries"], detail["kept"], detail["young"]) == (1, 1, 4, 1)
    assert detail["bytes"] == len(pdf_bytes("orphan")) and detail["older_than_hours"] == 24

    again = app.test_cli_runner().invoke(args=["uploads", "prune"])
    assert again.exit_code == 0 and "删除 0 个" in again.output
    assert len(session.scalars(select(AuditEvent).where(AuditEvent.action == "uploads.prune")).all()) == 1


def test_uploads_prune_command_dry_run_lists_and_keeps(app, session, rows):
    root = rows["root"]
    before = sorted(root.rglob("*"))
    result = app.test_cli_runner().invoke(args=["uploads", "prune", "--dry-run"])
    assert result.exit_code == 0, result.output
    orphan = rows["orphan"]
    assert f"将删除文件：{orphan[:2]}/{orphan[2:4]}/{orphan}" in result.output
    assert f"将删除临时文件：{TMP_DIRNAME}/upload-crashed" in result.output
    assert "【试运行，未删除任何文件】未被引用的上传文件：将删除 1 个" in result.output
    assert sorted(root.rglob("*")) == before
    assert session.scalars(select(AuditEvent).where(AuditEvent.action == "uploads.prune")).all() == []


def test_uploads_prune_command_grace_period_option(app, session, rows):
    result = app.test_cli_runner().invoke(args=["uploads", "prune", "--older-than", "72"])
    assert result.exit_code == 0, result.output
    assert "删除 0 个" in result.output and "另有 3 个文件未满 72 小时" in result.output
    assert open_stored(rows["root"], rows["orphan"]).is_file()
    bad = app.test_cli_runner().invoke(args=["uploads", "prune", "--older-than", "0"])
    assert bad.exit_code == 2


def test_uploads_prune_command_refuses_when_nothing_is_referenced(app, session):
    root = Path(app.config["UPLOAD_DIR"])
    sha = put(root, b"an orphan in an otherwise empty system")
    result = app.test_cli_runner().invoke(args=["uploads", "prune"])
    assert result.exit_code == 1
    assert "没有删除任何文件" in result.output
    assert stored_path(root, sha).is_file()
