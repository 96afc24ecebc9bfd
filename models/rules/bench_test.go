package rules_test

import (
	"strconv"
	"testing"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/rules"
)

// BenchmarkEvaluate is the engine's cost per message with 100 active
// rules matching every message, none firing (the listener bench's
// rules case: identical rules, which share their state): go test -run -
// -bench Evaluate ./models/rules/
func BenchmarkEvaluate(b *testing.B) {
	for _, distinct := range []bool{false, true} {
		for _, topics := range []int{10, 1000} {
			name := "identical"
			if distinct {
				name = "distinct-thresholds"
			}
			b.Run(name+"/topics="+strconv.Itoa(topics), func(b *testing.B) { benchmarkEvaluate(b, distinct, topics) })
		}
	}
}

// benchmarkEvaluate: 100 rules matching every message, none firing; with
// distinct, each has a threshold of its own (no state to share).
func benchmarkEvaluate(b *testing.B, distinct bool, topics int) {
	a := newBenchApp(b)
	for i := range 100 {
		value := "999999999999"
		if distinct {
			value = strconv.Itoa(999999999000 + i)
		}
		a.rule(map[string]any{"topic_filter": "bench/sensor/#", "json_path": "seq", "operator": ">", "value": value,
			"action_topic": "sink/x", "action_payload": "{payload}"})
	}
	msgs := make([]rules.Message, max(100, topics))
	for i := range msgs {
		msgs[i] = msg("bench/sensor/"+strconv.Itoa(i%topics), `{"seq": `+strconv.Itoa(i)+`, "value": 21.5}`)
	}
	b.ResetTimer()
	for range b.N {
		a.send(msgs...)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(msgs)), "ns/msg")
}
