package listener

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// paho logs through package-level loggers. They are set once here, before
// any client goroutine exists (assigning them later would race with
// paho's readers), and forward to the logger of the running Service.
//
// Levels are one step down from paho's: its ERROR lines are connection
// events (refused, EOF, timeouts) that the daemons already log once per
// state change with the reason, and its WARN lines are routine ("memorystore
// wiped"). They stay available as detail at Info and Debug.
func init() {
	mqtt.CRITICAL = pahoLogger{slog.LevelError}
	mqtt.ERROR = pahoLogger{slog.LevelInfo}
	mqtt.WARN = pahoLogger{slog.LevelDebug}
}

// pahoLog is where paho's lines go; nil drops them.
var pahoLog atomic.Pointer[slog.Logger]

// pahoRepeat suppresses a line identical to the previous one for a while:
// paho logs each failed connect attempt, and a broker down for hours
// would otherwise fill the log with one line per retry.
const pahoRepeat = time.Minute

var pahoLast struct {
	sync.Mutex
	msg string
	at  time.Time
}

type pahoLogger struct{ level slog.Level }

func (p pahoLogger) Println(v ...any)               { p.log(fmt.Sprintln(v...)) }
func (p pahoLogger) Printf(format string, v ...any) { p.log(fmt.Sprintf(format, v...)) }

func (p pahoLogger) log(msg string) {
	l := pahoLog.Load()
	if l == nil || !l.Enabled(context.Background(), p.level) {
		return
	}
	msg = strings.TrimSpace(msg)
	level := p.level
	if strings.Contains(msg, "reconnection function is nil") {
		// paho says this on every lost connection when its own
		// reconnection is off, as ours is by design.
		level = slog.LevelDebug
		if !l.Enabled(context.Background(), level) {
			return
		}
	}
	pahoLast.Lock()
	if msg == pahoLast.msg && time.Since(pahoLast.at) < pahoRepeat {
		pahoLast.Unlock()
		return
	}
	pahoLast.msg, pahoLast.at = msg, time.Now()
	pahoLast.Unlock()
	l.Log(context.Background(), level, msg, slog.String("component", "paho"))
}
