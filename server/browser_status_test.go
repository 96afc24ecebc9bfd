package main

import (
	"fmt"
	"os"
	"slices"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
)

// ownerCell is what the Service page shows of a broker's owner.
type ownerCell struct {
	Text string `json:"text"` // "host:pid", " (this instance)" on the owner, then "since ..."
	ID   string `json:"id"`
	Self string `json:"self"`
}

// instanceRow is one row of the Service page's Instances table.
type instanceRow struct {
	ID      string `json:"id"`
	Self    string `json:"self"`
	Host    string `json:"host"`
	PID     string `json:"pid"`
	Brokers string `json:"brokers"`
}

// readOwner reads the owner cell of a broker's row in the listener table.
func readOwner(t *testing.T, b *browser, broker int64) ownerCell {
	t.Helper()
	var c ownerCell
	b.run(t, fmt.Sprint("read the owner of broker ", broker), chromedp.Evaluate(fmt.Sprintf(`(() => {
		const td = document.querySelector('tr[data-testid=listener-row][data-broker-id="%d"] td[data-field=owner]');
		return td ? { text: td.textContent, id: td.dataset.ownerId || "", self: td.dataset.self || "" } : { text: "", id: "", self: "" };
	})()`, broker), &c))
	return c
}

// readInstances reads the Instances table.
func readInstances(t *testing.T, b *browser) []instanceRow {
	t.Helper()
	var rows []instanceRow
	b.run(t, "read the instances", chromedp.Evaluate(`[...document.querySelectorAll("tr[data-testid=instance-row]")].map((tr) => ({
		id: tr.dataset.instanceId, self: tr.dataset.self, host: tr.querySelector("td[data-field=host]").textContent,
		pid: tr.querySelector("td[data-field=pid]").textContent, brokers: tr.querySelector("td[data-field=brokers]").textContent }))`, &rows))
	return rows
}

// openService opens the Service page and waits for the broker's row in
// state and the instances table with n rows.
func openService(t *testing.T, b *browser, base string, broker int64, state string, n int) {
	t.Helper()
	b.run(t, "open the Service page",
		chromedp.Navigate(base+"/web#/service"),
		chromedp.WaitVisible(fmt.Sprintf(`tr[data-testid=listener-row][data-broker-id="%d"][data-state=%s]`, broker, state), chromedp.ByQuery),
		until(fmt.Sprintf(`document.querySelectorAll("tr[data-testid=instance-row]").length === %d`, n)))
}

// TestBrowserServiceStatus: alone (SQLite), the Service page's listener
// table shows the connected broker owned by this very server (its
// host:pid) and the Instances table the server alone, running it.
func TestBrowserServiceStatus(t *testing.T) {
	e := startAdmin(t, 1280, 900)
	b, o := e.b, e.o
	broker := o.create("mqtt.broker", map[string]any{"name": "Plant", "host": "127.0.0.1", "port": fmt.Sprint(e.mq.Port()), "client_id": "status-plant"})
	o.call("mqtt.service", "start_mqtt_service", nil, nil)
	e.logIn(t, "")
	openService(t, b, e.srv.url(), broker, "connected", 1)

	host, _ := os.Hostname()
	pid := e.srv.cmd.Process.Pid
	want := fmt.Sprintf("%s:%d (this instance)", host, pid)
	if c := readOwner(t, b, broker); c.Self != "true" || c.ID != "0" || len(c.Text) < len(want) || c.Text[:len(want)] != want {
		t.Errorf("owner cell %+v, want %q, self, id 0", c, want)
	}
	rows := readInstances(t, b)
	if want := []instanceRow{{ID: "0", Self: "true", Host: host, PID: fmt.Sprint(pid), Brokers: "1"}}; !slices.Equal(rows, want) {
		t.Errorf("instances %+v, want %+v", rows, want)
	}
	b.screenshot(t, "browser-service-status")
	noPageErrors(t, b)
}

// TestBrowserClusterStatus: two servers on one PostgreSQL database own
// a broker each; the Service page of either shows both owners (the
// other's host:pid, its own marked) and both instances, one broker each.
func TestBrowserClusterStatus(t *testing.T) {
	chromiumPath(t)
	dsn := modelstest.DSN(t, "postgres") // fails under CI=true without PostgreSQL
	mq := startMosquitto(t)
	srvs := []*serverProc{
		startServer(t, "--db", dsn, "--db-name", "e2e", "--admin-password", browserPW),
		startServer(t, "--db", dsn, "--db-name", "e2e", "--admin-password", browserPW),
	}
	o := login(t, srvs[0], "e2e", browserPW)
	var brokers []int64
	for i := range 2 {
		brokers = append(brokers, o.create("mqtt.broker", map[string]any{"name": fmt.Sprint("Plant ", i), "host": "127.0.0.1",
			"port": fmt.Sprint(mq.Port()), "client_id": fmt.Sprint("cluster-plant-", i)}))
	}
	o.call("mqtt.service", "start_mqtt_service", nil, nil)
	host, _ := os.Hostname()
	pids := map[string]bool{}
	for _, s := range srvs {
		pids[fmt.Sprintf("%s:%d", host, s.cmd.Process.Pid)] = true
	}

	for i, s := range srvs {
		e := &adminEnv{srv: s, mq: mq, o: login(t, s, "e2e", browserPW), b: newBrowser(t, 1280, 900)}
		e.logIn(t, "")
		for _, broker := range brokers {
			openService(t, e.b, s.url(), broker, "connected", 2)
		}
		// Once spread, one broker each: the page shows each owner, this
		// server's marked, the other's by its host:pid.
		b := e.b
		b.run(t, "wait for one broker per instance", until(`(() => {
			const rows = [...document.querySelectorAll("tr[data-testid=instance-row] td[data-field=brokers]")];
			return rows.length === 2 && rows.every((td) => td.textContent === "1");
		})()`))
		mine := fmt.Sprintf("%s:%d", host, s.cmd.Process.Pid)
		selfs := 0
		for _, broker := range brokers {
			c := readOwner(t, b, broker)
			owner := ""
			for p := range pids {
				if len(c.Text) >= len(p) && c.Text[:len(p)] == p {
					owner = p
				}
			}
			if owner == "" || (owner == mine) != (c.Self == "true") {
				t.Errorf("server %d: owner of broker %d %+v, want one of %v, self iff %s", i, broker, c, pids, mine)
			}
			if c.Self == "true" {
				selfs++
			}
		}
		if selfs != 1 {
			t.Errorf("server %d owns %d brokers on its page, want 1", i, selfs)
		}
		rows := readInstances(t, b)
		if len(rows) != 2 {
			t.Fatalf("server %d: instances %+v", i, rows)
		}
		for _, r := range rows {
			if !pids[r.Host+":"+r.PID] || (r.Host+":"+r.PID == mine) != (r.Self == "true") || r.Brokers != "1" {
				t.Errorf("server %d: instance row %+v", i, r)
			}
		}
		b.screenshot(t, fmt.Sprint("browser-cluster-status-", i))
		noPageErrors(t, b)
	}
}
