"""Hall board (综合屏), window screens (窗口屏) and the voice that calls numbers.

app           the `display-board` command line
board_app     one screen's wiring: connection mirror -> view, calls -> announcer, health
board_model   what the screens show, derived from the mirrored hall state (pure)
canvas_view   what both screens share: scaled Canvas, flash and clock timers, offline
hall_board    the hall board view (Canvas, 1920x1080 / portrait design, scaled)
counter_screen  one window's screen
layout        design-to-screen scaling and the fonts
announcer     the call queue and its single speech worker
voice         pyttsx3 used safely (one engine thread), voice choice, --say-to
speech_text   how a call is worded for the voice (A012 -> A 零一二, 12 -> 十二)
audio         chime, WAV joining, playback
settings      [announce] / [board] from the hall and this PC's config.toml
messages      every visible text, zh and en
sample_state  a realistic hall for --preview and the view tests
"""
