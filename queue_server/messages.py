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
    "status.kept": ("本号已为您保留至 {day}，开门后优先办理",
                    "Your number is kept for {day}: you will be called first after opening"),
    "status.called": ("请到 {counter} 办理", "Please go to {counter}"),
    "status.serving": ("正在 {counter} 办理", "Being served at {counter}"),
    "status.parked": ("已挂起，补齐材料后请回到窗口", "On hold: return to the window when ready"),
    "status.counter": ("{n}号窗口", "window {n}"),
    "status.state.done": ("已办结，感谢您的耐心等候", "Done. Thank you for waiting"),
    "status.state.no_show": ("已过号", "Missed call"),
    "status.state.cancelled": ("已取消", "Cancelled"),
    "status.state.not_served": ("今日未办理，请改日再来", "Not served today"),
    "status.ahead": ("您前面还有 {n} 人在等待", "People waiting ahead of you: {n}"),
    "status.ahead_none": ("您前面没有人在等待", "Nobody is waiting ahead of you"),
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
    "status.busy": ("访问人数较多，请稍后再试", "Busy, please try again in a moment"),
    "status.live_note": ("本页自动更新；请留意大屏和语音叫号",
                         "This page updates itself; listen for the call and watch the screen"),
    "status.offline": ("无法连接服务器，正在重试", "Cannot reach the server, retrying"),
    "status.offline_wifi": ("请确认已连接大厅 Wi-Fi：{wifi}",
                            "make sure you are on the hall Wi-Fi: {wifi}"),
    "status.last_update": ("最后更新 {time}", "last update {time}"),
    "status.remind_near": ("快到您了：前面还有 {n} 人，请回到大厅等候",
                           "Almost your turn: {n} ahead of you, please come back to the hall"),
    "status.remind_called": ("请到 {counter} 办理", "Please go to {counter}"),
    "status.large": ("大字", "Large text"),
    "status.normal": ("标准字", "Normal text"),
    "status.lang": ("中文", "English"),
    "status.enable_alerts": ("开启到号提醒（声音、振动、通知）",
                             "Turn on reminders (sound, vibration, notification)"),
    "status.alerts_on": ("到号提醒已开启", "Reminders are on"),
    "status.rate_title": ("请您对本次服务进行评价", "Please rate our service"),
    "status.rate_reason": ("请选择不满意的原因", "What went wrong?"),
    "status.rate_pick_reason": ("请先选择一个原因", "Please choose a reason first"),
    "status.rate_text": ("其他意见（可不填）", "Anything else (optional)"),
    "status.rate_send": ("提交评价", "Send"),
    "status.rate_thanks": ("感谢您的评价", "Thank you for your rating"),
    "status.rate_done": ("本次服务已评价，谢谢您", "This visit has been rated, thank you"),
    "status.rate_failed": ("评价未能提交，请稍后再试", "The rating was not sent, please try again"),
    "status.rate_bad": ("评价内容不完整", "The rating is incomplete"),
    "status.rate_slow_down": ("操作太频繁，请稍后再试", "Too many tries, please wait a minute"),
    "status.rate_unavailable": ("暂不能在手机上评价", "Rating on the phone is not available"),
    "status.level.5": ("非常满意", "Very satisfied"),
    "status.level.4": ("满意", "Satisfied"),
    "status.level.3": ("基本满意", "Fairly satisfied"),
    "status.level.2": ("不满意", "Dissatisfied"),
    "status.level.1": ("非常不满意", "Very dissatisfied"),
    "status.hall_title": ("大厅排队情况", "Queues in the hall"),
    "status.hall_department": ("部门", "Department"),
    "status.hall_waiting": ("等候人数", "Waiting"),
    "status.hall_wait": ("新取号预计等候", "Wait for a new ticket"),
    "status.hall_note": ("本页自动更新，只显示人数，不显示任何个人信息",
                         "Updates itself; counts only, nothing about anyone"),
    # --- the stats command (commands/stats.py); report texts: queue_common.messages --
    "report.bad_date": ("日期格式应为 YYYY-MM-DD：{value}", "dates are YYYY-MM-DD: {value}"),
    "report.bad_range": ("结束日期早于开始日期", "the range ends before it starts"),
    "report.written": ("已写入 {path}", "written to {path}"),
    "report.bad_query": ("统计参数错误：{error}", "bad report query: {error}"),
    "report.no_config": ("找不到配置：{error}", "no configuration: {error}"),
}

i18n.register(MESSAGES)
