"""The WeChat adapter: wechatpy, plus what wechatpy 1.8.18 lacks, behind one gateway (`get_wechat()`).

May import: extensions only.
"""
from app.wechat.gateway import WeChatError, WeChatGateway, get_wechat

__all__ = ["WeChatError", "WeChatGateway", "get_wechat"]
