"""Ideas in their place: a point and an address, the district read from the vendored outlines, agencies never
offered as places, and "within a 15-minute walk" checked against a haversine computed here."""
import math
import random
import re

import pytest
from sqlalchemy import select

from contest import geo
from contest.extensions import db
from contest.models import DepartmentKind, Entry, EntryStatus
from contest.services.entries import EntryData, moderate, submit_entry
from tests.helpers import log_in, make_department, make_user, post_form, zh


@pytest.fixture
def districts(city):
    made = {name: make_department(name, DepartmentKind.DISTRICT, city, name_en=name_en)
            for name, name_en in (("徐汇区", "Xuhui District"), ("黄浦区", "Huangpu District"),
                                  ("浦东新区", "Pudong New Area"), ("杨浦区", "Yangpu District"))}
    made["徐家汇街道"] = make_department("徐家汇街道", DepartmentKind.STREET, made["徐汇区"])
    return made


@pytest.fixture
def idea_call(idea_call):
    idea_call.entries_per_person = 500
    db.session.commit()
    return idea_call


def _idea(client, call, **fields):
    data = {"title": "口袋公园", "description": "在这里加几张长椅", "topic_id": str(call.topics[0].id),
            "place_id": "0", "address": "", "lat": "", "lng": "", "accept": "y"}
    data.update(fields)
    return post_form(client, f"/calls/{call.id}/enter", data, content_type="multipart/form-data")


def _haversine(lat1, lng1, lat2, lng2):
    """Computed here, independently of contest.geo: the great-circle distance on a sphere of 6371 km."""
    phi1, phi2, dphi, dlmb = map(math.radians, (lat1, lat2, lat2 - lat1, lng2 - lng1))
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * 6_371_000 * math.atan2(math.sqrt(h), math.sqrt(1 - h))


@pytest.mark.parametrize("lat,lng,district", [
    (31.1886, 121.4368, "徐汇区"),  # Xujiahui
    (31.2304, 121.4737, "黄浦区"),  # People's Square
    (31.2397, 121.4998, "浦东新区"),  # Lujiazui
    (31.3000, 121.5000, "杨浦区"),
    (31.6000, 121.8000, "崇明区"),
])
def test_the_outlines_hold_known_points(lat, lng, district):
    assert geo.district_at(lat, lng).name == district


@pytest.mark.parametrize("lat,lng", [(30.9, 122.1), (31.3, 120.6), (39.9042, 116.4074)])  # the sea, Suzhou, Beijing
def test_a_point_outside_the_city_has_no_district(lat, lng):
    assert geo.district_at(lat, lng) is None


def test_an_idea_placed_by_a_point_gets_its_district_from_the_outlines(client, citizen, idea_call, districts):
    log_in(client, citizen.email)
    for lat, lng, name in ((31.1886, 121.4368, "徐汇区"), (31.2304, 121.4737, "黄浦区"),
                           (31.2397, 121.4998, "浦东新区")):
        # The select said Yangpu: the point is elsewhere, and the point wins.
        response = _idea(client, idea_call, title=f"{name}的想法", lat=str(lat), lng=str(lng),
                         place_id=str(districts["杨浦区"].id), address="龙腾大道滨江")
        assert response.status_code == 302, response.get_data(as_text=True)
        entry = db.session.scalar(select(Entry).where(Entry.title == f"{name}的想法"))
        assert (entry.place.name, entry.lat, entry.lng, entry.address) == (name, lat, lng, "龙腾大道滨江")
        assert entry.cell == geo.geohash(lat, lng)


def test_a_street_chosen_inside_the_points_district_is_kept(client, citizen, idea_call, districts):
    log_in(client, citizen.email)
    street = districts["徐家汇街道"]
    assert _idea(client, idea_call, lat="31.1886", lng="121.4368", place_id=str(street.id)).status_code == 302
    assert db.session.scalar(select(Entry)).place_id == street.id


def test_a_point_outside_the_city_is_refused_and_nothing_is_saved(client, citizen, idea_call, districts):
    log_in(client, citizen.email)
    response = _idea(client, idea_call, lat="39.9042", lng="116.4074")
    assert response.status_code == 400
    assert zh("This point is outside the city: choose a place in Shanghai.") in response.get_data(as_text=True)
    assert _idea(client, idea_call, lat="31.2", lng="").status_code == 400
    assert db.session.scalar(select(Entry)) is None


def test_without_a_point_the_address_and_the_select_say_where(client, citizen, idea_call, districts):
    log_in(client, citizen.email)
    assert _idea(client, idea_call, address="漕溪北路 1200 号", place_id=str(districts["徐汇区"].id)).status_code == 302
    entry = db.session.scalar(select(Entry))
    assert (entry.place_id, entry.lat, entry.address) == (districts["徐汇区"].id, None, "漕溪北路 1200 号")


def test_agencies_are_never_offered_as_places(client, citizen, idea_call, districts, transport_commission):
    log_in(client, citizen.email)
    html = client.get(f"/calls/{idea_call.id}/enter").get_data(as_text=True)
    places = re.search(r'<select[^>]*id="place_id".*?</select>', html, re.S).group(0)
    assert "徐汇区" in places and "徐家汇街道" in places and "上海市" in places
    assert f'value="{transport_commission.id}"' not in places and "交通委员会" not in places
    response = _idea(client, idea_call, place_id=str(transport_commission.id))
    assert response.status_code == 400 and db.session.scalar(select(Entry)) is None


def _placed_ideas(call, author, points):
    entries = [submit_entry(author, call, EntryData(title=f"想法{n}", description="说明", topic_id=call.topics[0].id,
                                                    lat=lat, lng=lng), [], accepted_terms=True)
               for n, (lat, lng) in enumerate(points)]
    moderate(make_user("mod@example.org", admin=True), entries, approve=True)
    db.session.commit()
    return entries


def test_the_walk_returns_exactly_the_entries_within_the_radius(client, app, idea_call, districts):
    author = make_user("many@example.org")
    rng = random.Random(19)
    centre = (31.1886, 121.4368)
    points = [(centre[0] + rng.uniform(-0.02, 0.02), centre[1] + rng.uniform(-0.02, 0.02)) for _ in range(150)]
    entries = _placed_ideas(idea_call, author, points)
    radius = 15 * app.config["WALK_METRES_PER_MINUTE"]
    expected = {e.id: _haversine(*centre, e.lat, e.lng) for e in entries if _haversine(*centre, e.lat, e.lng) <= radius}
    assert 10 < len(expected) < 150  # the radius cuts the sample
    near = f"near={centre[0]},{centre[1]}&minutes=15"
    data = client.get(f"/api/v1/calls/{idea_call.id}/entries.geojson?{near}").get_json()
    assert data["type"] == "FeatureCollection"
    got = {f["properties"]["id"]: f["properties"]["distance_m"] for f in data["features"]}
    assert set(got) == set(expected)
    assert all(abs(got[i] - expected[i]) <= 1 for i in got)
    distances = [f["properties"]["distance_m"] for f in data["features"]]
    assert distances == sorted(distances)
    # The page says the same, each with its distance.
    html = client.get(f"/calls/{idea_call.id}/map?{near}").get_data(as_text=True)
    nearest = min(expected, key=expected.get)
    assert f'href="/entries/{nearest}"' in html and zh("%(metres)d m", metres=round(expected[nearest])) in html


def test_only_public_entries_are_on_the_map(client, citizen, idea_call, districts):
    log_in(client, citizen.email)
    assert _idea(client, idea_call, lat="31.1886", lng="121.4368").status_code == 302
    url = f"/api/v1/calls/{idea_call.id}/entries.geojson"
    assert client.get(url).get_json()["features"] == []
    entry = db.session.scalar(select(Entry))
    moderate(make_user("mod@example.org", admin=True), [entry], approve=True)
    db.session.commit()
    assert entry.status is EntryStatus.APPROVED
    [feature] = client.get(url).get_json()["features"]
    assert feature["geometry"]["coordinates"] == [121.4368, 31.1886]


def test_a_viewport_is_answered_with_clusters(client, app, idea_call, districts):
    author = make_user("many@example.org")
    rng = random.Random(7)
    points = [(31.19 + rng.uniform(-0.01, 0.01), 121.44 + rng.uniform(-0.01, 0.01)) for _ in range(60)]
    points += [(31.24, 121.50)]
    _placed_ideas(idea_call, author, points)
    url = f"/api/v1/calls/{idea_call.id}/clusters.geojson?bbox=30.6,120.8,31.9,122.2"
    features = client.get(url).get_json()["features"]
    assert sum(f["properties"]["count"] for f in features) == 61
    assert len(features) < 20
    street = client.get(f"/api/v1/calls/{idea_call.id}/clusters.geojson?bbox=31.2395,121.4995,31.2405,121.5005")
    [alone] = street.get_json()["features"]
    assert alone["properties"]["count"] == 1 and alone["properties"]["title"] == "想法60"
    assert client.get(f"/api/v1/calls/{idea_call.id}/clusters.geojson?bbox=1,2").status_code == 400


def test_bad_near_is_a_clear_400(client, idea_call):
    for near in ("abc", "31.2", "31.2,nan", "39.9,116.4"):
        assert client.get(f"/api/v1/calls/{idea_call.id}/entries.geojson?near={near}").status_code == 400
    assert client.get(f"/calls/{idea_call.id}/map?near=abc").status_code == 400


def test_the_demos_fifteen_minute_and_pocket_park_calls_have_ideas_across_districts(app, demo_snapshot, client):
    from contest.models import Call

    demo_snapshot.install(app)
    for title in ("15分钟", "口袋公园"):
        call = db.session.scalar(select(Call).where(Call.title.contains(title)).order_by(Call.id).limit(1))
        placed = db.session.scalars(select(Entry).where(Entry.call_id == call.id, Entry.lat.is_not(None))).all()
        districts = {e.place.name for e in placed}
        assert len(districts) >= 3, (title, districts)
        assert all(e.place.name == geo.district_at(e.lat, e.lng).name for e in placed)
        features = client.get(f"/api/v1/calls/{call.id}/entries.geojson").get_json()["features"]
        assert features, title


def _cells(call_id):
    from contest.models import MapCell

    return sorted((c.cell, c.precision, c.count, round(c.lat, 9), round(c.lng, 9), c.entry_id)
                  for c in db.session.scalars(select(MapCell).where(MapCell.call_id == call_id)))


def test_the_counted_cells_follow_the_entries_through_moderation_merges_and_moves(app, idea_call, districts):
    """The wide views read map_cell; whatever happens to the entries, it says what counting them afresh says."""
    from contest.services.issues import merge
    from contest.services.map import rebuild_cells

    author, staff = make_user("many@example.org"), make_user("staff@example.org", admin=True)
    rng = random.Random(3)
    points = [(31.19 + rng.uniform(-0.05, 0.05), 121.44 + rng.uniform(-0.05, 0.05)) for _ in range(40)]
    entries = _placed_ideas(idea_call, author, points)
    city_box = "30.6,120.8,31.9,122.2"

    def city_total(client):
        url = f"/api/v1/calls/{idea_call.id}/clusters.geojson?bbox={city_box}"
        return sum(f["properties"]["count"] for f in client.get(url).get_json()["features"])

    def as_if_counted_afresh():
        kept = _cells(idea_call.id)
        rebuild_cells(db.session.connection(), [idea_call.id])
        assert kept == _cells(idea_call.id)

    client = app.test_client()
    as_if_counted_afresh()
    assert city_total(client) == 40
    moderate(staff, entries[:3], approve=False, reason="重复")  # rejected: off the map
    with app.test_request_context():
        merge(staff, entries[3], entries[4], reason="说的是同一件事")
    entries[5].lat, entries[5].lng, entries[5].cell = 31.60, 121.80, geo.geohash(31.60, 121.80)  # moved to Chongming
    db.session.delete(entries[6])
    db.session.commit()
    as_if_counted_afresh()
    assert city_total(client) == 40 - 3 - 1 - 1
    far = client.get(f"/api/v1/calls/{idea_call.id}/clusters.geojson?bbox=31.4,121.6,31.8,122.0").get_json()
    assert [f["properties"]["id"] for f in far["features"]] == [entries[5].id]  # alone in its cell: it is named


def test_a_built_object_placed_by_the_organiser_is_within_the_walk_with_its_distance(
        app, client, transport_organiser, idea_call, districts):
    from contest.models import FollowUp
    from tests.helpers import adopt, csrf_token

    [entry] = _placed_ideas(idea_call, make_user("author@example.org"), [(31.1886, 121.4368)])
    follow_up = adopt(entry, transport_organiser)
    assert (follow_up.lat, follow_up.lng) == (31.1886, 121.4368)  # where the idea was placed, to begin with
    log_in(client, transport_organiser.email)
    page = f"/console/calls/{idea_call.id}/follow-up"
    assert f'id="place-{follow_up.id}-lat"' in client.get(page).get_data(as_text=True)
    prefix = f"place-{follow_up.id}"
    sent = {f"{prefix}-csrf_token": csrf_token(client, page), f"{prefix}-submit": "y",
            f"{prefix}-address": "徐家汇公园东门", f"{prefix}-lat": "31.1950", f"{prefix}-lng": "121.4400"}
    assert client.post(page, data=sent).status_code == 302
    db.session.expire_all()
    built = db.session.get(FollowUp, follow_up.id)
    assert (built.lat, built.lng, built.address) == (31.195, 121.44, "徐家汇公园东门")
    # A point outside the city is refused with a clear message, and nothing changes.
    refused = client.post(page, data={**sent, f"{prefix}-lat": "39.9042", f"{prefix}-lng": "116.4074"})
    assert refused.status_code == 400
    assert zh("This point is outside the city: choose a place in Shanghai.") in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(FollowUp, follow_up.id).lat == 31.195

    centre = (31.1886, 121.4368)
    expected = round(_haversine(*centre, 31.195, 121.44))
    near = f"near={centre[0]},{centre[1]}&minutes=15"
    html = client.get(f"/calls/{idea_call.id}/map?{near}").get_data(as_text=True)
    built_list = re.search(r'<ol class="place-list built-list".*?</ol>', html, re.S).group(0)
    assert entry.title in built_list and zh("%(metres)d m", metres=expected) in built_list
    data = client.get(f"/api/v1/calls/{idea_call.id}/built.geojson?{near}").get_json()
    [feature] = data["features"]
    assert feature["geometry"]["coordinates"] == [121.44, 31.195]
    assert abs(feature["properties"]["distance_m"] - expected) <= 1 and feature["properties"]["stage"] == "adopted"
    assert client.get(f"/api/v1/calls/{idea_call.id}/built.geojson?near=39.9,116.4").status_code == 400
    far = client.get(f"/api/v1/calls/{idea_call.id}/built.geojson?near=31.60,121.80").get_json()
    assert far["features"] == []
    assert len(client.get(f"/api/v1/calls/{idea_call.id}/built.geojson").get_json()["features"]) == 1
    # Its public card says where it is built and leads to the walk around it.
    card = client.get(f"/calls/{idea_call.id}/follow-up").get_data(as_text=True)
    assert "徐家汇公园东门" in card and "near=31.195000,121.440000" in card


def test_a_meeting_is_placed_by_a_point_and_its_page_shows_it(organiser_client, idea_call, districts):
    from contest.models import Meeting
    from tests.integration.test_meetings import meeting_form

    url = f"/console/calls/{idea_call.id}/meetings"
    form_page = organiser_client.get(url).get_data(as_text=True)
    assert 'data-picker' in form_page and 'id="lat"' in form_page
    refused = post_form(organiser_client, url, meeting_form(lat="39.9042", lng="116.4074"))
    assert refused.status_code == 400 and db.session.scalar(select(Meeting)) is None
    response = post_form(organiser_client, url, meeting_form(lat="31.1705", lng="121.4310",
                                                             place_id=str(districts["杨浦区"].id)))
    assert response.status_code == 302, response.get_data(as_text=True)
    meeting = db.session.scalar(select(Meeting))
    assert (meeting.lat, meeting.lng, meeting.venue) == (31.1705, 121.431, "田林街道社区文化活动中心")
    assert meeting.place.name == "徐汇区"  # read from the point, as for an idea
    page = organiser_client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert 'data-point-map data-point="31.1705,121.431"' in page
    assert f"/calls/{idea_call.id}/map?near=31.170500,121.431000" in page.replace("&amp;", "&")


def test_the_statistics_page_shades_each_district_by_its_ideas(client, idea_call, districts):
    author = make_user("many@example.org")
    _placed_ideas(idea_call, author, [(31.1886, 121.4368)] * 5 + [(31.2304, 121.4737)] * 2 + [(31.3, 121.5)])
    html = client.get("/statistics").get_data(as_text=True)
    svg = re.search(r'<svg class="picture-svg districts".*?</svg>', html, re.S).group(0)
    shades = {m[0]: (int(m[1]), int(m[2])) for m in re.findall(
        r'data-district="([^"]+)" data-count="(\d+)" data-step="(\d)"', svg)}
    assert len(shades) == 16
    assert shades["徐汇区"] == (5, 4) and shades["黄浦区"] == (2, 2) and shades["杨浦区"] == (1, 1)
    assert shades["崇明区"] == (0, 0)
    assert 'fill="url(#hatch)"' in svg  # the darkest steps differ by hatching too, not by colour alone
    table = re.search(r'<table class="stat-table" id="table-districts">.*?</table>', html, re.S).group(0)
    assert re.search(r"徐汇区</th><td class=\"num\">5<", table)
    summary = re.search(r'<p id="districts-summary">(.*?)</p>', html, re.S).group(1)
    assert "徐汇区" in summary and "5" in summary
