package cluster

import (
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testmqtt"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
	mqttmodel "github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// odooDatetime is Odoo's datetime format, as the RPC sends it.
var odooDatetime = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$`)

// statusRow is one row of get_listener_status as the test compares it.
type statusRow struct {
	state     string
	owner     int64 // 0: owner false
	pid       int64
	self      bool
	hostSince bool // host "test" and since an Odoo datetime
}

func listenerStatus(in *instance) map[int64]statusRow {
	out := map[int64]statusRow{}
	for _, r := range in.call("mqtt.service", "get_listener_status").([]any) {
		d := r.(*models.Dict)
		b, _ := d.Get("broker_id")
		state, _ := d.Get("state")
		row := statusRow{state: state.(string)}
		if o, ok := d.Get("owner"); ok && o != false {
			od := o.(*models.Dict)
			id, _ := od.Get("id")
			pid, _ := od.Get("pid")
			self, _ := od.Get("self")
			host, _ := od.Get("host")
			since, _ := od.Get("since")
			s, _ := since.(string)
			row.owner, row.pid, row.self, row.hostSince = id.(int64), pid.(int64), self.(bool), host == "test" && odooDatetime.MatchString(s)
		}
		out[b.([]any)[0].(int64)] = row
	}
	return out
}

// TestStatusSameEverywhere: two instances running one broker each answer
// get_listener_status alike (each broker connected, with its owner, self
// only on the owner), and get_instances lists both with one broker each;
// a broker no instance runs (the service stopped) is listed as stopped.
func TestStatusSameEverywhere(t *testing.T) {
	modelstest.CheckLeaks(t)
	mq := testmqtt.Start(t, testmqtt.Options{})
	dsn := pgDSN(t)
	a, b := openInstance(t, dsn), openInstance(t, dsn)
	var ids []int64
	for i := range 2 {
		name := fmt.Sprint("plant-", i)
		ids = append(ids, a.call("mqtt.broker", "create", map[string]any{"name": name, "host": "127.0.0.1", "port": fmt.Sprint(mq.Port()),
			"client_id": name, "connect_timeout": int64(3), "reconnect_initial": 0.2, "reconnect_max": 1.0}).(int64))
	}
	ca := a.runWithCoordinator(dsn, 301)
	cb := b.runWithCoordinator(dsn, 302)
	a.call("mqtt.service", "start_mqtt_service")
	cs := []*Coordinator{ca, cb}
	testkit.Eventually(t, 20*time.Second, "one broker each", func() bool { return spread(cs, ids, map[int]int{0: 1, 1: 1}) })

	owner := func(id int64) (*Coordinator, int64) {
		if ca.Owns(id) {
			return ca, 301
		}
		return cb, 302
	}
	want := func(in *instance, c *Coordinator) map[int64]statusRow {
		out := map[int64]statusRow{}
		for _, id := range ids {
			o, pid := owner(id)
			out[id] = statusRow{state: mqttmodel.StateConnected, owner: o.Self().ID, pid: pid, self: o == c, hostSince: true}
		}
		return out
	}
	for i, in := range []*instance{a, b} {
		var got map[int64]statusRow
		ok := testkit.Poll(20*time.Second, func() bool {
			got = listenerStatus(in)
			return fmt.Sprint(got) == fmt.Sprint(want(in, cs[i]))
		})
		if !ok {
			t.Errorf("instance %d: get_listener_status %v, want %v", i, got, want(in, cs[i]))
		}
		instances := in.call("mqtt.service", "get_instances").([]any)
		if len(instances) != 2 {
			t.Fatalf("instance %d: get_instances %v", i, instances)
		}
		for _, r := range instances {
			d := r.(*models.Dict)
			id, _ := d.Get("id")
			self, _ := d.Get("self")
			brokers, _ := d.Get("brokers")
			started, _ := d.Get("started")
			beat, _ := d.Get("heartbeat")
			s, _ := started.(string)
			h, _ := beat.(string)
			if self != (id == cs[i].Self().ID) || brokers != int64(1) || !odooDatetime.MatchString(s) || !odooDatetime.MatchString(h) {
				t.Errorf("instance %d: get_instances row %v", i, d)
			}
		}
	}

	a.call("mqtt.service", "stop_mqtt_service")
	for i, in := range []*instance{a, b} {
		var got map[int64]statusRow
		ok := testkit.Poll(20*time.Second, func() bool {
			got = listenerStatus(in)
			return len(got) == 2 && got[ids[0]].state == mqttmodel.StateStopped && got[ids[1]].state == mqttmodel.StateStopped
		})
		if !ok {
			t.Errorf("instance %d after the stop: %v", i, got)
		}
	}
}
