"""Kiosk and ticket texts: key -> (中文, English). Simplified Chinese is the default."""

from __future__ import annotations

from queue_common import i18n

MESSAGES: dict[str, tuple[str, str]] = {
    # how a list of matters and a label read in each language
    "kiosk.list_sep": ("、", ", "),
    "kiosk.colon": ("：", ": "),
    # --- the printed ticket -------------------------------------------------------
    "kiosk.ticket.matters": ("办理事项", "Matters"),
    "kiosk.ticket.ahead": ("您前面还有 {n} 人在等待", "{n} people are waiting ahead of you"),
    "kiosk.ticket.ahead_none": ("您前面没有人在等待", "Nobody is waiting ahead of you"),
    "kiosk.ticket.issued_at": ("取号时间 {time}", "Issued {time}"),
    "kiosk.ticket.scan": ("扫码查看排队进度", "Scan to follow your place in the queue"),
    "kiosk.ticket.wifi": ("请先连接大厅 Wi-Fi：{name}", "First join the hall Wi-Fi: {name}"),
    "kiosk.ticket.kind.priority": ("绿色通道", "Priority"),
    "kiosk.ticket.kind.appointment": ("预约", "Appointment"),
    "kiosk.ticket.slot": ("预约时段 {slot}", "Booked slot {slot}"),
    "kiosk.ticket.late_slot": ("已过预约时段 {slot}，按普通号排队",
                               "Booked slot {slot} has passed: queued as a walk-in"),
    "kiosk.ticket.test": ("测试票 · 非有效号码", "TEST TICKET · not a valid number"),
    "kiosk.ticket.default_notice": ("请在休息区等候，留意大屏和语音叫号",
                                    "Please wait in the seating area and watch the screen"),
    "kiosk.noshow.void": ("过号作废：叫号时未到，本号失效，请重新取号",
                          "Missed call: if you are not there when called, "
                          "this number lapses; please take a new one"),
    "kiosk.noshow.requeue": ("过号可补：错过叫号请到窗口出示本票，将在 {n} 人之后重新排队"
                             "（最多 {times} 次）",
                             "Missed call: show this ticket at a window and you are "
                             "queued again after {n} people (at most {times} time(s))"),
    "kiosk.noshow.generic": ("错过叫号请到咨询台", "Missed your call? Please ask at the desk"),
    # --- priority classes (绿色通道) ---------------------------------------------
    "kiosk.priority.elderly": ("70岁以上老人", "Aged 70 or over"),
    "kiosk.priority.disabled": ("残疾人", "Person with a disability"),
    "kiosk.priority.military": ("军人 / 军属", "Military (by law)"),
    "kiosk.priority.pregnant": ("孕妇", "Pregnant"),
    "kiosk.priority.other": ("其他优先", "Other priority"),
    # --- screens ------------------------------------------------------------------
    "kiosk.title": ("自助取号", "Take a number"),
    "kiosk.start.prompt": ("请选择要办理的业务部门", "Choose a department"),
    "kiosk.start.appointment": ("预约签到", "Appointment check-in"),
    "kiosk.start.priority": ("绿色通道", "Priority lane"),
    "kiosk.start.large_text": ("大字模式", "Large text"),
    "kiosk.start.normal_text": ("标准字号", "Normal text"),
    "kiosk.start.language": ("English", "中文"),
    "kiosk.matters.prompt": ("请选择事项（可多选，一个号办多件事）",
                             "Choose matters (several allowed on one number)"),
    "kiosk.matters.back": ("返回部门", "Departments"),
    "kiosk.chosen.title": ("已选事项", "Chosen matters"),
    "kiosk.chosen.empty": ("尚未选择事项", "No matter chosen yet"),
    "kiosk.chosen.remove": ("移除", "Remove"),
    "kiosk.chosen.clear": ("全部清除", "Clear all"),
    "kiosk.chosen.priority": ("绿色通道：{label}", "Priority: {label}"),
    "kiosk.confirm": ("确认取号", "Take number"),
    "kiosk.cancel": ("取消", "Cancel"),
    "kiosk.issuing": ("正在取号，请稍候…", "Issuing your number, please wait…"),
    "kiosk.retry": ("重试", "Try again"),
    "kiosk.timeout": ("服务器未及时响应，请点“重试”（不会重复取号）",
                      "The server did not answer in time. Press “Try again” "
                      "(you will not get two numbers)"),
    "kiosk.priority.prompt": ("绿色通道：请选择优先类别，工作人员可能核验证件",
                              "Priority lane: choose your category; staff may check "
                              "your document"),
    "kiosk.priority.then": ("然后请选择要办理的事项", "Then choose your matters"),
    "kiosk.appointment.prompt": ("请输入或扫描预约码", "Type or scan your booking code"),
    "kiosk.appointment.submit": ("签到取号", "Check in"),
    "kiosk.appointment.clear": ("清除", "Clear"),
    "kiosk.appointment.empty": ("请先输入预约码", "Please enter the booking code"),
    "kiosk.shown.title": ("您的号码", "Your number"),
    "kiosk.shown.done": ("完成", "Done"),
    "kiosk.shown.printed": ("请取走号票", "Please take your ticket"),
    "kiosk.shown.printing": ("正在打印…", "Printing…"),
    "kiosk.shown.print_failed": ("打印机故障，请拍下此屏幕作为号票，工作人员已收到通知",
                                 "Printer problem: please photograph this screen as your "
                                 "ticket; staff have been told"),
    "kiosk.paused.title": ("暂停取号", "Ticket issuing paused"),
    "kiosk.paused.body": ("系统正在恢复连接，请稍候或咨询工作人员",
                          "Reconnecting to the server, please wait or ask the staff"),
    "kiosk.closed.body": ("今日已停止取号（{opening}–{closing}）",
                          "Issuing has stopped for today ({opening}–{closing})"),
    "kiosk.not_yet.body": ("{opening} 开始取号（{opening}–{closing}）",
                           "Ticket issuing starts at {opening} ({opening}–{closing})"),
    "kiosk.error": ("无法取号：{message}", "Could not issue: {message}"),
    "kiosk.loading": ("正在连接服务器…", "Connecting to the server…"),
    "kiosk.waiting_now": ("等候 {n} 人", "{n} waiting"),
    # --- 身份证 and QR readers -------------------------------------------------------
    "kiosk.start.card_hint": ("可刷身份证取号，预约市民可刷身份证或扫预约码签到",
                              "Take a number with your ID card; with a booking, tap the "
                              "card or scan the booking code"),
    "kiosk.card.looking": ("正在查询您今天的预约…", "Looking for your booking today…"),
    "kiosk.card.invalid": ("无法识别该证件，请重新刷卡，或点选业务取号",
                           "This card could not be read: please try again, or choose "
                           "your matters"),
    "kiosk.card.unavailable": ("本机暂不支持刷身份证，请点选业务取号",
                               "This kiosk does not take ID cards: please choose your "
                               "matters"),
    "kiosk.card.holder": ("身份证 {masked}", "ID card {masked}"),
    "kiosk.card.offer": ("您已年满 {age} 周岁，可使用绿色通道：{label}",
                         "You are {age} or over: you may use the priority lane ({label})"),
    "kiosk.card.use_priority": ("使用绿色通道", "Use the priority lane"),
    "kiosk.card.normal": ("普通取号", "Ordinary number"),
    "kiosk.card.go_on": ("继续取号", "Take a number"),
    "kiosk.shown.repeat": ("您今天已取过 {n} 个号", "You already took {n} number(s) today"),
    # --- device status messages sent to the supervisor ------------------------------
    "kiosk.reader.id_card": ("身份证阅读器", "ID card reader"),
    "kiosk.reader.qr": ("扫码器", "QR reader"),
    "kiosk.reader.ok": ("{reader}正常", "{reader} OK"),
    "kiosk.reader.failed": ("{reader}未连接", "{reader} not connected"),
    "kiosk.printer.ok": ("打印机正常", "Printer OK"),
    "kiosk.printer.failed": ("打印机故障：{error}", "Printer failure: {error}"),
}

i18n.register(MESSAGES)
