"""The WeChat adapter: wechatpy, plus the endpoints wechatpy 1.8.18 lacks, behind one gateway."""
from app.wechat.gateway import WeChatError, WeChatGateway, get_wechat

__all__ = ["WeChatError", "WeChatGateway", "get_wechat"]
