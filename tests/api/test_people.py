"""Real people: names and volunteer profiles on /me, the ID number's check digit, who sees which name."""
from __future__ import annotations

import random

import pytest
from stdnum.cn import ric

from app.accounts.profile import id_check_digit, mask_id_number, valid_id_number
from tests.api.wishflow import act, me, new_member, post_wish


def test_a_resident_sets_names_and_a_volunteer_profile(login, areas):
    api = login.resident()
    assert me(api)["real_name"] == "" and me(api)["volunteer_profile"] is None and me(api)["id_number"] is None
    res = api.patch("/me", json={"display_name": "小王", "real_name": "王秀英", "volunteer_profile": {
        "skills": ["水电维修", "水电维修", "陪伴老人"], "availability": "周末全天",
        "community_ids": [areas["东城社区"].id]}})
    assert res.status_code == 200, res.get_json()
    body = res.get_json()
    assert body["display_name"] == "小王" and body["real_name"] == "王秀英"
    assert body["volunteer_profile"] == {"skills": ["水电维修", "陪伴老人"], "availability": "周末全天",
                                         "community_ids": [areas["东城社区"].id]}
    # A partial update keeps the rest.
    api.patch("/me", json={"volunteer_profile": {"availability": "工作日晚上"}})
    assert me(api)["volunteer_profile"]["skills"] == ["水电维修", "陪伴老人"]
    assert me(api)["real_name"] == "王秀英"
    assert api.patch("/me", json={"real_name": "阿依古丽·买买提"}).get_json()["real_name"] == "阿依古丽·买买提"


@pytest.mark.parametrize("name", ["王", "Wang Xiuying", "王秀英1", "·王秀英", "王··英", "王" * 21, "王 秀英"])
def test_a_bad_real_name_is_refused_in_chinese(login, name):
    api = login.resident()
    res = api.patch("/me", json={"real_name": name})
    assert res.status_code == 422
    assert res.get_json()["message"] == "姓名应为 2–20 个汉字，少数民族姓名可用“·”分隔。"
    assert "real_name" in res.get_json()["errors"]


def test_a_profile_community_must_be_a_community(login, areas):
    res = login.resident().patch("/me", json={"volunteer_profile": {"community_ids": [areas["东城社区第一网格"].id]}})
    assert res.status_code == 422 and "社区" in res.get_json()["message"]


def test_the_check_digit_agrees_with_python_stdnum():
    rng = random.Random(11643)
    for _ in range(2000):
        first17 = "".join(rng.choice("0123456789") for _ in range(6)) + \
            f"{rng.randint(1930, 2020)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}" + \
            "".join(rng.choice("0123456789") for _ in range(3))
        # stdnum drops the last character: it expects the number with a check digit in place.
        assert id_check_digit(first17) == ric.calc_check_digit(first17 + "0")
        good = first17 + id_check_digit(first17)
        wrong = first17 + ("0" if good[-1] != "0" else "1")
        assert valid_id_number(good) is True
        assert valid_id_number(wrong) is False
    assert valid_id_number("11010519491231002X") and valid_id_number("11010519491231002x")
    assert not valid_id_number("110105194912310021") and not valid_id_number("1101051949123100")
    assert mask_id_number("11010519491231002X") == "110***********002X"


def test_candidate_matching_reads_the_volunteer_profile(login, areas):
    admin = login("east_admin")
    plain, plain_reg = new_member(login, areas, name="钱多多", skills=[])
    wish = post_wish(login.resident(), areas, category="study")
    before = next(c for c in admin.get(f"/wishes/{wish['id']}/candidates").get_json()["items"]
                  if c["member_id"] == plain_reg["id"])
    assert before["matched_skills"] == []
    plain.patch("/me", json={"volunteer_profile": {"skills": ["数学辅导"], "availability": "工作日晚上"}})
    after = next(c for c in admin.get(f"/wishes/{wish['id']}/candidates").get_json()["items"]
                 if c["member_id"] == plain_reg["id"])
    assert after["matched_skills"] == ["数学辅导"] and after["score"] > before["score"]
    assert "可服务时间：工作日晚上" in after["reason"]


def test_the_community_sees_the_claimers_real_name(login, areas):
    admin = login("east_admin")
    member, reg = new_member(login, areas, name="刘卫东")
    member.patch("/me", json={"real_name": "刘卫东"})
    resident = login.resident()
    wish = post_wish(resident, areas)
    act(admin, wish["id"], "approve")
    act(member, wish["id"], "claim")
    assert admin.get(f"/wishes/{wish['id']}").get_json()["claimer"]["name"] == "刘卫东"
