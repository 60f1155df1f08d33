"""Texts of queue_common itself: key -> (中文, English). Simplified Chinese is the default.

The statistics report (queue_common.report) is rendered by the server's `stats`
command and by the supervisor's dashboard alike, so its column names live here.
"""

from __future__ import annotations

from queue_common import i18n

MESSAGES: dict[str, tuple[str, str]] = {
    # --- a length of time in a list (durations.py) -----------------------------------
    "duration.minutes": ("{n} 分", "{n} min"),
    "duration.hours": ("{h} 小时 {m} 分", "{h} h {m} min"),
    # --- a citizen's wait (waits.py): ticket, kiosk, status page ------------------------
    "wait.range": ("预计等候约 {low}-{high} 分钟", "Estimated wait: about {low}-{high} min"),
    "wait.about": ("预计等候约 {minutes} 分钟", "Estimated wait: about {minutes} min"),
    "wait.within": ("预计 {minutes} 分钟内为您办理", "Estimated wait: within {minutes} min"),
    "wait.soon": ("预计很快为您办理", "Estimated wait: soon"),
    # --- statistics reports (report.py) -------------------------------------------------
    "report.title": ("统计报表 {start} 至 {end}", "Statistics {start} to {end}"),
    "report.sheet.summary": ("概览", "Summary"),
    "report.sheet.definitions": ("口径说明", "Definitions"),
    "report.dim.matter": ("事项", "Matter"),
    "report.dim.counter": ("窗口", "Window"),
    "report.dim.clerk": ("工作人员", "Clerk"),
    "report.dim.hour": ("时段", "Hour"),
    "report.dim.total": ("合计", "Total"),
    "report.key": ("代码", "Code"),
    "report.label": ("名称", "Name"),
    "report.seconds": ("{name}（秒）", "{name} (s)"),
    "report.col.issued": ("取号数", "Issued"),
    "report.col.called": ("已呼叫", "Called"),
    "report.col.served": ("已办结", "Served"),
    "report.col.no_show": ("过号", "No-shows"),
    "report.col.no_show_rate": ("过号率", "No-show rate"),
    "report.col.cancelled": ("已取消", "Cancelled"),
    "report.col.not_served": ("未办理", "Not served"),
    "report.col.wait_n": ("等候计数", "Waits counted"),
    "report.col.wait_mean": ("平均等候", "Mean wait"),
    "report.col.wait_median": ("等候中位数", "Median wait"),
    "report.col.wait_p90": ("90%等候", "P90 wait"),
    "report.col.wait_max": ("最长等候", "Max wait"),
    "report.col.service_n": ("办理计数", "Services counted"),
    "report.col.service_mean": ("平均办理", "Mean service"),
    "report.col.service_median": ("办理中位数", "Median service"),
    "report.col.service_p90": ("90%办理", "P90 service"),
    "report.col.service_max": ("最长办理", "Max service"),
    "report.col.rated": ("评价数", "Ratings"),
    "report.col.satisfied": ("满意数", "Satisfied"),
    "report.col.satisfaction_rate": ("满意率", "Satisfaction"),
    "report.col.bad": ("差评", "Poor ratings"),
    "report.col.rated_pad": ("评价器评价", "Rated on the pad"),
    "report.col.rated_counter": ("窗口评价", "Rated at the counter"),
    "report.col.rated_phone": ("手机评价", "Rated on the phone"),
    "report.col.overtime": ("延时办理", "Overtime visits"),
    "report.col.overtime_s": ("延时时长", "Overtime"),
    "report.col.items_issued": ("事项数", "Matters"),
    "report.col.items_done": ("办结事项", "Matters done"),
    "report.col.open_s": ("窗口开放时长", "Window open"),
    "report.col.idle_s": ("空闲时长", "Idle"),
    "report.col.idle_rate": ("空闲率", "Idle share"),
    "report.col.walkup_n": ("到窗计数", "Walk-ups counted"),
    "report.col.walkup_mean": ("平均到窗", "Mean walk-up"),
    "report.col.walkup_median": ("到窗中位数", "Median walk-up"),
    "report.col.walkup_p90": ("90%到窗", "P90 walk-up"),
    "report.col.walkup_max": ("最长到窗", "Max walk-up"),
    "report.col.no_show_wait_n": ("过号计数", "No-show waits counted"),
    "report.col.no_show_wait_mean": ("过号平均等待", "Mean no-show wait"),
    "report.col.no_show_wait_median": ("过号等待中位数", "Median no-show wait"),
    "report.col.no_show_wait_p90": ("90%过号等待", "P90 no-show wait"),
    "report.col.no_show_wait_max": ("过号最长等待", "Max no-show wait"),
    "report.def.wait": ("等候时长：取号到首次呼叫（按事项：该事项首次被呼叫）；仍在等候的号不计入。",
                        "Wait: issue to first call (per matter: that matter's first call); "
                        "tickets still waiting are not counted."),
    "report.def.service": ("办理时长：开始办理到办结（挂起时间不计）；同一窗口同时办理多个事项只计一次。",
                           "Service: start to complete (parked time excluded); several "
                           "matters served together count once."),
    "report.def.p90": ("90%等候：按最近秩法，90%的号等候不超过该值。",
                       "P90: nearest rank; 90% of waits are at or below it."),
    "report.def.no_show": ("过号率：过号作废的号 / 已呼叫的号。", "No-show rate: voided no-shows / called tickets."),
    "report.def.satisfaction": ("满意率：满意及以上 / 已评价；差评：不满意与非常不满意。",
                                "Satisfaction: satisfied or better / rated; poor: the two lowest levels."),
    "report.def.overtime": ("延时办理：闭厅后仍在办理的号及其办理时长。",
                            "Overtime: visits served after closing and their service time."),
    "report.def.idle": ("空闲时长：窗口开放（未暂停、未关闭）且没有呼叫中或办理中的号的时间，只计营业时间内；空闲率 = 空闲 / 开放。",
                        "Idle: time a window was open (not paused or closed) with nobody called to it or in service there, within opening hours; idle share = idle / open."),
    "report.def.walkup": ("到窗时长：呼叫到开始办理；过号等待：呼叫到标记过号。",
                          "Walk-up: call to start of service; no-show wait: call to 过号."),
    "report.def.counter": ("窗口/工作人员：呼叫、办结、过号、办理时长记给该窗口；等候记给首次呼叫的窗口；评价记给评价时的窗口。",
                           "Window/clerk: calls, services, no-shows and service time go to the "
                           "window; a wait to the window of the first call; a rating to the "
                           "window it was given at."),
}

i18n.register(MESSAGES)
