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
    "board.voice_fault": ("● 语音故障", "● Voice failed"),
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
    # record-voice / check-voice (terminal)
    "voice.rec.say": ("[{i}/{n}] 请说：{text}", "[{i}/{n}] Say: {text}"),
    "voice.rec.ready": ("回车开始录音（说完停顿即自动结束），s 跳过，q 退出：",
                        "Enter to record (stops when you pause), s to skip, q to quit: "),
    "voice.rec.ready_run": ("回车开始录音，依次读出以上各段，每段之间稍停（约半秒），读完停顿即结束；"
                            "s 跳过，q 退出：",
                            "Enter to record: say each of these in turn with a short pause "
                            "(half a second) between them, then stop; s to skip, q to quit: "),
    "voice.rec.not_split": ("没能分出 {n} 段：请每段之间停顿稍长一些，不要漏读",
                            "Could not cut the take into {n} clips: pause a little longer "
                            "between them and leave none out"),
    "voice.rec.again": ("回车重录，q 退出：", "Enter to record again, q to quit: "),
    "voice.rec.keep": ("回车保存，r 重录，p 再听一遍，s 跳过，q 退出：",
                       "Enter to keep, r to record again, p to play again, s to skip, "
                       "q to quit: "),
    "voice.rec.mic_failed": ("麦克风不可用：{error}", "The microphone failed: {error}"),
    "voice.rec.done": ("本次录制 {recorded} 段，还差 {left} 段。语音包：{path}",
                       "Recorded {recorded} clips this time, {left} still to do. Pack: {path}"),
    "voice.problem.missing": ("缺少：{text}（{detail}）", "missing: {text} ({detail})"),
    "voice.problem.unreadable": ("无法读取：{text}（{detail}）", "unreadable: {text} ({detail})"),
    "voice.problem.silent": ("无声：{text}（{detail}）", "silent: {text} ({detail})"),
    "voice.problem.too_quiet": ("太轻（请靠近麦克风）：{text}（{detail}）",
                                "too quiet (speak closer to the microphone): {text} ({detail})"),
    "voice.problem.clipped": ("削波失真（请离麦克风远一点或调低增益）：{text}（{detail}）",
                              "clipped (move back or turn the gain down): {text} ({detail})"),
    "voice.problem.not_covered": ("语音包缺少“{text}”，例如 {detail} 将由语音合成播报",
                                  "the pack lacks \"{text}\": e.g. {detail} will be said "
                                  "by the speech engine"),
    "voice.check.ok": ("语音包 {path}：{count} 段，全部可用", "Pack {path}: {count} clips, all usable"),
    "voice.check.bad": ("语音包 {path}：{count} 段，发现 {problems} 个问题",
                        "Pack {path}: {count} clips, {problems} problems found"),
    "voice.bad_pack": ("语音包不可用：{error}", "The voice pack cannot be used: {error}"),
    "app.bad_geometry": ("--geometry 格式应为 宽x高+X+Y", "--geometry must look like WxH+X+Y"),
}

i18n.register(MESSAGES)
