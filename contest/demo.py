"""Demo data a newcomer can click through: the Shanghai department tree, organisers and citizens.

Loading twice changes nothing: every piece is looked up before it is made. Later issues add calls,
entries and rounds here.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from contest.extensions import db
from contest.models import Department, DepartmentKind, DepartmentMember, ParticipantGroup, User
from contest.models.types import utcnow
from contest.services.accounts import find_user_by_email, hash_password
from contest.services.departments import create_department

DEMO_PASSWORD = "shanghai-demo"
# Places across the districts for the demo's ideas: a point (WGS-84) and the address a resident would type.
DEMO_SPOTS = [
    (31.1836, 121.4336, "田林路 200 弄弄堂口"), (31.2063, 121.4386, "武康路 100 号附近"),
    (31.2355, 121.4806, "南京东路步行街东口"), (31.3003, 121.5145, "政通路 240 号"),
    (31.2397, 121.4998, "滨江大道 陆家嘴段"), (31.1110, 121.3850, "莘庄地铁站北广场"),
    (31.2487, 121.4002, "长寿路 800 号"), (31.2697, 121.4870, "四川北路 1800 号"),
    (31.1700, 121.4608, "龙腾大道滨江"), (31.0320, 121.2262, "松江新城 思贤路"),
]


def place_demo_entry(entry, n: int) -> None:
    """Put a demo idea at one of DEMO_SPOTS, its district read from the outlines as the form would."""
    from contest.geo import geohash
    from contest.services.departments import place_at

    lat, lng, address = DEMO_SPOTS[n % len(DEMO_SPOTS)]
    entry.lat, entry.lng, entry.cell, entry.address = lat, lng, geohash(lat, lng), address
    district = place_at(lat, lng)
    if district is not None:
        entry.place_id = district.id

DISTRICTS = [
    ("黄浦区", "Huangpu District"), ("徐汇区", "Xuhui District"), ("长宁区", "Changning District"),
    ("静安区", "Jing'an District"), ("普陀区", "Putuo District"), ("虹口区", "Hongkou District"),
    ("杨浦区", "Yangpu District"), ("闵行区", "Minhang District"), ("宝山区", "Baoshan District"),
    ("嘉定区", "Jiading District"), ("浦东新区", "Pudong New Area"), ("金山区", "Jinshan District"),
    ("松江区", "Songjiang District"), ("青浦区", "Qingpu District"), ("奉贤区", "Fengxian District"),
    ("崇明区", "Chongming District"),
]

CITY_AGENCIES = [
    ("上海市交通委员会", "Shanghai Municipal Transport Commission"),
    ("上海市道路运输管理局", "Shanghai Road Transport Administration"),
    ("上海市规划和自然资源局", "Shanghai Planning and Natural Resources Bureau"),
    ("上海市人民建议征集办公室", "Shanghai People's Suggestion Solicitation Office"),
]

# district -> streets (street -> communities)
STREETS = {
    "徐汇区": [("徐家汇街道", "Xujiahui Subdistrict", [("乐山居民区", "Leshan Community"),
                                                     ("汇站居民区", "Huizhan Community")]),
              ("天平路街道", "Tianping Road Subdistrict", [("武康居民区", "Wukang Community")]),
              ("湖南路街道", "Hunan Road Subdistrict", [])],
    "黄浦区": [("南京东路街道", "East Nanjing Road Subdistrict", [("贵州居民区", "Guizhou Community")]),
              ("外滩街道", "The Bund Subdistrict", [])],
    "杨浦区": [("五角场街道", "Wujiaochang Subdistrict", [("政通路居民区", "Zhengtong Road Community")])],
    "浦东新区": [("陆家嘴街道", "Lujiazui Subdistrict", []), ("川沙新镇", "Chuansha Town", [])],
}

DISTRICT_AGENCIES = {"徐汇区": [("徐汇区人民建议征集办公室", "Xuhui District People's Suggestion Office")]}

# (role label, e-mail, display name, group, admin?, department names)
ACCOUNTS = [
    ("administrator", "admin@example.org", "平台管理员", ParticipantGroup.CITIZEN, True, []),
    ("organiser (transport)", "transport@example.org", "交通委 王老师", ParticipantGroup.ORGANISATION, False,
     ["上海市交通委员会", "上海市道路运输管理局"]),
    ("organiser (planning)", "planning@example.org", "规划局 李工", ParticipantGroup.ORGANISATION, False,
     ["上海市规划和自然资源局"]),
    ("organiser (Xuhui district)", "xuhui@example.org", "徐汇区征集办 陈主任", ParticipantGroup.ORGANISATION, False,
     ["徐汇区人民建议征集办公室"]),
    ("citizen (professional)", "designer@example.org", "设计师 周一", ParticipantGroup.PROFESSIONAL, False, []),
    ("citizen (student)", "student@example.org", "同济学生 林小雨", ParticipantGroup.STUDENT, False, []),
    ("citizen (resident)", "resident@example.org", "徐家汇居民 张阿姨", ParticipantGroup.CITIZEN, False, []),
    ("citizen (organisation)", "ngo@example.org", "社区营造中心", ParticipantGroup.ORGANISATION, False, []),
]


def _department(name: str, name_en: str, kind: DepartmentKind, parent: Department | None) -> Department:
    existing = db.session.scalar(
        select(Department).where(Department.name == name,
                                 Department.parent_id == (parent.id if parent else None))
    )
    return existing or create_department(None, kind, name, name_en, parent)


def load_tree() -> dict[str, Department]:
    by_name: dict[str, Department] = {}
    city = _department("上海市", "Shanghai", DepartmentKind.CITY, None)
    by_name[city.name] = city
    for name, name_en in CITY_AGENCIES:
        by_name[name] = _department(name, name_en, DepartmentKind.AGENCY, city)
    for name, name_en in DISTRICTS:
        district = by_name[name] = _department(name, name_en, DepartmentKind.DISTRICT, city)
        for agency, agency_en in DISTRICT_AGENCIES.get(name, []):
            by_name[agency] = _department(agency, agency_en, DepartmentKind.AGENCY, district)
        for street_name, street_en, communities in STREETS.get(name, []):
            street = by_name[street_name] = _department(street_name, street_en, DepartmentKind.STREET, district)
            for community, community_en in communities:
                by_name[community] = _department(community, community_en, DepartmentKind.COMMUNITY, street)
    return by_name


# Every demo account was made this long ago: old enough for any public round's account-age rule (at most 60 days),
# so that a newcomer trying the demo can vote at once.
ACCOUNT_AGE = timedelta(days=61)


def load_demo() -> list[tuple[str, str, str]]:
    """Load everything; return (role, e-mail, password) of each demo account."""
    departments = load_tree()
    accounts = load_accounts(departments)
    load_calls(departments)
    load_pairwise_call(departments)
    return accounts


def load_accounts(departments: dict[str, Department]) -> list[tuple[str, str, str]]:
    """The demo's named accounts (administrator, organisers, one citizen of each group)."""
    password_hash = hash_password(DEMO_PASSWORD)
    listed = []
    for role, email, name, group, admin, department_names in ACCOUNTS:
        user = find_user_by_email(email)
        if user is None:
            user = User(email=email, password_hash=password_hash, display_name=name, group=group,
                        is_admin=admin, email_confirmed_at=utcnow(), created_at=utcnow() - ACCOUNT_AGE)
            db.session.add(user)
            db.session.flush()
        for department_name in department_names:
            department = departments[department_name]
            if db.session.get(DepartmentMember, (department.id, user.id)) is None:
                db.session.add(DepartmentMember(department=department, user=user))
        listed.append((role, email, DEMO_PASSWORD))
    db.session.flush()
    return listed


DEMO_CITIZENS = 24  # more entrants, so the gallery is full


def _demo_citizens(password_hash: str) -> list[User]:
    groups = list(ParticipantGroup)
    citizens = []
    for n in range(1, DEMO_CITIZENS + 1):
        email = f"citizen{n:02d}@example.org"
        user = find_user_by_email(email)
        if user is None:
            user = User(email=email, password_hash=password_hash, display_name=f"市民{n:02d}",
                        group=groups[n % len(groups)], email_confirmed_at=utcnow(),
                        created_at=utcnow() - ACCOUNT_AGE - timedelta(days=n))
            db.session.add(user)
        citizens.append(user)
    db.session.flush()
    return citizens


RAILING_BRIEF = """## 为什么征集

上海有七百多公里道路隔离栏杆。我们想请市民一起画出它们的新样子：既安全耐用，又能讲出这座城市的故事。

## 我们希望看到

- 以**红色文化**、**海派文化**或**江南文化**为主题的栏杆图案；
- 适合在道路上大规模生产、安装和维护；
- 每份作品 1 至 3 张图，附一段设计说明。

优秀作品将由专业团队深化设计后在道路上实施。
"""

LICENCE_EN = ("The entrant keeps the copyright and lets the organisers use the entry free of charge to show it, "
              "refine its design and build it.")
ORIGINALITY_EN = "I declare that the entry is my own original work and infringes no one's rights."
IDEAS_PUBLIC_EN = "Your suggestion will be shown in public and may be taken up by the departments concerned."

RAILING_BRIEF_EN = """## Why we ask

Shanghai has more than seven hundred kilometres of road railings. We invite residents to draw their new look
together with us: safe and durable, and telling the story of this city.

## What we hope to see

- Railing patterns on the themes of **red culture**, **Haipai culture** or **Jiangnan culture**;
- designs that can be made, installed and maintained on the roads at scale;
- one to three images per entry, with a short description of the design.

The best entries will be refined by a professional team and built on the roads.
"""

IDEA_BRIEF_EN = """## The 15-minute community life circle

What would you like to find within a 15-minute walk of home? Share your ideas on the three topics below; you may
add photos, and say where.

Besides sending ideas online, we hold "offline talks" with residents in each subdistrict.
"""

IDEA_BRIEF = """## 15分钟社区生活圈

在步行 15 分钟的范围内，您希望身边有什么？请就下面三个议题提出您的想法，可以附上照片，并说明地点。

线上提交之外，我们也会在各街道举办“线下谈”座谈会。
"""


def load_calls(departments: dict[str, Department]) -> None:
    """The road-railing design call and the 15-minute-community idea call, with entries in every state."""
    from contest.demo_images import railing, street_photo
    from contest.images import process_image
    from contest.models import Call, CallEvent, CallKind, Channel, CombineOn, Entry, EntryImage, EntryStatus
    from contest.services.calls import CallData, create_call
    from contest.services.entries import flag_near_duplicates
    from contest.services.media import store_image

    if db.session.scalar(select(Call).where(Call.title == "道路栏杆请您绘")) is not None:
        return
    organiser = find_user_by_email("transport@example.org")
    planner = find_user_by_email("planning@example.org")
    citizens = _demo_citizens(hash_password(DEMO_PASSWORD))
    now = utcnow()

    railing_call = create_call(organiser, departments["上海市交通委员会"], CallData(
        title="道路栏杆请您绘", kind=CallKind.DESIGN, title_en="Draw our road railings",
        summary="邀请市民为上海道路隔离栏杆设计新图案：红色文化、海派文化、江南文化。",
        summary_en="Design new patterns for Shanghai's road railings: red culture, Haipai culture, Jiangnan culture.",
        brief=RAILING_BRIEF, brief_en=RAILING_BRIEF_EN, themes=["红色文化", "海派文化", "江南文化"],
        themes_en=["Red culture", "Haipai culture", "Jiangnan culture"],
        prizes=[("一等奖", 1, "奖金 20,000 元"), ("二等奖", 2, "奖金 10,000 元"), ("三等奖", 3, "奖金 5,000 元"),
                ("优秀奖", 10, "证书")],
        prizes_en=[("First prize", "20,000 yuan"), ("Second prize", "10,000 yuan"), ("Third prize", "5,000 yuan"),
                   ("Merit award", "A certificate")],
        co_department_ids=[departments["上海市道路运输管理局"].id], image_formats=["JPEG", "PNG"],
        images_min=1, images_max=3, image_max_mb=10, entries_per_person=3,
        licence_text="投稿人保留著作权，并授权主办单位以展示、深化设计和实施为目的免费使用作品。",
        licence_text_en=LICENCE_EN, originality_text="本人声明作品为本人原创，未侵犯他人权利。",
        originality_text_en=ORIGINALITY_EN,
        opens_at=now - timedelta(days=40), closes_at=now - timedelta(days=5),
        expert_weight=70, public_weight=30, combine_on=CombineOn.PERCENTILES))
    railing_call.cover_image = store_image(process_image(railing(999)), organiser)
    railing_call.cover_alt = "红色栏杆上排列着金色五角星图案"
    railing_call.published_at = now - timedelta(days=41)
    db.session.add(CallEvent(call_id=railing_call.id, kind="published", actor_id=organiser.id,
                             at=railing_call.published_at))

    idea_call = create_call(planner, departments["上海市规划和自然资源局"], CallData(
        title="15分钟社区生活圈：您身边还缺什么？", kind=CallKind.IDEA,
        title_en="The 15-minute community: what is missing near you?",
        summary="线上征+线下谈：社区空间品质、便民共享设施、社区文化特色，说说您的想法。",
        summary_en="Online ideas and offline talks: the quality of community space, shared everyday services and "
                   "the community's own culture. Tell us what you think.",
        brief=IDEA_BRIEF, brief_en=IDEA_BRIEF_EN, themes=["社区更新"], themes_en=["Community renewal"],
        topics=["社区空间品质", "便民共享设施", "社区文化特色"],
        topics_en=["Quality of community space", "Shared everyday services", "The community's own culture"],
        images_min=0, images_max=3, image_formats=["JPEG", "PNG", "WEBP"], entries_per_person=5,
        licence_text="您的建议将公开展示，并可能被相关部门采纳实施。", licence_text_en=IDEAS_PUBLIC_EN,
        originality_text="",
        opens_at=now - timedelta(days=40), closes_at=now - timedelta(days=9),
        expert_weight=0, public_weight=100))
    idea_call.published_at = now - timedelta(days=41)
    db.session.add(CallEvent(call_id=idea_call.id, kind="published", actor_id=planner.id,
                             at=idea_call.published_at))
    db.session.flush()

    statuses = [EntryStatus.APPROVED] * 6 + [EntryStatus.SUBMITTED, EntryStatus.REJECTED, EntryStatus.WITHDRAWN]
    titles = ["海派", "石库门", "玉兰", "江南窗格", "红星", "浪花", "外滩", "弄堂", "水乡"]
    images = []
    for n in range(36):
        author = citizens[n % len(citizens)]
        status = statuses[n % len(statuses)]
        entry = Entry(call=railing_call, author=author, slot=(n // len(citizens)) + 1,
                      channel=Channel.MOBILE if n % 3 else Channel.WEB, status=status,
                      title=f"{titles[n % len(titles)]}栏杆 {n + 1}号", licence_accepted_at=now,
                      description="以城市记忆为灵感的栏杆图案，方便工厂化生产。",
                      created_at=now - timedelta(days=39, hours=-n * 20))
        if status in (EntryStatus.APPROVED, EntryStatus.REJECTED):
            entry.moderated_at, entry.moderated_by_id = now - timedelta(days=1), organiser.id
        if status is EntryStatus.REJECTED:
            entry.rejection_reason = "作品与道路栏杆主题无关，欢迎修改后再次提交。"
        if status is EntryStatus.WITHDRAWN:
            entry.slot, entry.withdrawn_at = None, now - timedelta(days=2)
        for k in range(1 + n % 2):
            image = store_image(process_image(railing(n * 3 + k)), author)
            entry.pictures.append(EntryImage(image=image, position=k, alt_text=f"栏杆设计图{k + 1}：重复的装饰图案"))
            images.append(image)
        db.session.add(entry)
    # A design sent twice, for the duplicate check to find.
    copy = Entry(call=railing_call, author=citizens[5], slot=3, channel=Channel.WEB, status=EntryStatus.SUBMITTED,
                 title="海派栏杆（重复投稿）", licence_accepted_at=now, description="与 1 号作品相同。")
    image = store_image(process_image(railing(0)), citizens[5])
    copy.pictures.append(EntryImage(image=image, position=0, alt_text="栏杆设计图：重复的装饰图案"))
    db.session.add(copy)
    db.session.flush()
    flag_near_duplicates([image])

    topics = idea_call.topics
    districts = [d for d in departments.values() if d.kind is DepartmentKind.DISTRICT]
    ideas = [("弄堂口加几张长椅", "老人买菜回来没地方歇脚，希望在弄堂口放几张有靠背的长椅。"),
             ("把闲置的自行车棚改成共享书屋", "小区里的自行车棚常年空着，可以改成邻里书屋。"),
             ("社区食堂延长营业时间", "上班族晚上七点后回家，食堂已经关门。"),
             ("在口袋公园加一个儿童滑梯", "孩子们没有地方玩，可以做一个青蛙造型的滑梯。"),
             ("修缮老街的石库门门头", "老门头是社区的记忆，希望请专业团队修缮。"),
             ("菜场旁增设快递柜", "快递放在门口容易丢失。")]
    for n, (title, text) in enumerate(ideas * 2):
        status = [EntryStatus.APPROVED, EntryStatus.APPROVED, EntryStatus.SUBMITTED][n % 3]
        entry = Entry(call=idea_call, author=citizens[(n + 3) % len(citizens)], slot=1 + n // len(citizens),
                      channel=Channel.WEB, status=status, title=title, description=text,
                      topic_id=topics[n % len(topics)].id, place_id=districts[n % len(districts)].id,
                      licence_accepted_at=now)
        place_demo_entry(entry, n)
        if n % 4 == 0:
            photo = store_image(process_image(street_photo(n)), entry.author)
            entry.pictures.append(EntryImage(image=photo, position=0, alt_text="弄堂口的现状照片"))
        db.session.add(entry)
    db.session.flush()
    expert_round = load_expert_round(railing_call, organiser)
    load_meeting_and_issues(idea_call, planner, topics, districts)
    load_public_rounds(railing_call, idea_call, organiser, planner, expert_round, citizens)
    load_results(railing_call, idea_call, organiser, planner, citizens)
    load_open_call(departments, citizens)


def load_meeting_and_issues(idea_call, planner: User, topics, districts) -> None:
    """A long-table meeting with the suggestions raised at it, and the organisers' tags for common issues."""
    from contest.models import Channel, Entry, EntryStatus, MeetingKind
    from contest.services.issues import tag_entries
    from contest.services.meetings import MeetingData, create_meeting

    now = utcnow()
    meeting = create_meeting(planner, idea_call, MeetingData(
        title="田林街道“15分钟生活圈”长桌会", kind=MeetingKind.LONG_TABLE, held_at=now - timedelta(days=40),
        title_en="Tianlin Subdistrict long-table talk on the 15-minute life circle",
        minutes_en="## Topics\n\n- Lifts added to old residential buildings\n- Parking around the wet market\n"
                   "- A community canteen\n\nResidents' representatives spoke in turn; the community planner "
                   "recorded three suggestions and passed them to the call.",
        place_id=districts[1].id, venue="田林街道社区党群服务中心 二楼", lat=31.1705, lng=121.4310,
        attendees=28,
        organisations="田林街道办事处\n田林十二村居委会\n区规划资源局\n社区规划师团队",
        minutes="## 议题\n\n- 老旧小区加装电梯\n- 菜场周边停车\n- 社区食堂\n\n居民代表逐一发言，"
                "规划师记录了三条建议，交征集统一处理。"))
    suggestions = [("居民代表 王先生", "老旧小区加装电梯", "长桌会上多位居民提出：希望加快老旧小区加装电梯。", 1),
                   ("居民代表 李阿姨", "菜场周边划出临时停车位", "早上买菜高峰车辆乱停，希望划出限时停车位。", 0),
                   ("社区规划师 陈女士", "社区食堂增加老年助餐窗口", "为行动不便的老人提供送餐和助餐服务。", 2)]
    for name, title, text, topic in suggestions:
        db.session.add(Entry(call=idea_call, author_name=name, entered_by_id=planner.id, meeting_id=meeting.id,
                             channel=Channel.MEETING, status=EntryStatus.APPROVED, title=title, description=text,
                             topic_id=topics[topic % len(topics)].id, place_id=districts[1].id, moderated_at=now,
                             moderated_by_id=planner.id))
    db.session.flush()
    approved = db.session.scalars(select(Entry).where(Entry.call_id == idea_call.id,
                                                      Entry.status == EntryStatus.APPROVED)).all()
    for name, words in (("适老化", ("长椅", "电梯", "老年")), ("社区食堂", ("食堂",)),
                        ("停车与快递", ("停车", "快递"))):
        tagged = [e for e in approved if any(word in e.title for word in words)]
        if tagged:
            tag_entries(planner, idea_call, tagged, name)


def load_posters(call, planner: User, departments: dict[str, Department], citizens: list[User]) -> None:
    """Posters of the open call in a red mailbox and a community centre; two ideas came through them."""
    from contest.models import Channel, Entry, EntryStatus
    from contest.services.posters import create_poster

    now = utcnow()
    place = departments.get("徐汇区")
    mailbox = create_poster(planner, call, label="徐汇区田林街道 红色信箱 3号",
                            place_id=place.id if place else None)
    create_poster(planner, call, label="徐汇区田林街道社区文化活动中心 一楼大厅",
                  place_id=place.id if place else None)
    for n, (title, text) in enumerate([("在公园入口放一个爱心雨伞架", "突然下雨时可以借一把伞。"),
                                       ("设一块社区公告栏", "公园里的活动和养护信息贴在这里。")]):
        db.session.add(Entry(call=call, author=citizens[16 + n], slot=1, channel=Channel.POSTER,
                             poster_id=mailbox.id, status=EntryStatus.APPROVED, title=title, description=text,
                             topic_id=call.topics[n % 2].id, licence_accepted_at=now, moderated_at=now,
                             moderated_by_id=planner.id))
    db.session.flush()


JURORS = [("juror1@example.org", "评委 周教授"), ("juror2@example.org", "评委 吴设计师"),
          ("juror3@example.org", "评委 郑工程师"), ("juror4@example.org", "评委 孙馆长"),
          ("juror5@example.org", "评委 钱规划师")]


def load_expert_round(call, organiser: User) -> None:
    """The railing call's expert round: three criteria, five jurors, scores submitted, drafted and missing."""
    from contest.models import RoundMember
    from contest.services.rounds import RoundData, assign, create_round, juror_list, recuse, save_score

    now = utcnow()
    round_ = create_round(organiser, call, RoundData(
        title="专家评审", opens_at=now - timedelta(days=5) + timedelta(hours=1), closes_at=now + timedelta(days=1),
        title_en="Expert jury",
        criteria=[("文化表达", 30, "是否讲出红色、海派或江南文化的故事"),
                  ("可行性与安全", 30, "能否工厂化生产、安装和维护，是否安全"),
                  ("美观", 40, "在街道上是否好看、耐看")],
        criteria_en=[("Cultural expression", "Does it tell a story of red, Haipai or Jiangnan culture?"),
                     ("Feasibility and safety", "Can it be made, installed and maintained in a factory's way, "
                                                "and is it safe?"),
                     ("Aesthetics", "Does it look good on the street, and keep looking good?")],
        jurors_per_entry=3, blind=True, normalise=True))
    password_hash = hash_password(DEMO_PASSWORD)
    members = []
    for email, name in JURORS:
        user = find_user_by_email(email)
        if user is None:
            user = User(email=email, password_hash=password_hash, display_name=name,
                        group=ParticipantGroup.PROFESSIONAL, email_confirmed_at=now, created_at=now - ACCOUNT_AGE)
            db.session.add(user)
            db.session.flush()
        member = RoundMember(round=round_, email=email, name=name, user=user, accepted_at=now,
                             invited_by_id=organiser.id)
        db.session.add(member)
        members.append(member)
    db.session.flush()
    assign(organiser, round_)
    for n, member in enumerate(members):
        work = juror_list(member)
        # Jurors at different points: all done, most done, a few drafts, one who stepped back, one not started.
        share = [1.0, 0.8, 0.5, 0.3, 0.0][n]
        for i, assignment in enumerate(work):
            if n == 3 and i == 0:
                recuse(member, assignment, "作者是我以前的同事", conflict=True)
                continue
            if i >= int(len(work) * share):
                break
            base = 4 + (assignment.entry_id * 3 + n) % 6
            marks = {c.id: str(min(10, base + (j % 2) * 0.5 + (1 if n == 1 else 0)))
                     for j, c in enumerate(round_.criteria)}
            save_score(member, assignment, marks, "", "图案很有特色，配色可以更克制。", submit=(i % 4 != 3),
                       version=None)
    return round_


def load_public_rounds(railing_call, idea_call, railing_organiser: User, idea_organiser: User, expert_round,
                       citizens: list[User]) -> None:
    """After the expert round (closed, the top 15 advance): a pairwise round on the railings with a few hundred
    comparisons; and a votes round on the ideas."""
    import random

    from contest.models import AdvanceMode, PublicMode
    from contest.services.public import PublicRoundData, answer_pair, cast_vote, create_public_round, next_pair
    from contest.services.rounds import decide

    now = utcnow()
    expert_round.closes_at = now - timedelta(days=3)
    decide(railing_organiser, expert_round, AdvanceMode.TOP_N, 15, set())
    expert_round.decided_at = now - timedelta(days=3) + timedelta(hours=2)
    db.session.flush()
    for event in railing_call.events:
        if event.kind == "round_decided":
            event.at = expert_round.decided_at
    pairs = create_public_round(railing_organiser, railing_call, PublicRoundData(
        title="公众评选：您更喜欢哪一种栏杆？", title_en="Public choice: which railing would you rather see?",
        opens_at=now - timedelta(days=3) + timedelta(hours=3),
        closes_at=now + timedelta(days=10),
        mode=PublicMode.PAIRWISE, min_account_age_hours=24, hide_counts=False))
    rng = random.Random(2026)
    appeal = {}
    for n in range(300):
        citizen = citizens[n % len(citizens)]
        pair = next_pair(citizen, pairs)
        if pair is None:
            continue
        left, right, token = pair
        a = appeal.setdefault(left.id, rng.uniform(0.5, 3))
        b = appeal.setdefault(right.id, rng.uniform(0.5, 3))
        choice = "none" if rng.random() < 0.08 else ("left" if rng.random() < a / (a + b) else "right")
        answer_pair(citizen, pairs, token, choice, address=f"192.0.2.{n % 40}")
    votes = create_public_round(idea_organiser, idea_call, PublicRoundData(
        title="为您支持的想法投票", title_en="Vote for the ideas you support", opens_at=now - timedelta(days=8),
        closes_at=now + timedelta(days=20),
        mode=PublicMode.VOTES, votes_per_citizen=3, hide_counts=True))
    from contest.services.public import entries_of

    ideas = entries_of(votes)
    for n, citizen in enumerate(citizens):
        for idea in rng.sample(ideas, k=min(2 + n % 2, len(ideas))):
            if idea.author_id != citizen.id:
                cast_vote(citizen, votes, idea, address=f"198.51.100.{n}")


RAILING_SHIFT_DAYS = 20  # the railing call's story ran this much earlier: its results are final, its winners built


def load_results(railing_call, idea_call, railing_organiser: User, idea_organiser: User,
                 citizens: list[User]) -> None:
    """The railing call: results published, final, two winners followed (one implemented, with a photo).
    The idea call: results in their notice period, with an objection the organisers answered."""
    from sqlalchemy import update

    from contest.demo_images import street_photo
    from contest.models import CallEvent, Comparison, FollowUpStage, Vote
    from contest.services import followup, results

    now = utcnow()
    for call in (railing_call, idea_call):
        for round_ in call.rounds:
            round_.closes_at = min(round_.closes_at, now - timedelta(minutes=5))
    db.session.flush()
    results.current(railing_call)  # the organisers' preview, stored
    results.set_awards(railing_organiser, railing_call, results.default_awards(railing_call), "")
    results.publish(railing_organiser, railing_call, 7, None)
    db.session.flush()
    # Days pass: move the railing call's story back, then it is final and its winners are built.
    shift = timedelta(days=RAILING_SHIFT_DAYS)
    for name in ("opens_at", "closes_at", "published_at", "results_published_at", "notice_ends_at"):
        setattr(railing_call, name, getattr(railing_call, name) - shift)
    for round_ in railing_call.rounds:
        round_.opens_at, round_.closes_at = round_.opens_at - shift, round_.closes_at - shift
        if round_.decided_at is not None:
            round_.decided_at -= shift
    for event in db.session.scalars(select(CallEvent).where(CallEvent.call_id == railing_call.id)):
        event.at -= shift
        if event.kind == "results_published":
            event.detail = {**event.detail, "notice_ends": railing_call.notice_ends_at.isoformat()}
    for comparison in db.session.scalars(select(Comparison).where(
            Comparison.round_id.in_([r.id for r in railing_call.rounds]))):
        comparison.created_at -= shift + timedelta(days=1)  # during the round
    db.session.flush()
    results.finalise(railing_organiser, railing_call)
    final_at = now - timedelta(days=12)
    railing_call.results_final_at = final_at
    db.session.execute(update(CallEvent).where(CallEvent.call_id == railing_call.id, CallEvent.kind == "results_final")
                       .values(at=final_at))
    winners = results.stored.finalist_ids(railing_call, 2)
    from contest.models import Entry

    stories = [
        [(FollowUpStage.REFINING, 30, "设计团队与作者一起深化图案，确定钢材和涂装工艺。", 9,
          "The design team and the author refine the pattern together and settle the steel and the coating."),
         (FollowUpStage.BUILDING, 60, "首批栏杆在工厂试制，中山北路段开始安装。", 5,
          "The first railings are trial-made in the factory; installation begins on North Zhongshan Road."),
         (FollowUpStage.IMPLEMENTED, 100, "中山北路 1.2 公里栏杆全部换装完成。", 1,
          "All 1.2 kilometres of railings on North Zhongshan Road have been replaced.")],
        [(FollowUpStage.REFINING, 20, "根据评委意见调整配色，准备在试点路段比选。", 4,
          "The colours are adjusted after the jury's comments, for a comparison on a pilot stretch of road.")],
    ]
    for entry_id, steps in zip(winners, stories, strict=True):
        follow_up = followup.adopt(railing_organiser, db.session.get(Entry, entry_id))
        adopted_at = now - timedelta(days=11)
        follow_up.updates[0].happened_on = follow_up.created_at = adopted_at
        just_now = now - timedelta(minutes=1)  # this adoption's event, not the other winner's
        db.session.execute(update(CallEvent).where(CallEvent.call_id == railing_call.id, CallEvent.kind == "follow_up",
                                                   CallEvent.at > just_now).values(at=adopted_at))
        for stage, progress, text, days_ago, text_en in steps:
            photo = street_photo(90 + days_ago) if stage is FollowUpStage.IMPLEMENTED else None
            followup.add_update(railing_organiser, follow_up, stage=stage, progress=progress, text=text,
                                text_en=text_en,
                                happened_on=now - timedelta(days=days_ago), upload=photo,
                                image_alt="换装新栏杆后的中山北路街景" if photo else "")

    # The idea call: the votes round ended two days ago; the results are in their notice period.
    votes_round = idea_call.rounds[-1]
    votes_round.closes_at = now - timedelta(days=2)
    db.session.execute(update(Vote).where(Vote.round_id == votes_round.id)
                       .values(created_at=now - timedelta(days=5)))
    results.publish(idea_organiser, idea_call, 7, None)
    idea_call.results_published_at = now - timedelta(days=1)
    idea_call.notice_ends_at = idea_call.results_published_at + timedelta(days=7)
    db.session.execute(update(CallEvent).where(CallEvent.call_id == idea_call.id,
                                               CallEvent.kind == "results_published").values(
        at=idea_call.results_published_at, detail={"notice_ends": idea_call.notice_ends_at.isoformat(), "days": 7}))
    top = results.stored.finalist_ids(idea_call, 1)[0]
    objection = results.file_objection(citizens[7], idea_call, top,
                                       "这个想法在我们小区去年已经做过了，为什么还排第一？")
    results.answer_objection(idea_organiser, objection,
                             "感谢关注。去年的试点只在一个小区，本次排名反映的是全市居民的投票；"
                             "我们会把试点经验一并交给实施部门。",
                             "Thank you for your interest. Last year's pilot was in one residential compound only; "
                             "this ranking reflects the votes of residents across the city. We will pass the "
                             "pilot's lessons on to the department that carries it out.")
    db.session.flush()


def load_open_call(departments: dict[str, Department], citizens: list[User]) -> None:
    """A call open now, with a votes round open beside it, so that a newcomer can send an idea and vote."""
    import random

    from contest.models import CallEvent, CallKind, Channel, Entry, EntryStatus, PublicMode
    from contest.services.calls import CallData, create_call
    from contest.services.public import PublicRoundData, cast_vote, create_public_round

    planner = find_user_by_email("planning@example.org")
    now = utcnow()
    call = create_call(planner, departments["上海市规划和自然资源局"], CallData(
        title="口袋公园：家门口的小公园还缺什么？", kind=CallKind.IDEA,
        title_en="Pocket parks: what should the little park by your door have?",
        summary="全市将新建和改造一批口袋公园。说说您希望家门口的小公园有什么，并为喜欢的想法投票。",
        summary_en="The city will build and renew a number of pocket parks. Tell us what you would like in the "
                   "little park by your door, and vote for the ideas you like.",
        brief_en="## What we would like to hear\n\n- What would you and your family do in a pocket park?\n"
                 "- What do today's little parks lack?\n\nIdeas are collected and voted on at the same time; the "
                 "ideas with the most votes go to the districts for their designs.",
        themes_en=["Community renewal"], topics_en=["Activities and facilities", "Greenery and rest"],
        licence_text_en=IDEAS_PUBLIC_EN,
        brief="## 我们想听什么\n\n- 您和家人会在口袋公园做什么？\n- 现在的小公园缺什么？\n\n想法边征集边投票，"
              "得票多的想法将交给各区设计时参考。", themes=["社区更新"], topics=["活动与设施", "绿化与休憩"],
        images_min=0, images_max=3, image_formats=["JPEG", "PNG", "WEBP"], entries_per_person=3,
        licence_text="您的建议将公开展示，并可能被相关部门采纳实施。", opens_at=now - timedelta(days=5),
        closes_at=now + timedelta(days=30), expert_weight=0, public_weight=100))
    call.published_at = now - timedelta(days=6)
    db.session.add(CallEvent(call_id=call.id, kind="published", actor_id=planner.id, at=call.published_at))
    db.session.flush()
    ideas = [("加一块小小的沙坑", "孩子们喜欢玩沙，可以做一个有遮阳的小沙坑。"),
             ("夜里也能亮着的步道灯", "下班后散步，希望步道有柔和的照明。"),
             ("给老人留几张有扶手的长椅", "起身方便，也能多坐一会儿。"),
             ("一面可以涂鸦的墙", "让社区的孩子们画出自己的公园。"),
             ("宠物便袋箱和饮水点", "遛狗的居民很多，需要便袋和饮水点。")]
    for n, (title, text) in enumerate(ideas):
        entry = Entry(call=call, author=citizens[n + 10], slot=1, channel=Channel.MOBILE,
                      status=EntryStatus.APPROVED, title=title, description=text,
                      topic_id=call.topics[n % 2].id, licence_accepted_at=now, moderated_at=now,
                      moderated_by_id=planner.id)
        place_demo_entry(entry, 2 * n + 1)
        db.session.add(entry)
    db.session.flush()
    load_posters(call, planner, departments, citizens)
    round_ = create_public_round(planner, call, PublicRoundData(
        title="为喜欢的想法投票", title_en="Vote for the ideas you like", opens_at=now - timedelta(days=4),
        closes_at=now + timedelta(days=30),
        mode=PublicMode.VOTES, votes_per_citizen=2, hide_counts=False))
    rng = random.Random(7)
    from contest.services.public import entries_of

    for n, citizen in enumerate(citizens[:8]):
        for idea in rng.sample(entries_of(round_), k=2):
            if idea.author_id != citizen.id:
                cast_vote(citizen, round_, idea, address=f"203.0.113.{n}")
    load_comments(call, planner, citizens)


def load_comments(call, planner: User, citizens: list[User]) -> None:
    """A conversation under the first idea: a resident's remark, the bureau's official answer to it, a question,
    and a comment one reader reported (so that the organisers' queue has something in it)."""
    from contest.models import Comment, Entry
    from contest.services.comments import report

    idea = db.session.scalar(select(Entry).where(Entry.call_id == call.id).order_by(Entry.id))
    resident = find_user_by_email("resident@example.org")
    now = utcnow()
    remark = Comment(call_id=call.id, entry_id=idea.id, author_id=resident.id, created_at=now - timedelta(days=2),
                     body="沙坑旁边最好有洗手的地方，孩子玩完可以**马上洗手**。")
    db.session.add(remark)
    db.session.flush()
    db.session.add(Comment(call_id=call.id, entry_id=idea.id, parent_id=remark.id, author_id=planner.id,
                           department_id=call.department_id, created_at=now - timedelta(days=1),
                           body="谢谢建议。设计导则将把洗手点列为有沙坑的口袋公园的必备设施。"))
    question = Comment(call_id=call.id, entry_id=idea.id, author_id=citizens[3].id, created_at=now - timedelta(hours=5),
                       body="沙坑的沙子多久换一次？有没有人管理？")
    off_topic = Comment(call_id=call.id, author_id=citizens[4].id, created_at=now - timedelta(hours=3),
                        body="我家楼下的路灯坏了好几天了，谁来修一下？")
    db.session.add_all([question, off_topic])
    db.session.flush()
    report(citizens[5], off_topic, "off_topic", "路灯报修应该打12345热线，不是这次征集的内容。")


MANHOLE_TITLE = "井盖也能成风景：徐汇区井盖彩绘设计"
# (title, description, the seed of its picture: its palette and motif, see demo_images.manhole_cover)
MANHOLE_DESIGNS = [("玉兰花开", "以市花白玉兰为中心，花瓣向外舒展。", 18),
                   ("石库门窗格", "取石库门的窗格纹样，围成一圈。", 1),
                   ("梧桐光影", "衡复风貌区的梧桐树影落在井盖上。", 5),
                   ("海派星光", "金色星纹环绕，夜里也醒目。", 16),
                   ("江南水波", "一圈一圈的水波纹，呼应徐汇滨江。", 8),
                   ("红色印记", "红底金星，纪念城市的红色记忆。", 15),
                   ("武康路的窗", "把老洋房的窗框画进井盖。", 10),
                   ("滨江跑道", "跑道线与浪花，给跑步的人加油。", 3)]


def load_pairwise_call(departments: dict[str, Department]) -> None:
    """A fourth call, of the Xuhui district's suggestion office: painted manhole covers, closed for entries, with
    a pairwise public round open now on its approved designs, so that a newcomer can compare pairs at once."""
    import random

    from contest.demo_images import manhole_cover
    from contest.images import process_image
    from contest.models import Call, CallEvent, CallKind, Channel, Entry, EntryImage, EntryStatus, PublicMode
    from contest.services.calls import CallData, create_call
    from contest.services.media import store_image
    from contest.services.public import PublicRoundData, answer_pair, create_public_round, next_pair

    if db.session.scalar(select(Call.id).where(Call.title == MANHOLE_TITLE)) is not None:
        return
    organiser = find_user_by_email("xuhui@example.org")
    citizens = _demo_citizens(hash_password(DEMO_PASSWORD))
    now = utcnow()
    call = create_call(organiser, departments["徐汇区人民建议征集办公室"], CallData(
        title=MANHOLE_TITLE, kind=CallKind.DESIGN,
        title_en="Manhole covers can be scenery too: painted covers for Xuhui",
        summary="徐汇区将为衡复风貌区和滨江的井盖彩绘。设计征集已截止，请比一比您更喜欢哪一款。",
        summary_en="Xuhui District will paint the manhole covers of the Hengfu historic area and the riverside. "
                   "Entries have closed: compare the designs and say which you prefer.",
        brief_en="## What we asked for\n\nA painted pattern for a round manhole cover 70 centimetres across: "
                 "telling a story of Xuhui, hard-wearing, non-slip and easy to maintain.\n\n## What comes next\n\n"
                 "Entries have closed. Compare the shortlisted designs two at a time and choose the one you would "
                 "rather see on the street; the design with the highest score will be painted first in the Hengfu "
                 "historic area.",
        themes_en=["Haipai culture", "Jiangnan culture"], licence_text_en=LICENCE_EN,
        originality_text_en=ORIGINALITY_EN,
        brief="## 征集什么\n\n为直径 70 厘米的圆形井盖设计彩绘图案：讲出徐汇的故事，耐磨、防滑、好维护。\n\n"
              "## 接下来\n\n征集已截止。请两两比较入围设计，选出您更希望在街上看到的那一款；"
              "得分最高的设计将在衡复风貌区试点彩绘。",
        themes=["海派文化", "江南文化"], image_formats=["JPEG", "PNG"], images_min=1, images_max=2, image_max_mb=10,
        entries_per_person=2, licence_text="投稿人保留著作权，并授权主办单位以展示和实施为目的免费使用作品。",
        originality_text="本人声明作品为本人原创，未侵犯他人权利。",
        opens_at=now - timedelta(days=30), closes_at=now - timedelta(days=4), expert_weight=0, public_weight=100))
    call.published_at = now - timedelta(days=31)
    db.session.add(CallEvent(call_id=call.id, kind="published", actor_id=organiser.id, at=call.published_at))
    db.session.flush()
    for n, (title, text, seed) in enumerate(MANHOLE_DESIGNS):
        author = citizens[n]
        entry = Entry(call=call, author=author, slot=1, channel=Channel.MOBILE if n % 2 else Channel.WEB,
                      status=EntryStatus.APPROVED, title=title, description=text, licence_accepted_at=now,
                      created_at=now - timedelta(days=28 - n * 3), moderated_at=now - timedelta(days=3),
                      moderated_by_id=organiser.id)
        image = store_image(process_image(manhole_cover(seed)), author)
        entry.pictures.append(EntryImage(image=image, position=0, alt_text=f"圆形井盖彩绘设计：{title}"))
        db.session.add(entry)
    db.session.flush()
    round_ = create_public_round(organiser, call, PublicRoundData(
        title="您更喜欢哪一款井盖？", title_en="Which manhole cover do you prefer?", opens_at=now - timedelta(days=2),
        closes_at=now + timedelta(days=14),
        mode=PublicMode.PAIRWISE, min_account_age_hours=24, hide_counts=False))
    rng = random.Random(70)
    for n in range(60):  # the first citizens' comparisons; most pairs are still new to anyone else
        citizen = citizens[8 + n % 16]
        pair = next_pair(citizen, round_)
        if pair is None:
            continue
        choice = rng.choice(["left", "left", "right", "none"])
        answer_pair(citizen, round_, pair[2], choice, address=f"192.0.2.{100 + n % 20}")
