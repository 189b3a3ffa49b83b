"""A person's own profile: display name, real name (姓名), volunteer profile and ID number (居民身份证号)."""
from __future__ import annotations

import re

from sqlalchemy import select

from app.accounts.models import User, VolunteerProfile
from app.areas.models import COMMUNITY, Area
from app.content_safety import policy
from app.core import crypto
from app.core.errors import Invalid
from app.extensions import db

# Chinese characters (the basic block and extension A, plus 〇) and the middle dot of minority names.
REAL_NAME = re.compile(r"^[\u3007\u3400-\u4dbf\u4e00-\u9fff·]{2,20}$")
NAME_ERROR = "姓名应为 2–20 个汉字，少数民族姓名可用“·”分隔。"
MAX_SKILLS, MAX_SKILL_LENGTH, MAX_COMMUNITIES = 10, 16, 5
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"


def clean_real_name(value: str) -> str:
    name = (value or "").strip().replace("•", "·").replace("・", "·")
    if not REAL_NAME.match(name) or name.startswith("·") or name.endswith("·") or "··" in name:
        raise Invalid(NAME_ERROR, errors={"real_name": [NAME_ERROR]})
    return name


def id_check_digit(first17: str) -> str:
    """GB 11643-1999: ISO 7064 MOD 11-2 over the first 17 digits."""
    return ID_CHECK[sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def valid_id_number(value: str) -> bool:
    number = (value or "").strip().upper()
    if not re.fullmatch(r"\d{17}[\dX]", number):
        return False
    month, day = int(number[10:12]), int(number[12:14])
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return False
    return id_check_digit(number[:17]) == number[17]


def mask_id_number(number: str | None) -> str | None:
    """110***********002X: the first 3 and the last 4 characters."""
    if not number:
        return None
    return number[:3] + "*" * (len(number) - 7) + number[-4:]


def id_number_of(user: User) -> str | None:
    return crypto.decrypt(user.id_number_encrypted)


def masked_id_number(user: User) -> str | None:
    return mask_id_number(id_number_of(user))


def set_id_number(user: User, value: str) -> None:
    number = (value or "").strip().upper()
    if not valid_id_number(number):
        message = "居民身份证号不正确，请核对 18 位号码（最后一位可能是 X）。"
        raise Invalid(message, errors={"id_number": [message]})
    user.id_number_encrypted = crypto.encrypt(number)


def volunteer_profile(user_id: int) -> VolunteerProfile | None:
    return db.session.scalar(select(VolunteerProfile).where(VolunteerProfile.user_id == user_id))


def profiles_of(user_ids: list[int]) -> dict[int, VolunteerProfile]:
    if not user_ids:
        return {}
    return {p.user_id: p for p in db.session.scalars(
        select(VolunteerProfile).where(VolunteerProfile.user_id.in_(user_ids)))}


def clean_skills(skills: list[str] | None) -> list[str]:
    tags = list(dict.fromkeys(s.strip() for s in (skills or []) if s and s.strip()))
    if len(tags) > MAX_SKILLS:
        raise Invalid(f"技能标签最多 {MAX_SKILLS} 个。", errors={"skills": [f"最多 {MAX_SKILLS} 个"]})
    if any(len(t) > MAX_SKILL_LENGTH for t in tags):
        raise Invalid(f"每个技能标签不超过 {MAX_SKILL_LENGTH} 个字。", errors={"skills": ["标签过长"]})
    return tags


def _communities(ids: list[int] | None) -> list[int]:
    wanted = list(dict.fromkeys(ids or []))
    if len(wanted) > MAX_COMMUNITIES:
        raise Invalid(f"服务社区最多选 {MAX_COMMUNITIES} 个。", errors={"community_ids": [f"最多 {MAX_COMMUNITIES} 个"]})
    found = set(db.session.scalars(select(Area.id).where(Area.id.in_(wanted), Area.level == COMMUNITY))) \
        if wanted else set()
    if found != set(wanted):
        raise Invalid("请选择社区（村）作为服务社区。", errors={"community_ids": ["应为社区或村"]})
    return wanted


def update_profile(user: User, *, display_name: str | None = None, real_name: str | None = None,
                   volunteer: dict | None = None) -> User:
    """Change what was sent; a field left out keeps its value."""
    if display_name is not None:
        text = display_name.strip()
        if not 1 <= len(text) <= 32:
            raise Invalid("昵称应为 1–32 个字。", errors={"display_name": ["1–32 个字"]})
        policy.screen("display_name", user, text, "display_name")
        user.display_name = text
    if real_name is not None:
        user.real_name = clean_real_name(real_name)
        policy.screen("real_name", user, user.real_name, "real_name")
    if volunteer is not None:
        profile = volunteer_profile(user.id)
        if profile is None:
            profile = VolunteerProfile(user_id=user.id, skills=[], availability="", community_ids=[])
            db.session.add(profile)
        if "skills" in volunteer:
            profile.skills = clean_skills(volunteer["skills"])
        if "availability" in volunteer:
            profile.availability = (volunteer["availability"] or "").strip()[:200]
        if "community_ids" in volunteer:
            profile.community_ids = _communities(volunteer["community_ids"])
    db.session.flush()
    return user
