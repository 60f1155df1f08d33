"""Server-side visible texts: key -> (中文, English). Simplified Chinese is the default.

Shared by every queue_server module that shows text to a person (the citizen status
page, CLI reports); add keys with a prefix naming the module (``status.`` ...).
"""

from __future__ import annotations

from queue_common import i18n

MESSAGES: dict[str, tuple[str, str]] = {
    # --- citizen status page (status_page.py) ---------------------------------------
    "status.title": ("排队进度查询", "Queue status"),
    "status.waiting": ("等候中", "Waiting"),
    "status.called": ("请到 {counter} 办理", "Please go to {counter}"),
    "status.serving": ("正在 {counter} 办理", "Being served at {counter}"),
    "status.parked": ("已挂起，补齐材料后请回到窗口", "On hold: return to the window when ready"),
    "status.counter": ("{n}号窗口", "window {n}"),
    "status.state.done": ("已办结，感谢您的耐心等候", "Done. Thank you for waiting"),
    "status.state.no_show": ("已过号", "Missed call"),
    "status.state.cancelled": ("已取消", "Cancelled"),
    "status.state.not_served": ("今日未办理，请改日再来", "Not served today"),
    "status.ahead": ("您前面还有 {n} 人在等待", "{n} people are waiting ahead of you"),
    "status.ahead_none": ("您前面没有人在等待", "Nobody is waiting ahead of you"),
    "status.wait": ("预计等候约 {minutes} 分钟", "Estimated wait: about {minutes} min"),
    "status.matters": ("办理事项", "Matters"),
    "status.refresh_note": ("本页每 {s} 秒自动刷新；请留意大屏和语音叫号",
                            "This page refreshes every {s} s; watch the hall screen"),
    "status.final_note": ("本次排队已结束", "This visit has ended"),
    "status.not_found": ("未找到该号票", "Ticket not found"),
    "status.not_found_hint": ("号票可能已过期（仅当天有效），或链接不完整。如有疑问请咨询工作人员。",
                              "The ticket may have expired (valid on the day only) or the "
                              "link is incomplete. Please ask the staff."),
    "status.unavailable": ("暂时无法查询，请稍后再试", "Temporarily unavailable, try again soon"),
    "status.read_only": ("本页只读", "This page is read-only"),
    # --- the stats command (commands/stats.py); report texts: queue_common.messages --
    "report.bad_date": ("日期格式应为 YYYY-MM-DD：{value}", "dates are YYYY-MM-DD: {value}"),
    "report.bad_range": ("结束日期早于开始日期", "the range ends before it starts"),
    "report.written": ("已写入 {path}", "written to {path}"),
    "report.bad_query": ("统计参数错误：{error}", "bad report query: {error}"),
    "report.no_config": ("找不到配置：{error}", "no configuration: {error}"),
}

i18n.register(MESSAGES)
