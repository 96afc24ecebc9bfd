package testkit

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestMissing(t *testing.T) {
	for _, ci := range []string{"true", ""} {
		t.Run("CI="+ci, func(t *testing.T) {
			t.Setenv("CI", ci)
			f := &fatalT{TB: t}
			Missing(f, "frobnicator is not installed")
			switch {
			case ci == "true" && f.msg != "CI=true but frobnicator is not installed":
				t.Errorf("under CI=true: failure %q", f.msg)
			case ci == "" && (f.msg != "" || f.skip != "frobnicator is not installed"):
				t.Errorf("without CI: failure %q, skip %q", f.msg, f.skip)
			}
		})
	}
}

func TestTool(t *testing.T) {
	if p := Tool(t, "", "/no/such/tool", "no-such-tool-either", "sh"); !strings.HasSuffix(p, "/sh") {
		t.Errorf("Tool found %q, want sh", p)
	}
	t.Setenv("CI", "")
	f := &fatalT{TB: t}
	if p := Tool(f, "apt-get install frob", "/opt/frob/bin/frob", "frob"); p != "" || f.skip != "frob is not installed: apt-get install frob" {
		t.Errorf("Tool of a missing tool = %q, skip %q", p, f.skip)
	}
}

func TestPoll(t *testing.T) {
	var n atomic.Int32
	if !Poll(5*time.Second, func() bool { return n.Add(1) == 5 }) {
		t.Fatal("Poll gave up on a condition that holds at the fifth call")
	}
	start := time.Now()
	if Poll(30*time.Millisecond, func() bool { return false }) {
		t.Fatal("Poll reported a condition that never holds")
	}
	if d := time.Since(start); d < 30*time.Millisecond || d > 5*time.Second {
		t.Errorf("Poll gave up after %v, want about 30ms", d)
	}
	calls := 0
	Poll(0, func() bool { calls++; return false })
	if calls != 1 {
		t.Errorf("with no time, cond called %d times, want once", calls)
	}
}

// fatalT records Fatalf and Skip instead of ending the test.
type fatalT struct {
	testing.TB
	msg, skip string
}

func (f *fatalT) Helper()                        {}
func (f *fatalT) Fatalf(format string, a ...any) { f.msg = fmt.Sprintf(format, a...) }
func (f *fatalT) Skip(a ...any)                  { f.skip = fmt.Sprint(a...) }

func TestEventually(t *testing.T) {
	f := &fatalT{TB: t}
	Eventually(f, time.Second, "nothing", func() bool { return true })
	if f.msg != "" {
		t.Errorf("a condition that holds failed: %s", f.msg)
	}
	Eventually(f, 10*time.Millisecond, "the impossible", func() bool { return false })
	if !strings.Contains(f.msg, "the impossible") {
		t.Errorf("failure %q does not say what was awaited", f.msg)
	}
}

func TestBuffer(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() { fmt.Fprintf(&b, "%d\n", i) })
	}
	wg.Wait()
	if n := strings.Count(b.String(), "\n"); n != 10 {
		t.Errorf("%d lines, want 10: %q", n, b.String())
	}
}

func TestLogs(t *testing.T) {
	var logs *Logs
	var log *slog.Logger
	t.Run("inner", func(t *testing.T) {
		log, logs = NewLogger(t, slog.LevelInfo)
		log.Info("connected", "broker", "a")
		log.Warn("connected", "broker", "b")
		log.Debug("connected", "broker", "c") // below the level
	})
	log.Info("after the test") // kept, not shown: t.Log would panic
	cases := []struct {
		parts []string
		want  int
	}{
		{[]string{"connected"}, 2},
		{[]string{"connected", "broker=b"}, 1},
		{[]string{"level=WARN"}, 1},
		{[]string{"broker=c"}, 0},
		{[]string{"after the test"}, 1},
		{nil, 3},
	}
	for _, c := range cases {
		if got := logs.Count(c.parts...); got != c.want {
			t.Errorf("Count(%q) = %d, want %d", c.parts, got, c.want)
		}
	}
}

func TestPostAndCallBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		c, _ := r.Cookie("session_id")
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "%s %s %v %s", r.Method, r.Header.Get("Content-Type"), c != nil && c.Value == "abc", body)
	}))
	defer srv.Close()
	resp, body := Post(t, srv.URL, "application/json", CallBody(t, map[string]any{"a": 1}), &http.Cookie{Name: "session_id", Value: "abc"})
	if resp.StatusCode != 200 || !strings.HasPrefix(string(body), "POST application/json true {") {
		t.Fatalf("answer %d %s", resp.StatusCode, body)
	}
	var call map[string]any
	if err := json.Unmarshal(body[strings.IndexByte(string(body), '{'):], &call); err != nil {
		t.Fatal(err)
	}
	if call["jsonrpc"] != "2.0" || call["method"] != "call" || call["id"] != 1.0 || fmt.Sprint(call["params"]) != "map[a:1]" {
		t.Errorf("call body %v", call)
	}
	_, body = Post(t, srv.URL, "", nil)
	if string(body) != "POST  false " {
		t.Errorf("without content type and cookies: %q", body)
	}
}
