"""Proofs of volunteer service (志愿服务证明): ask for them, issue them (谁记录谁证明), download, verify publicly."""
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.core.exports import FILE_SCHEMA, PDF_MIMETYPE
from app.core.inputs import Date, Text
from app.volunteering import certificates
from miniprogram_api.common import BEARER, LocalDateTime, PageArgs, View, current_actor, download, page_schema

blp = Blueprint("certificates", __name__, description="志愿服务证明：申请、出具、下载与公开核验")
PREFIX = ""


class ProofRequestArgs(Schema):
    id_number = Text(load_default=None, validate=validate.Length(max=18), metadata={
        "description": "居民身份证号（18 位，首次申请时必填；加密保存，证明上只显示前 3 位和后 4 位）"})
    date_from = Date(load_default=None, data_key="from", metadata={"description": "默认为最早一条记录的日期"})
    date_to = Date(load_default=None, data_key="to", metadata={"description": "默认为今天"})


class RequestQuery(PageArgs):
    status = Text(load_default="requested", validate=validate.OneOf(list(certificates.REQUEST_LABELS)),
                           metadata={"description": "requested 待出具 / issued 已出具"})


class CertificateSummarySchema(Schema):
    code = fields.String()
    holder_name = fields.String(metadata={"description": "持证人姓名（本人与出具单位可见）"})
    holder_id_masked = fields.String(metadata={"description": "脱敏的居民身份证号"})
    issuer = fields.String(metadata={"description": "出具单位（记录这些服务时长的组织）"})
    issuer_area_id = fields.Integer(allow_none=True)
    period_from = fields.Date()
    period_to = fields.Date()
    total_hours = fields.Float()
    issued_at = LocalDateTime()
    valid = fields.Function(lambda c: c.revoked_at is None)
    automatic = fields.Function(lambda c: c.issued_by is None, metadata={
        "description": "是否由系统按出具单位的设置自动出具（仍以该单位名义出具）"})
    revoke_reason = fields.String()


class ProofRequestSchema(Schema):
    id = fields.Integer()
    user_id = fields.Integer()
    volunteer_name = fields.Function(lambda r: r.user.person_name, metadata={"description": "申请人姓名"})
    area_id = fields.Integer(metadata={"description": "记录单位（出具证明的组织）"})
    date_from = fields.Date(data_key="from", allow_none=True)
    date_to = fields.Date(data_key="to")
    status = fields.String(metadata={"description": "requested 待出具 / issued 已出具"})
    status_label = fields.Function(lambda r: certificates.REQUEST_LABELS[r.status])
    certificate = fields.Nested(CertificateSummarySchema, allow_none=True)
    created_at = LocalDateTime()


class VerifiedItemSchema(Schema):
    description = Text()
    served_on = Text()
    hours = fields.Float()
    organiser = Text()


class VerificationSchema(Schema):
    code = Text()
    valid = fields.Boolean()
    status = Text(metadata={"description": "valid / revoked"})
    status_label = Text()
    holder_name = Text(metadata={"description": "持证人姓名（部分隐去）"})
    period_from = Text()
    period_to = Text()
    total_hours = fields.Float()
    issuer = Text()
    issued_at = Text()
    revoked_at = Text(allow_none=True)
    revoke_reason = Text(allow_none=True)
    items = fields.List(fields.Nested(VerifiedItemSchema))
    verify_url = Text()


ProofRequestPage = page_schema(ProofRequestSchema, "ProofRequestPage")


def _pdf(certificate):
    response = download(certificates.render_pdf(certificate), PDF_MIMETYPE, f"志愿服务证明-{certificate.code}.pdf")
    response.headers["X-Verification-Code"] = certificate.code
    return response


@blp.route("/me/certificate-requests")
class MyProofRequests(View):
    @blp.arguments(ProofRequestArgs)
    @blp.response(201, ProofRequestSchema(many=True))
    @blp.doc(security=BEARER)
    def post(self, args):
        """申请志愿服务证明：向记录了我已通过时长的每个组织各申请一份（谁记录谁证明）；须已填写姓名与身份证号"""
        return certificates.request_proofs(current_actor(), **args)

    @blp.response(200, ProofRequestSchema(many=True))
    @blp.doc(security=BEARER)
    def get(self):
        """我的证明申请及其出具结果"""
        return certificates.my_requests(current_actor())


@blp.route("/me/certificates")
class MyCertificates(View):
    @blp.response(200, CertificateSummarySchema(many=True))
    @blp.doc(security=BEARER)
    def get(self):
        """我的志愿服务证明（每个出具单位一份）"""
        return certificates.my_certificates(current_actor())


@blp.route("/certificate-requests")
class ProofRequests(View):
    @blp.arguments(RequestQuery, location="query")
    @blp.response(200, ProofRequestPage)
    @blp.doc(security=BEARER)
    def get(self, args):
        """管辖范围内的证明申请（社区管理员），默认待出具"""
        return certificates.list_requests(current_actor(), **args)


@blp.route("/certificate-requests/<int:proof_request_id>/issue")
class ProofIssue(View):
    @blp.response(200, CertificateSummarySchema)
    @blp.doc(security=BEARER)
    def post(self, proof_request_id):
        """出具证明（记录单位的管理员）：只包含本单位记录并审核通过的服务时长"""
        return certificates.issue_for_request(current_actor(), proof_request_id)


@blp.route("/certificates/<string:code>/file")
class CertificateFile(View):
    @blp.response(200, FILE_SCHEMA, content_type="application/pdf")
    @blp.doc(security=BEARER)
    def get(self, code):
        """下载证明 PDF（持证人本人或出具单位的管理员；嵌入中文字体，含核验码与二维码）"""
        return _pdf(certificates.certificate_for_download(current_actor(), code))


@blp.route("/certificates/<string:code>")
class CertificateVerification(View):
    @blp.response(200, VerificationSchema)
    def get(self, code):
        """核验志愿服务证明（无需登录）：姓名部分隐去，显示出具单位、累计时长，被撤销的证明显示撤销原因"""
        return certificates.verify(code)
