"""Is this text safe: the one rule, per kind of user text, for what happens to it.

With the author's WeChat openid the text goes to msgSecCheck v2 (the scene that fits the kind)
and WeChat's `suggest` picks the row's outcome. Without an openid (the web portal, console mode)
or when WeChat cannot answer, the row's `unchecked` outcome applies. The outcomes:

- `publish`: the text goes where it was meant to go;
- `hold`: it is stored and reaches its private audience (the staff it was addressed to, its author),
  but it is kept out of every public place and waits in the moderation queue until staff release it;
- `refuse`: it is not stored; the author gets a Chinese 422 and may rewrite it.

Text written by staff accounts (signed in by username and password: named, accountable people
acting in their role, such as a grid worker filing a case or answering a message) is published.

Reports are held rather than refused: a real complaint ("楼下有人赌博") may carry a flagged word.
Private text read only by the staff it is addressed to is never held (the reader would be the
reviewer), but risky text is refused so that no one has to read it.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from app.core.errors import Invalid
from app.wechat import WeChatError, get_wechat


class Author(Protocol):
    """Who wrote the text (an accounts User): staff sign in by username; residents have a WeChat openid."""

    username: str | None
    openid: str | None

log = logging.getLogger("gongzhi.moderation")

PUBLISH, HOLD, REFUSE = "publish", "hold", "refuse"
PASS, REVIEW, RISKY = "pass", "review", "risky"
# msgSecCheck v2 scenes.
PROFILE, COMMENT, FORUM, SOCIAL_LOG = 1, 2, 3, 4
WECHAT, UNCHECKED, STAFF = "wechat", "unchecked", "staff"


@dataclass(frozen=True)
class Rule:
    label: str       # what the author wrote, in Chinese (shown in the queue and in refusals)
    scene: int       # msgSecCheck scene
    public: bool     # shown in a public place (praise wall, suggestion board, wish pool)
    review: str      # outcome when WeChat says "review"
    risky: str       # outcome when WeChat says "risky"
    unchecked: str   # outcome without an openid, or when WeChat cannot answer


RULES: dict[str, Rule] = {
    # Reports: always held when in doubt, never refused; staff still work them while held.
    "case": Rule("上报", FORUM, public=False, review=HOLD, risky=HOLD, unchecked=HOLD),
    # The reporter's later words on a case (rating comment, reason to reopen): read by staff.
    "follow_up": Rule("事件追评", COMMENT, public=False, review=PUBLISH, risky=REFUSE, unchecked=PUBLISH),
    # Praise reaches the public wall only once it is known to be safe.
    "praise": Rule("点赞留言", COMMENT, public=True, review=HOLD, risky=REFUSE, unchecked=HOLD),
    # Messages and replies are read by the one person they are addressed to.
    "message": Rule("留言", COMMENT, public=False, review=PUBLISH, risky=REFUSE, unchecked=PUBLISH),
    # A wish reaches the pool only after the community approves it (that is its review), and only the
    # public title the community wrote is shown to the public.
    "wish": Rule("微心愿", FORUM, public=True, review=HOLD, risky=HOLD, unchecked=PUBLISH),
    # A suggestion goes to its representative in any case; the public board waits for a clean check.
    "suggestion": Rule("群众建议", FORUM, public=True, review=HOLD, risky=HOLD, unchecked=HOLD),
    # The party member's registration (双报到): read by the community that reviews it.
    "enrollment": Rule("报到信息", PROFILE, public=False, review=PUBLISH, risky=REFUSE, unchecked=PUBLISH),
    # An application for points with its evidence: read by the staff who decide it.
    "point_application": Rule("积分申请", COMMENT, public=False, review=PUBLISH, risky=REFUSE, unchecked=PUBLISH),
    # A display name is shown (masked) to others; a real name only to staff.
    "display_name": Rule("昵称", PROFILE, public=True, review=REFUSE, risky=REFUSE, unchecked=PUBLISH),
    "real_name": Rule("姓名", PROFILE, public=False, review=PUBLISH, risky=REFUSE, unchecked=PUBLISH),
    # Images are checked asynchronously (mediaCheckAsync, app/media/checks.py): a risky one is hidden at
    # once when the result arrives; a doubtful or unchecked one waits for the reviewers.
    "image": Rule("图片", COMMENT, public=False, review=HOLD, risky=HOLD, unchecked=HOLD),
}
KIND_LABELS = {kind: rule.label for kind, rule in RULES.items()}


@dataclass(frozen=True)
class Verdict:
    kind: str
    outcome: str          # publish / hold / refuse
    source: str           # wechat / unchecked
    suggest: str = ""     # WeChat's suggest, when it answered
    label: int | None = None

    @property
    def held(self) -> bool:
        return self.outcome == HOLD


def check(kind: str, author: Author | None, text: str) -> Verdict:
    """What happens to `text` of `kind` written by `author`; see the module's docstring."""
    rule = RULES[kind]
    text = (text or "").strip()
    if not text:
        return Verdict(kind, PUBLISH, UNCHECKED)
    if author is not None and author.username:
        return Verdict(kind, PUBLISH, STAFF)
    openid = author.openid if author is not None else None
    try:
        answer = get_wechat().msg_sec_check(openid, text, scene=rule.scene)
    except WeChatError as exc:
        log.warning("msgSecCheck failed for %s (%s); the unchecked rule applies", kind, exc)
        answer = None
    if answer is None or answer.suggest not in (PASS, REVIEW, RISKY):
        return Verdict(kind, rule.unchecked, UNCHECKED)
    outcome = PUBLISH if answer.suggest == PASS else rule.review if answer.suggest == REVIEW else rule.risky
    return Verdict(kind, outcome, WECHAT, answer.suggest, answer.label)


def screen(kind: str, author: Author | None, text: str, field: str) -> Verdict:
    """`check`, with a refusal raised as a Chinese 422 on `field`; returns the verdict otherwise."""
    verdict = check(kind, author, text)
    if verdict.outcome == REFUSE:
        label = RULES[kind].label
        raise Invalid(f"{label}含有不当信息，请修改后再提交。",
                      errors={field: ["未通过内容安全检查"]})
    return verdict
