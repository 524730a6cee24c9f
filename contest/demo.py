"""Demo data a newcomer can click through: the Shanghai department tree, organisers and citizens.

Loading twice changes nothing: every piece is looked up before it is made. Later issues add calls,
entries and rounds here.
"""
from __future__ import annotations

from sqlalchemy import select

from contest.extensions import db
from contest.models import Department, DepartmentKind, DepartmentMember, ParticipantGroup, User
from contest.models.types import utcnow
from contest.services.accounts import find_user_by_email, hash_password
from contest.services.departments import create_department

DEMO_PASSWORD = "shanghai-demo"

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


def load_demo() -> list[tuple[str, str, str]]:
    """Load everything; return (role, e-mail, password) of each demo account."""
    departments = load_tree()
    password_hash = hash_password(DEMO_PASSWORD)
    listed = []
    for role, email, name, group, admin, department_names in ACCOUNTS:
        user = find_user_by_email(email)
        if user is None:
            user = User(email=email, password_hash=password_hash, display_name=name, group=group,
                        is_admin=admin, email_confirmed_at=utcnow())
            db.session.add(user)
            db.session.flush()
        for department_name in department_names:
            department = departments[department_name]
            if db.session.get(DepartmentMember, (department.id, user.id)) is None:
                db.session.add(DepartmentMember(department=department, user=user))
        listed.append((role, email, DEMO_PASSWORD))
    db.session.flush()
    return listed
