"""The privacy notice (隐私保护指引), versioned: one text for the portal and the mini-program.

Change `VERSION` whenever what the notice says changes: people are then asked to accept the new
version, and each acceptance records the version it was given to.
"""
from __future__ import annotations

from flask import current_app

from app.privacy import retention

VERSION = "2026-12-02"
EFFECTIVE = "2026年12月2日"

PURPOSES = [
    "办理您上报的问题（事件闭环），并在办理过程中与您联系、回访；",
    "办理您提交的微心愿、意见建议和留言，安排志愿者和党员提供服务；",
    "记录志愿服务时长、出具志愿服务证明（谁记录谁证明）；",
    "向您发送办理进度通知（小程序订阅消息、公众号模板消息和站内消息）；",
    "保障系统安全：登录、防止刷单和恶意访问，记录工作人员的操作日志。",
]

ITEMS = [
    {"item": "微信登录标识", "why": "识别您的账号；登录时微信返回的会话密钥不保存，也不会发给任何客户端",
     "required": True},
    {"item": "手机号", "why": "查询办理进度、回访；加密存储，工作人员只看到脱敏号码（如 138****1234），"
                            "确需联系您的经办人员除外，且每次查看明文都记入操作日志", "required": False},
    {"item": "上报、建议、留言的文字和照片", "why": "办理您的诉求；照片上传后会去除拍摄时间、定位等隐含信息。"
                                       "照片自带的拍摄位置只在上传时返回给您一次，由您决定是否用作上报位置，不随照片保存",
     "required": True},
    {"item": "上报位置", "why": "您选择按位置上报时，保存您在地图上确认的位置（经纬度、定位精度和地址文字），用于把问题派给所在网格、"
                            "查找附近的同类问题；只有办理该事件的工作人员和您本人能看到坐标", "required": False},
    {"item": "微心愿的联系人、电话和住址", "why": "认领心愿的党员上门服务；只在心愿办理中对认领人可见，心愿结束后认领人不再可见",
     "required": True},
    {"item": "姓名", "why": "您自愿填写。志愿活动的组织方、认领心愿的社区、答复建议的代表能看到全名，"
                          "其他人只看到部分隐去的姓名（如 王*英）", "required": False},
    {"item": "居民身份证号", "why": "只在申请志愿服务证明时填写（民政部《志愿服务记录与证明出具办法（试行）》要求载明身份信息）；"
                              "加密存储，证明和任何页面上都只显示前 3 位和后 4 位，公开核验页不显示；"
                              "在网页下载本人证明时，须输入证明编号和身份证号后四位", "required": False},
    {"item": "签到位置", "why": "活动设有地点时，小程序签到会读取一次手机位置，确认您在活动现场（防止转发签到码代签）；"
                          "只保存您与活动地点的距离（米），不保存坐标；不提供位置也可以签到，由组织方确认到场",
     "required": False},
    {"item": "志愿者资料（技能、可服务时间、服务社区）", "why": "为微心愿匹配合适的志愿者", "required": False},
    {"item": "设备与网络信息（IP 地址、浏览器标识）", "why": "安全与防刷，写入操作日志", "required": True},
]

VISIBILITY = [
    "只有您所在网格、社区、街道的工作人员，以及被派单的职能部门，能看到您的诉求。",
    "匿名上报时，任何工作人员都看不到您的身份，您本人仍可查询进度。",
    "公开页面（点赞墙、建议公开栏、微心愿池）不显示姓名全名、电话和住址。",
    "社区或街道把事件移交 12345 政务服务便民热线办理时，热线平台收到问题的类别、描述、地点和位置，不含您的姓名、电话等身份信息。",
]

PROCESSORS = [
    {"name": "深圳市腾讯计算机系统有限公司（微信）", "what": "微信登录、获取您授权的手机号、文字内容安全检测、发送订阅消息和公众号消息",
     "link": "https://weixin.qq.com/"},
]

CANCELLATION = [
    "所有登录凭证立即失效，账号无法再登录；",
    "删除：手机号、身份证号、姓名、昵称、微信标识、志愿者资料、站内消息、订阅设置、留言、点赞，以及微心愿的联系人、电话、住址和您上传的心愿照片（尚无人认领的心愿同时撤销）；",
    "匿名化保留：您上报的事件（含现场照片）、提交的建议和心愿的办理过程（时间线）、活动报名签到、志愿服务时长台账和已出具的志愿服务证明，"
    "属于基层治理和志愿服务的纪实记录，依法保留，其中的您以“已注销用户”代称，文字中的电话、身份证号打码，不再能与您对应；",
    "已出具的志愿服务证明上载明的姓名和脱敏身份证号不变，以便接收证明的单位继续核验；",
    "办理中的事件照常办结，但无法再向您回访。",
]


def rights() -> list[dict]:
    return [
        {"right": "查阅、复制", "how": "小程序“我的—个人信息—导出我的数据”，得到包含全部信息和照片的压缩包。"},
        {"right": "更正、补充", "how": "小程序“我的”中修改昵称、姓名、志愿者资料，重新授权即可更换手机号。"},
        {"right": "删除、注销账号", "how": "小程序“我的—注销账号”，注销后的处理见下文。"},
        {"right": "撤回同意", "how": "注销账号即撤回同意；撤回不影响撤回前已进行的处理。"},
        {"right": "只用网页的居民", "how": "在本页下方提交申请（凭提交诉求时留下的手机号），社区工作人员在 15 日内致电核实后办理，办理过程记入操作日志。"},
        {"right": "投诉、举报", "how": f"联系：{current_app.config['PRIVACY_CONTACT']}。"},
    ]


def notice() -> dict:
    """The whole notice as data: the API returns it, the portal renders it."""
    return {
        "version": VERSION,
        "effective": EFFECTIVE,
        "controller": {"name": current_app.config["PRIVACY_CONTROLLER"],
                       "contact": current_app.config["PRIVACY_CONTACT"]},
        "purposes": PURPOSES,
        "items": ITEMS,
        "visibility": VISIBILITY,
        "retention": retention.schedule(),
        "idempotency": "为防止重复提交，系统会加密保存每次提交的结果 24 小时，到期自动删除。",
        "rights": rights(),
        "cancellation": CANCELLATION,
        "processors": PROCESSORS,
        "security": "手机号、身份证号、住址加密存储，密钥可轮换；所有页面和接口都通过加密连接访问。",
    }
