"""Certificates of volunteer service: download mine as a PDF, and verify any by its code without login."""
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from app.core.exports import FILE_SCHEMA, PDF_MIMETYPE
from app.core.inputs import Date, Text
from app.volunteering import certificates
from app.volunteering import service as volunteering
from miniprogram_api.common import BEARER, View, current_actor, download

blp = Blueprint("certificates", __name__, description="志愿服务证明：下载与公开核验")
PREFIX = ""


class CertificateQuery(Schema):
    date_from = Date(load_default=None, data_key="from", metadata={"description": "默认为最早一条记录的日期"})
    date_to = Date(load_default=None, data_key="to", metadata={"description": "默认为今天"})


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


@blp.route("/me/certificate")
class MyCertificate(View):
    @blp.arguments(CertificateQuery, location="query")
    @blp.response(200, FILE_SCHEMA, content_type="application/pdf")
    @blp.doc(security=BEARER)
    def get(self, args):
        """下载我的志愿服务证明（PDF，含核验码与二维码），涵盖所选时间段内已审核通过的服务时长"""
        certificate = certificates.issue_certificate(current_actor(), **args)
        response = download(certificates.render_pdf(certificate), PDF_MIMETYPE, f"志愿服务证明-{certificate.code}.pdf")
        response.headers["X-Verification-Code"] = certificate.code
        return response


@blp.route("/certificates/<string:code>")
class CertificateVerification(View):
    @blp.response(200, VerificationSchema)
    def get(self, code):
        """核验志愿服务证明（无需登录）：显示证明内容，姓名部分隐去；被撤销的证明显示为已撤销"""
        return volunteering.verify_certificate(code)
