"""Volunteer activities: publish, browse, enroll (waitlist when full), check in/out by code, attendance."""

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.accounts.service import phone_of
from app.core.crypto import mask_phone
from app.core.exports import FILE_SCHEMA, attachment
from app.core.inputs import DateTime, Text
from app.core.workflow import timeline
from app.volunteering import activities, attendance, enrolling
from app.volunteering.attendance import ATTENDANCE_ACTIONS
from app.volunteering.states import ACTIVITY_LABELS, ENROLLMENT_LABELS, PRESENCE_LABELS
from miniprogram_api.common import BEARER, LocalDateTime, PageArgs, View, current_actor, page_schema

blp = Blueprint("activities", __name__, description="志愿活动：发布、报名、候补、扫码签到签退与考勤")
PREFIX = "/activities"


class ActivityArgs(Schema):
    title = Text(required=True, validate=validate.Length(min=1, max=100))
    description = Text(multiline=True, load_default="", validate=validate.Length(max=4000))
    community_id = fields.Integer(required=True, metadata={"description": "发布活动的社区（村）"})
    organiser_name = Text(load_default=None, validate=validate.Length(max=100), metadata={
        "description": "组织单位，如“东城社区党支部”；默认为社区名称"})
    starts_at = DateTime(required=True, metadata={"description": "不带时区时按北京时间"})
    ends_at = DateTime(required=True)
    place_text = Text(load_default="", validate=validate.Length(max=200))
    capacity = fields.Integer(required=True, validate=validate.Range(min=1, max=10000))
    enroll_deadline = DateTime(load_default=None, metadata={"description": "默认为活动开始时间"})


class ActivityQuery(PageArgs):
    community_id = fields.Integer(load_default=None)
    upcoming = fields.Boolean(load_default=False, metadata={"description": "只看未结束的活动"})
    mine = fields.Boolean(load_default=False, metadata={"description": "只看我报名的活动"})


class CheckOutArgs(Schema):
    scene = Text(required=True, validate=validate.Length(min=1, max=32), metadata={
        "description": "扫描组织方现场展示的动态签到码（每分钟更换）得到的内容；组织方启用后也可用纸质备用码"})


class CheckInArgs(CheckOutArgs):
    lat = fields.Float(load_default=None, validate=validate.Range(min=-90, max=90), metadata={
        "description": "手机位置纬度（wx.getLocation，GCJ-02）；活动设有地点时据此判断是否在签到范围内"})
    lng = fields.Float(load_default=None, validate=validate.Range(min=-180, max=180), metadata={
        "description": "手机位置经度（GCJ-02）；只保存与活动地点的距离，不保存坐标"})


class CheckInRulesArgs(Schema):
    fallback_code_enabled = fields.Boolean(required=True, metadata={
        "description": "是否允许用纸质备用签到码（code.png）签到签退"})
    place_lat = fields.Decimal(load_default=None, places=6, metadata={"description": "活动地点纬度（GCJ-02）"})
    place_lng = fields.Decimal(load_default=None, places=6, metadata={"description": "活动地点经度（GCJ-02）"})
    place_radius_m = fields.Integer(load_default=None, validate=validate.Range(min=20, max=5000), metadata={
        "description": "签到半径（米）；超出范围或未提供位置的签到须组织方确认。三项同时填写或全部留空"})


class CheckInCodeSchema(Schema):
    code = Text(metadata={"description": "当前动态签到码（二维码内容），每分钟更换，过期约 1 分钟后失效"})
    expires_at = LocalDateTime(metadata={"description": "本码换新的时间"})
    seconds_left = fields.Integer(metadata={"description": "距换新的秒数"})


class AttendanceArgs(Schema):
    user_id = fields.Integer(required=True)
    action = Text(required=True, validate=validate.OneOf(list(ATTENDANCE_ACTIONS)), metadata={
        "description": "check_in 登记签到 / check_out 登记签退 / confirm_presence 确认到场 / "
                       "refuse_presence 不予确认（记为缺席） / absent 登记缺席 / hours 更正（或补录）服务时长"})
    hours = fields.Decimal(load_default=None, places=2, metadata={"description": "action=hours 时必填"})
    at = DateTime(load_default=None, metadata={
        "description": "check_in / check_out 的时间，默认为现在；不带时区时按北京时间"})
    reason = Text(multiline=True, required=True, validate=validate.Length(min=1, max=500))


class ActivityTransitionArgs(Schema):
    action = Text(required=True, validate=validate.OneOf(("cancel",)))
    reason = Text(multiline=True, load_default="", validate=validate.Length(max=500))


class RosterQuery(PageArgs):
    status = Text(load_default=None, validate=validate.OneOf(list(ENROLLMENT_LABELS)))


class EnrollmentSchema(Schema):
    id = fields.Integer()
    activity_id = fields.Integer()
    user_id = fields.Integer()
    status = Text(metadata={"description": "enrolled / waitlisted / cancelled / absent"})
    status_label = fields.Function(lambda e: ENROLLMENT_LABELS[e.status])
    position = fields.Integer(metadata={"description": "报名顺序；候补按此顺序递补"})
    check_in_at = LocalDateTime(allow_none=True)
    check_out_at = LocalDateTime(allow_none=True)
    check_in_method = Text(metadata={"description": "code 动态签到码 / fallback 纸质备用码 / manual 组织方登记"})
    check_in_distance_m = fields.Integer(allow_none=True, metadata={"description": "签到时与活动地点的距离（米）"})
    presence = Text(metadata={"description": "空：无需确认；pending 待组织方确认到场；confirmed 已确认；refused 不予确认"})
    presence_label = fields.Function(lambda e: PRESENCE_LABELS.get(e.presence, ""))
    hours = fields.Float(allow_none=True)
    correction_reason = Text()
    created_at = LocalDateTime()


class RosterItemSchema(EnrollmentSchema):
    user_name = fields.Function(lambda e: e.user.person_name, metadata={
        "description": "志愿者姓名（实名；名单仅组织方可见）"})
    phone = fields.Function(lambda e: mask_phone(phone_of(e.user)), metadata={"description": "脱敏手机号"})


class EnrollmentEventSchema(Schema):
    action = Text()
    actor_role = Text()
    from_state = Text(allow_none=True)
    to_state = Text()
    note = Text()
    data = fields.Dict(metadata={"description": "更正时含 old / new"})
    created_at = LocalDateTime()


class EnrollmentDetailSchema(RosterItemSchema):
    timeline = fields.Function(lambda e: EnrollmentEventSchema(many=True).dump(timeline("enrollment", e.id)))


class ActivitySchema(Schema):
    id = fields.Integer()
    title = Text()
    description = Text()
    community_id = fields.Integer(attribute="area_id")
    organiser_name = Text()
    starts_at = LocalDateTime()
    ends_at = LocalDateTime()
    enroll_deadline = LocalDateTime()
    place_text = Text()
    capacity = fields.Integer()
    enrolled_count = fields.Integer()
    waitlist_count = fields.Integer()
    remaining = fields.Function(lambda a: max(0, a.capacity - a.enrolled_count))
    status = Text(metadata={"description": "published / cancelled"})
    status_label = fields.Function(lambda a: ACTIVITY_LABELS[a.status])
    my_enrollment = fields.Nested(EnrollmentSchema, allow_none=True)
    can_manage = fields.Boolean()
    allowed_actions = fields.List(Text(), metadata={
        "description": "enroll / cancel_enrollment / check_in / check_out；组织方另有 attendance / cancel"})
    scene = fields.Function(lambda a: a.scene if a.can_manage else None, metadata={
        "description": "纸质备用签到码内容，仅组织方可见；启用备用码后才能用于签到"})
    fallback_code_enabled = fields.Boolean()
    place_lat = fields.Float(allow_none=True, metadata={"description": "活动地点纬度（GCJ-02），未设置为 null"})
    place_lng = fields.Float(allow_none=True)
    place_radius_m = fields.Integer(allow_none=True, metadata={
        "description": "签到半径（米）；设置时签到应带上手机位置（lat/lng）"})


ActivityPage = page_schema(ActivitySchema, "ActivityPage")
RosterPage = page_schema(RosterItemSchema, "ActivityRosterPage")


@blp.route("")
class Activities(View):
    @blp.arguments(ActivityArgs)
    @blp.response(201, ActivitySchema)
    @blp.doc(security=BEARER)
    def post(self, args):
        """发布志愿活动（社区管理员，限管辖范围）"""
        return activities.create_activity(current_actor(), **args)

    @blp.arguments(ActivityQuery, location="query")
    @blp.response(200, ActivityPage)
    @blp.doc(security=BEARER)
    def get(self, args):
        """活动列表：可按社区、是否未结束、是否我报名的筛选"""
        return activities.list_activities(current_actor(), **args)


@blp.route("/<int:activity_id>")
class ActivityDetail(View):
    @blp.response(200, ActivitySchema)
    @blp.doc(security=BEARER)
    def get(self, activity_id):
        """活动详情：含我的报名状态与当前可执行的操作"""
        return activities.activity_detail(current_actor(), activity_id)


@blp.route("/<int:activity_id>/transitions")
class ActivityTransitions(View):
    @blp.arguments(ActivityTransitionArgs)
    @blp.response(200, ActivitySchema)
    @blp.doc(security=BEARER)
    def post(self, args, activity_id):
        """取消活动（组织方，须填原因），已报名和候补的人都会收到通知"""
        return activities.transition_activity(current_actor(), activity_id, **args)


@blp.route("/<int:activity_id>/code.png")
class ActivityCode(View):
    @blp.response(200, FILE_SCHEMA, content_type="image/png")
    @blp.doc(security=BEARER)
    def get(self, activity_id):
        """纸质备用签到码图片（组织方打印备用；启用备用码后才能用于签到签退）"""
        png = activities.activity_code_png(current_actor(), activity_id)
        return attachment(png, "image/png", f"activity-{activity_id}.png", inline=True)


@blp.route("/<int:activity_id>/enrollments")
class Enrollments(View):
    @blp.response(201, EnrollmentSchema)
    @blp.doc(security=BEARER)
    def post(self, activity_id):
        """报名活动；名额已满时进入候补名单"""
        return enrolling.enroll(current_actor(), activity_id)

    @blp.response(200, EnrollmentSchema)
    @blp.doc(security=BEARER)
    def delete(self, activity_id):
        """取消我的报名（活动开始前）；候补第一位自动递补"""
        return enrolling.cancel_enrollment(current_actor(), activity_id)

    @blp.arguments(RosterQuery, location="query")
    @blp.response(200, RosterPage)
    @blp.doc(security=BEARER)
    def get(self, args, activity_id):
        """报名名单（组织方）"""
        return activities.list_enrollments(current_actor(), activity_id, **args)


@blp.route("/<int:activity_id>/enrollments/cancel")
class EnrollmentCancel(View):
    @blp.response(200, EnrollmentSchema)
    @blp.doc(security=BEARER)
    def post(self, activity_id):
        """取消我的报名（与 DELETE /enrollments 相同，供不便发 DELETE 的客户端使用）"""
        return enrolling.cancel_enrollment(current_actor(), activity_id)


@blp.route("/<int:activity_id>/check-in")
class CheckIn(View):
    @blp.arguments(CheckInArgs)
    @blp.response(200, EnrollmentSchema)
    @blp.doc(security=BEARER)
    def post(self, args, activity_id):
        """扫码签到：活动开始前 30 分钟至结束后 2 小时内，扫组织方现场展示的动态签到码；
        活动设有地点时带上手机位置，超出范围的签到待组织方确认"""
        return attendance.check_in(current_actor(), activity_id, args["scene"], lat=args["lat"], lng=args["lng"])


@blp.route("/<int:activity_id>/check-out")
class CheckOut(View):
    @blp.arguments(CheckOutArgs)
    @blp.response(200, EnrollmentSchema)
    @blp.doc(security=BEARER)
    def post(self, args, activity_id):
        """扫码签退：计算服务时长并记入待审核的服务时长"""
        return attendance.check_out(current_actor(), activity_id, args["scene"])


@blp.route("/<int:activity_id>/attendance")
class Attendance(View):
    @blp.arguments(AttendanceArgs)
    @blp.response(200, EnrollmentDetailSchema)
    @blp.doc(security=BEARER)
    def post(self, args, activity_id):
        """组织方登记签到、签退，确认或不予确认到场，登记缺席或更正服务时长（须填原因，留痕含更正前后的值）"""
        return attendance.correct_attendance(current_actor(), activity_id, **args)


@blp.route("/<int:activity_id>/check-in-code")
class CheckInCode(View):
    @blp.response(200, CheckInCodeSchema)
    @blp.doc(security=BEARER)
    def get(self, activity_id):
        """当前动态签到码（组织方在现场展示为二维码，每分钟更换）"""
        return attendance.current_code(current_actor(), activity_id)


@blp.route("/<int:activity_id>/check-in-rules")
class CheckInRules(View):
    @blp.arguments(CheckInRulesArgs)
    @blp.response(200, ActivitySchema)
    @blp.doc(security=BEARER)
    def put(self, args, activity_id):
        """组织方设置签到规则：是否启用纸质备用码，活动地点与签到半径"""
        return attendance.set_check_in_rules(current_actor(), activity_id, **args)
