"""Every visible text of the hall board and the window screen: key -> (中文, English)."""

from __future__ import annotations

from queue_common import i18n

MESSAGES: dict[str, tuple[str, str]] = {
    # Hall board
    "board.call": ("请 {number} 号 到 {counter} 号窗口", "No. {number}  to window {counter}"),
    "board.call_portrait": ("请 {number} 号\n到 {counter} 号窗口", "No. {number}\nto window {counter}"),
    "board.recall_tag": ("重呼", "Recall"),
    "board.no_call": ("请取号后在休息区等候叫号", "Please take a ticket and wait to be called"),
    "board.col_counter": ("窗口", "Window"),
    "board.col_ticket": ("当前号码", "Ticket"),
    "board.col_state": ("状态", "Status"),
    "board.counter_cell": ("{number}号", "{number}"),
    "board.recent_title": ("最近呼叫", "Recent calls"),
    "board.to_counter": ("{counter}号窗口", "Window {counter}"),
    "board.recent_none": ("暂无呼叫", "No calls yet"),
    "board.waiting_title": ("等候人数", "Waiting"),
    "board.waiting_total": ("共 {count} 人等候", "Total: {count}"),
    "board.waiting_group": ("{name}", "{name}"),
    "board.offline": ("● 连接中断，正在重新连接…", "● Offline, reconnecting…"),
    "board.connecting": ("● 正在连接服务器…", "● Connecting to the server…"),
    "board.hall_closed": ("今日已停止取号", "Ticket issuing has ended for today"),
    "board.not_yet": ("{opening} 开始取号", "Ticket issuing starts at {opening}"),
    "board.date": ("{y}年{m}月{d}日", "{y}-{m:02d}-{d:02d}"),
    # Counter states as citizens read them
    "state.calling": ("呼叫中", "Calling"),
    "state.serving": ("办理中", "Serving"),
    "state.idle": ("空闲", "Available"),
    "state.paused": ("暂停服务", "Paused"),
    "state.closed": ("未开放", "Closed"),
    "pause.lunch": ("午间休息", "Lunch break"),
    "pause.meeting": ("会议", "Meeting"),
    "pause.system": ("系统维护", "Maintenance"),
    "pause.other": ("暂停", "Paused"),
    # Weekdays, Monday first (datetime.weekday())
    "weekday.0": ("星期一", "Monday"),
    "weekday.1": ("星期二", "Tuesday"),
    "weekday.2": ("星期三", "Wednesday"),
    "weekday.3": ("星期四", "Thursday"),
    "weekday.4": ("星期五", "Friday"),
    "weekday.5": ("星期六", "Saturday"),
    "weekday.6": ("星期日", "Sunday"),
    # Window screen (above each window)
    "counter.title": ("{number}号窗口", "Window {number}"),
    "counter.calling": ("请 {number} 号到本窗口办理", "No. {number}, please come to this window"),
    "counter.welcome": ("欢迎光临", "Welcome"),
    "counter.serving": ("正在办理", "Now serving"),
    "counter.idle": ("欢迎办理 · 请留意叫号", "Welcome · please wait for your call"),
    "counter.paused": ("请到其他窗口办理", "Please use another window"),
    "counter.closed": ("本窗口暂未开放", "This window is closed"),
    "counter.clerk": ("工号 {badge}  {name}", "Clerk {badge}  {name}"),
    "counter.unknown": ("本大厅没有 {number} 号窗口", "This hall has no window {number}"),
    # Command line and start-up errors ("中文 / English" on stderr)
    "app.description": ("大厅综合屏与窗口屏（含语音叫号）",
                        "Hall board and window screens with voice calls"),
    "app.connect_failed": ("无法连接服务器：{error}", "Cannot connect to the server: {error}"),
    "app.no_key": ("本机没有设备 {device} 的密钥（在服务器上运行 queue-server device add {device} "
                   "--role board，把密钥复制到 --data 目录）：{error}",
                   "No key for device {device} on this PC (run queue-server device add "
                   "{device} --role board on the server and copy the key into --data): "
                   "{error}"),
    "app.say_to_args": ("--say-to 需要 --number 和 --counter",
                        "--say-to needs --number and --counter"),
    "app.say_to_done": ("已写入 {path}（{seconds:.1f} 秒）", "Wrote {path} ({seconds:.1f} s)"),
    "app.bad_geometry": ("--geometry 格式应为 宽x高+X+Y", "--geometry must look like WxH+X+Y"),
}

i18n.register(MESSAGES)
