"""Proofs of volunteer service: one per recording organisation, issued by its staff, naming a real person."""
from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest
from sqlalchemy import select

from app.core.errors import OutOfScope
from app.core.workflow import timeline
from app.extensions import db
from tests.api.test_service_hours import my_entries, serve

ID_NUMBER = "11010519491231002X"
IN_CI = os.environ.get("CI") == "true"


def _approved_at_two_communities(login, areas):
    volunteer = login.resident()
    assert volunteer.patch("/me", json={"real_name": "欧阳娜娜"}).status_code == 200
    serve(login, areas, [volunteer], title="敬老院陪伴", hours=2)
    serve(login, areas, [volunteer], title="垃圾分类宣传", hours=3, organiser="东城社区新时代文明实践站")
    serve(login, areas, [volunteer], title="西园清洁", community="西园社区", admin="west_admin", organiser="西园社区",
          hours=1)
    for item in my_entries(volunteer)["items"]:
        admin = "west_admin" if item["description"] == "西园清洁" else "east_admin"
        assert login(admin).post(f"/service-hours/{item['id']}/transitions",
                                 json={"action": "approve"}).status_code == 200
    return volunteer


def _issue(login, admin: str, request_id: int) -> dict:
    res = login(admin).post(f"/certificate-requests/{request_id}/issue")
    assert res.status_code == 200, res.get_json()
    return res.get_json()


def _pdf(tmp_path, data: bytes, name: str = "proof.pdf"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_a_proof_asks_for_a_name_and_a_valid_id_number(login, areas):
    volunteer = login.resident()
    serve(login, areas, [volunteer], title="敬老院陪伴", hours=2)
    no_name = volunteer.post("/me/certificate-requests", json={"id_number": ID_NUMBER})
    assert no_name.status_code == 422 and "姓名" in no_name.get_json()["message"]
    volunteer.patch("/me", json={"real_name": "周晓梅"})
    no_id = volunteer.post("/me/certificate-requests", json={})
    assert no_id.status_code == 422 and "身份证号" in no_id.get_json()["message"]
    bad_id = volunteer.post("/me/certificate-requests", json={"id_number": "110105194912310021"})
    assert bad_id.status_code == 422 and bad_id.get_json()["errors"]["id_number"]
    nothing = volunteer.post("/me/certificate-requests", json={"id_number": ID_NUMBER})
    assert nothing.status_code == 404 and "已审核通过" in nothing.get_json()["message"]  # hours still pending
    assert volunteer.get("/me").get_json()["id_number"] is None  # nothing kept from a refused request
    period = volunteer.post("/me/certificate-requests", json={"id_number": ID_NUMBER, "from": "2026-12-01",
                                                             "to": "2026-01-01"})
    assert period.status_code == 422 and period.get_json()["message"] == "开始日期不能晚于结束日期。"


def test_two_communities_issue_two_proofs_each_of_its_own_entries(login, areas, tmp_path):
    volunteer = _approved_at_two_communities(login, areas)
    asked = volunteer.post("/me/certificate-requests", json={"id_number": ID_NUMBER})
    assert asked.status_code == 201, asked.get_json()
    assert volunteer.get("/me").get_json()["id_number"] == "110***********002X"
    from app.accounts.models import User

    stored = db.session.get(User, volunteer.get("/me").get_json()["id"]).id_number_encrypted
    assert stored and ID_NUMBER not in stored  # encrypted at rest
    requests = {r["area_id"]: r for r in asked.get_json()}
    assert set(requests) == {areas["东城社区"].id, areas["西园社区"].id}
    east_request, west_request = requests[areas["东城社区"].id], requests[areas["西园社区"].id]

    # Each organisation sees and issues only its own request.
    east_queue = login("east_admin").get("/certificate-requests").get_json()["items"]
    assert east_request["id"] in [r["id"] for r in east_queue] and west_request["id"] not in [r["id"] for r in east_queue]
    assert next(r for r in east_queue if r["id"] == east_request["id"])["volunteer_name"] == "欧阳娜娜"
    assert login("west_admin").post(f"/certificate-requests/{east_request['id']}/issue").status_code == 403
    assert volunteer.post(f"/certificate-requests/{east_request['id']}/issue").status_code == 403

    east = _issue(login, "east_admin", east_request["id"])
    west = _issue(login, "west_admin", west_request["id"])
    assert (east["issuer"], east["total_hours"]) == ("东城社区", 5.0)  # two organisers' names: the community's
    assert (west["issuer"], west["total_hours"]) == ("西园社区", 1.0)
    assert east["holder_name"] == "欧阳娜娜" and east["holder_id_masked"] == "110***********002X"
    assert _issue(login, "east_admin", east_request["id"])["code"] == east["code"], "issued once"
    mine = volunteer.get("/me/certificates").get_json()
    assert {c["code"] for c in mine} == {east["code"], west["code"]}

    from app.volunteering.models import Certificate

    certificate = db.session.scalar(select(Certificate).where(Certificate.code == east["code"]))
    issue = next(e for e in timeline("certificate", certificate.id) if e.action == "issue")
    assert issue.actor_role == "community_admin" and issue.actor_id != certificate.user_id  # staff issue, not the volunteer

    # The resident and the issuing staff download it; the other community and strangers do not.
    assert login("west_admin").get(f"/certificates/{east['code']}/file").status_code == 404
    assert login.resident().get(f"/certificates/{east['code']}/file").status_code == 404
    assert login("east_admin").get(f"/certificates/{east['code']}/file").status_code == 200
    res = volunteer.get(f"/certificates/{east['code']}/file")
    assert res.status_code == 200 and res.mimetype == "application/pdf" and res.data.startswith(b"%PDF")

    public = login.anonymous().get(f"/certificates/{east['code']}")
    facts = public.get_json()
    assert facts["holder_name"] == "欧**娜" and facts["issuer"] == "东城社区" and facts["total_hours"] == 5.0
    assert facts["status_label"] == "有效" and "欧阳娜娜" not in public.get_data(as_text=True)
    assert ID_NUMBER not in public.get_data(as_text=True) and "002X" not in public.get_data(as_text=True)
    portal = login.anonymous().client.get(f"/verify/{east['code']}").get_data(as_text=True)
    assert "欧**娜" in portal and "东城社区" in portal and "有效" in portal and "欧阳娜娜" not in portal

    if shutil.which("pdftotext") is None or shutil.which("pdffonts") is None:
        if IN_CI:
            pytest.fail("CI needs poppler-utils (pdftotext, pdffonts)")
        pytest.skip("needs poppler-utils (pdftotext, pdffonts) to read the PDF back")
    path = _pdf(tmp_path, res.data)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout
    for expected in ("志愿服务证明", "欧阳娜娜", "110***********002X", "敬老院陪伴", "垃圾分类宣传", "日晷公园东门广场",
                     "5 小时", "东城社区", east["code"], f"/verify/{east['code']}"):
        assert expected in text, expected
    assert "西园清洁" not in text, "a proof covers only the entries its issuer recorded"
    fonts = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True).stdout
    from app.core.pdf_fonts import FONT_FILES

    if not any(os.path.exists(f) for f in FONT_FILES) and not IN_CI:
        pytest.skip("no CJK TrueType font installed (apt-get install fonts-wqy-microhei)")
    font_rows = [line.split() for line in fonts.splitlines()[2:] if line.strip()]
    assert font_rows and all(row[-5] == "yes" for row in font_rows), fonts  # emb yes for every font


def test_a_rejected_entry_revokes_the_proof_and_the_page_says_why(login, areas):
    volunteer = _approved_at_two_communities(login, areas)
    asked = {r["area_id"]: r for r in volunteer.post("/me/certificate-requests", json={"id_number": ID_NUMBER})
             .get_json()}
    east = _issue(login, "east_admin", asked[areas["东城社区"].id]["id"])
    entry = next(i for i in my_entries(volunteer)["items"] if i["description"] == "敬老院陪伴")
    login("east_admin").post(f"/service-hours/{entry['id']}/transitions",
                             json={"action": "reject", "reason": "重复登记"})
    facts = login.anonymous().get(f"/certificates/{east['code']}").get_json()
    assert facts["status"] == "revoked" and facts["status_label"] == "已撤销" and "重复登记" in facts["revoke_reason"]
    portal = login.anonymous().client.get(f"/verify/{east['code']}").get_data(as_text=True)
    assert "已撤销" in portal and "重复登记" in portal

    again = {r["area_id"]: r for r in volunteer.post("/me/certificate-requests", json={}).get_json()}
    fresh = _issue(login, "east_admin", again[areas["东城社区"].id]["id"])
    assert fresh["code"] != east["code"] and fresh["total_hours"] == 3.0


def test_where_the_organisation_said_so_the_proof_is_issued_at_once_in_its_name(login, areas):
    from app.accounts.models import User
    from app.accounts.service import actor_for
    from app.core.audit import AuditLog
    from app.volunteering.certificates import set_proof_policy
    from app.volunteering.models import Certificate

    def admin(username):
        return actor_for(db.session.scalar(select(User).where(User.username == username)))

    east_id, west_id = areas["东城社区"].id, areas["西园社区"].id
    set_proof_policy(admin("east_admin"), east_id, auto_issue=True)
    with pytest.raises(OutOfScope):
        set_proof_policy(admin("west_admin"), east_id, auto_issue=False)
    db.session.flush()

    volunteer = _approved_at_two_communities(login, areas)
    asked = volunteer.post("/me/certificate-requests", json={"id_number": ID_NUMBER})
    assert asked.status_code == 201, asked.get_json()
    requests = {r["area_id"]: r for r in asked.get_json()}
    east, west = requests[east_id], requests[west_id]
    assert east["status"] == "issued" and west["status"] == "requested", "only 东城 said so"
    assert (east["certificate"]["issuer"], east["certificate"]["automatic"]) == ("东城社区", True)
    assert east["certificate"]["holder_name"] == "欧阳娜娜"

    certificate = db.session.scalar(select(Certificate).where(Certificate.code == east["certificate"]["code"]))
    assert certificate.issued_by is None and certificate.issuer_area_id == east_id
    issue = next(e for e in timeline("certificate", certificate.id) if e.action == "issue")
    assert issue.actor_role == "system" and issue.data["automatic"] is True
    audit = db.session.scalars(select(AuditLog).order_by(AuditLog.id.desc())).first()
    assert {"act": "certificate.issue", "code": certificate.code, "area_id": east_id, "automatic": True} \
        in audit.detail["acts"]
    assert volunteer.get(f"/certificates/{certificate.code}/file").status_code == 200
    assert login.anonymous().get(f"/certificates/{certificate.code}").get_json()["issuer"] == "东城社区"

    # 西园 turns it on later: the request already waiting is issued then, in 西园's name.
    set_proof_policy(admin("west_admin"), west_id, auto_issue=True)
    db.session.flush()
    mine = {c["issuer"]: c for c in volunteer.get("/me/certificates").get_json()}
    assert set(mine) == {"东城社区", "西园社区"} and mine["西园社区"]["automatic"] is True


def _portal_post(client, path: str, data: dict):
    page = client.get(path).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return client.post(path, data=data | {"csrf_token": token})


def test_the_holder_downloads_an_issued_proof_on_the_portal_with_the_last_four_of_the_id(login, areas, app):
    volunteer = _approved_at_two_communities(login, areas)
    asked = {r["area_id"]: r for r in volunteer.post("/me/certificate-requests", json={"id_number": ID_NUMBER})
             .get_json()}
    east = _issue(login, "east_admin", asked[areas["东城社区"].id]["id"])
    client = app.test_client()

    verify_page = client.get(f"/verify/{east['code']}").get_data(as_text=True)
    assert f"/proofs?code={east['code']}" in verify_page
    form = client.get(f"/proofs?code={east['code']}").get_data(as_text=True)
    assert east["code"] in form and "身份证号后四位" in form

    for wrong in ({"code": east["code"], "id_last4": "1234"}, {"code": "NOSUCHCODE22", "id_last4": "002X"},
                  {"code": east["code"], "id_last4": ""}):
        res = _portal_post(client, "/proofs", wrong)
        assert res.mimetype == "text/html" and "证明编号或身份证号后四位不正确。" in res.get_data(as_text=True)

    res = _portal_post(client, "/proofs", {"code": east["code"].lower(), "id_last4": "002x"})
    assert res.status_code == 200 and res.mimetype == "application/pdf" and res.data.startswith(b"%PDF")
    assert "attachment" in res.headers["Content-Disposition"]
    from app.core.audit import AuditLog

    audit = db.session.scalars(select(AuditLog).order_by(AuditLog.id.desc())).first()
    assert audit.detail["acts"] == [{"act": "certificate.download", "code": east["code"], "by": "holder_on_portal"}]

    # A revoked proof is not handed out as if it were valid.
    entry = next(i for i in my_entries(volunteer)["items"] if i["description"] == "敬老院陪伴")
    login("east_admin").post(f"/service-hours/{entry['id']}/transitions",
                             json={"action": "reject", "reason": "经核实当天未到场"})
    revoked = _portal_post(client, "/proofs", {"code": east["code"], "id_last4": "002X"})
    assert revoked.mimetype == "text/html" and "该证明已撤销" in revoked.get_data(as_text=True)
