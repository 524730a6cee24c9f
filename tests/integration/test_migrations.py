"""The schema is made by the migrations only, and they must say exactly what the models say."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from contest.extensions import db
from contest.services.search import include_object


def test_models_and_migrations_do_not_drift(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "include_object": include_object})
        differences = compare_metadata(context, db.metadata)
    assert differences == [], f"the models and the migrations differ; write a migration: {differences}"


def test_the_migrations_go_down_and_up_again(app_factory, tmp_path):
    app = app_factory(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'roundtrip.sqlite3'}")
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        upgrade()
        tables = set(db.inspect(db.engine).get_table_names())
        assert {"user", "department", "department_member", "audit_event"} <= tables


@pytest.mark.real_commits  # migrations run on connections of their own
def test_the_pair_migration_keeps_each_citizens_first_answer_to_a_pair_and_voids_the_repeats(empty_database,
                                                                                              app_factory):
    from datetime import datetime, timedelta

    import pytest
    import sqlalchemy as sa
    from sqlalchemy.exc import IntegrityError

    from tests.helpers import (
        approved_entries,
        make_call,
        make_department,
        make_organiser,
        make_public_round,
        make_voter,
    )

    app = app_factory(SQLALCHEMY_DATABASE_URI=empty_database)
    with app.app_context():
        upgrade()
        department = make_department("上海市交通委员会")
        organiser = make_organiser(department, "transport@example.org")
        call = make_call(department)
        a, b, c = (e.id for e in approved_entries(call, 3))
        round_id = make_public_round(call, organiser, mode="pairwise").id
        stuffer, other = make_voter("stuffer@example.org").id, make_voter("other@example.org").id
        db.session.remove()
        downgrade(revision="0007")  # the schema before the rule, when every page view drew a new pair
        comparison = sa.table("comparison", *(sa.column(name) for name in (
            "round_id", "user_id", "nonce", "left_id", "right_id", "winner_id", "address", "voided_reason")),
            sa.column("created_at", sa.DateTime))
        at = datetime(2026, 11, 30, 9, 0)
        answers = [(stuffer, a, b, a, 2), (stuffer, b, a, b, 0), (stuffer, a, b, b, 1), (stuffer, a, c, c, 3),
                   (other, b, a, a, 5)]
        with db.engine.begin() as connection:
            for n, (user, left, right, winner, minutes) in enumerate(answers):
                connection.execute(sa.insert(comparison).values(
                    round_id=round_id, user_id=user, nonce=f"n{n}", left_id=left, right_id=right, winner_id=winner,
                    address="", voided_reason="", created_at=at + timedelta(minutes=minutes)))
        upgrade()
        with db.engine.connect() as connection:
            rows = connection.execute(sa.text(
                "SELECT nonce, voided_at IS NOT NULL, voided_reason, low_id, high_id FROM comparison ORDER BY nonce"
            )).all()
        kept = {nonce for nonce, voided, *_ in rows if not voided}
        assert kept == {"n1", "n3", "n4"}  # the stuffer's earliest (B, A), their (A, C), the other citizen's
        assert all("只计第一次" in reason for _nonce, voided, reason, *_ in rows if voided)
        assert [(low, high) for *_, low, high in rows] == [(min(a, b), max(a, b))] * 3 + [(a, c), (min(a, b),
                                                                                            max(a, b))]
        # The database holds the rule now, whatever the application does.
        with pytest.raises(IntegrityError, match="(?i)unique|duplicate"), db.engine.begin() as connection:
            connection.execute(sa.text(
                "INSERT INTO comparison (round_id, user_id, nonce, left_id, right_id, low_id, high_id, winner_id, "
                "address, voided_reason, created_at) VALUES (:round, :user, 'again', :b, :a, :low, :high, NULL, '', "
                "'', :at)"), {"round": round_id, "user": other, "a": a, "b": b, "low": min(a, b), "high": max(a, b),
                              "at": at})
        db.engine.dispose()


@pytest.mark.real_commits  # migrations run on connections of their own
def test_the_english_texts_migration_keeps_the_chinese_texts_where_they_are(empty_database, app_factory):
    import sqlalchemy as sa

    from tests.helpers import make_call, make_department

    app = app_factory(SQLALCHEMY_DATABASE_URI=empty_database)
    with app.app_context():
        upgrade()
        department = make_department("上海市交通委员会")
        call = make_call(department, title="道路栏杆请您绘", summary="为城市道路栏杆征集设计", brief="## 征集内容")
        call_id = call.id
        db.session.remove()
        downgrade(revision="0119")  # the schema before the English texts
        upgrade()
        with db.engine.connect() as connection:
            row = connection.execute(sa.text("SELECT title, summary, brief, title_en, brief_en FROM call "
                                             "WHERE id = :id"), {"id": call_id}).one()
            name = connection.execute(sa.text("SELECT name FROM department")).scalar_one()
        assert tuple(row) == ("道路栏杆请您绘", "为城市道路栏杆征集设计", "## 征集内容", None, None)
        assert name == "上海市交通委员会"
        db.engine.dispose()


@pytest.mark.real_commits  # migrations run on connections of their own
def test_the_similar_entries_migration_pairs_the_texts_already_there(empty_database, app_factory):
    import sqlalchemy as sa
    from flask import current_app

    from contest.models import CallKind, EntryStatus
    from contest.services.entries import EntryData, submit_entry
    from tests.helpers import make_call, make_department, make_user

    texts = [("小区门口停车太难了", "晚上回家找不到车位，建议在小区门口划出临时停车位，方便居民停车。"),
             ("小区门口停车太难", "晚上回家找不到车位！建议在小区门口划出临时停车位，方便居民停车"),
             ("菜场周末也开门", "希望菜场周末也开门，方便上班的人买菜。")]
    app = app_factory(SQLALCHEMY_DATABASE_URI=empty_database)
    with app.app_context():
        upgrade()
        call = make_call(make_department("上海市规划和自然资源局"), kind=CallKind.IDEA, title="15分钟社区生活圈",
                         images_min=0)
        ids = []
        for n, (title, description) in enumerate(texts):
            with current_app.test_request_context():
                entry = submit_entry(make_user(f"resident{n}@example.org"), call,
                                     EntryData(title=title, description=description, topic_id=call.topics[0].id),
                                     [], accepted_terms=True)
            entry.status = EntryStatus.APPROVED
            db.session.commit()
            ids.append(entry.id)
        call_id = call.id
        db.session.remove()
        downgrade(revision="0123")  # before the pairs were stored: the view compared the bands on each visit
        upgrade()
        with db.engine.connect() as connection:
            pairs = connection.execute(sa.text("SELECT entry_id, other_id, call_id FROM similar_entry")).all()
        assert [tuple(p) for p in pairs] == [(ids[0], ids[1], call_id)]
        db.engine.dispose()
