"""Chinese validation messages for marshmallow, so a 422 is readable by a resident."""
from marshmallow import Schema, fields, validate

_FIELD_MESSAGES = {
    fields.Field: {
        "required": "此项为必填项。",
        "null": "此项不能为空。",
        "validator_failed": "此项的值无效。",
    },
    fields.String: {"invalid": "应为文本。", "invalid_utf8": "文本编码无效。"},
    fields.Integer: {"invalid": "应为整数。", "too_large": "数字过大。"},
    fields.Number: {"invalid": "应为数字。", "too_large": "数字过大。"},
    fields.Float: {"special": "数字无效。"},
    fields.Boolean: {"invalid": "应为是或否（true/false）。"},
    fields.DateTime: {"invalid": "时间格式无效，应为 ISO 8601。", "invalid_awareness": "时间需要带时区。", "format": "时间格式无效。"},
    fields.Date: {"invalid": "日期格式无效，应为 YYYY-MM-DD。", "format": "日期格式无效。"},
    fields.List: {"invalid": "应为列表。"},
    fields.Dict: {"invalid": "应为对象。"},
    fields.Nested: {"type": "应为对象。"},
    fields.Email: {"invalid": "邮箱地址无效。"},
    fields.Url: {"invalid": "网址无效。"},
}


def install() -> None:
    for field_cls, messages in _FIELD_MESSAGES.items():
        field_cls.default_error_messages = {**field_cls.default_error_messages, **messages}
    Schema._default_error_messages = {
        **Schema._default_error_messages,
        "type": "数据格式无效。",
        "unknown": "不认识的字段。",
    }
    validate.Length.message_min = "长度至少为 {min}。"
    validate.Length.message_max = "长度不能超过 {max}。"
    validate.Length.message_all = "长度应在 {min} 到 {max} 之间。"
    validate.Length.message_equal = "长度应为 {equal}。"
    validate.Range.message_min = "应{min_op} {{min}}。"
    validate.Range.message_max = "应{max_op} {{max}}。"
    validate.Range.message_all = "应{min_op} {{min}} 且{max_op} {{max}}。"
    validate.Range.message_gte = "大于或等于"
    validate.Range.message_gt = "大于"
    validate.Range.message_lte = "小于或等于"
    validate.Range.message_lt = "小于"
    validate.OneOf.default_message = "应为以下之一：{choices}。"
