package benchproc

// The server's own view of a run, from its Prometheus /metrics: it
// explains a figure (one row per commit, say); it never decides the
// outcome.

import (
	"bufio"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ScrapeMetrics reads the server's /metrics at base into name → value,
// summed over labels, without the odoo_iot_mqtt_ prefix; nil when the
// server has no /metrics or does not answer.
func ScrapeMetrics(base string) map[string]float64 {
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(base + "/metrics")
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, resp.Body) // lets the connection be reused
		return nil
	}
	values := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		name, _, _ := strings.Cut(f[0], "{")
		if v, err := strconv.ParseFloat(f[1], 64); err == nil {
			values[strings.TrimPrefix(name, "odoo_iot_mqtt_")] += v
		}
	}
	return values
}
