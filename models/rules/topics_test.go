package rules

import (
	"strconv"
	"testing"
	"time"
)

// testRule is a message rule "seq > threshold" on t/#.
func testRule(t *testing.T, id int64, threshold float64) *rule {
	t.Helper()
	p, err := parsePath("seq")
	if err != nil {
		t.Fatal(err)
	}
	text := strconv.FormatFloat(threshold, 'f', -1, 64)
	return &rule{id: id, trigger: TriggerMessage, filter: "t/#", path: p,
		cond: condition{op: OpGT, text: text, num: threshold, isNum: true}}
}

func stepValue(ru *rule, topic string, n float64) bool {
	return ru.cls.step(ru, &trigger{topic: topic, value: textValue(strconv.FormatFloat(n, 'f', -1, 64)), at: time.Now()})
}

// A class at MaxTopicStates forgets its topics on a new one; the other
// classes of its table keep theirs.
func TestTopicTableBound(t *testing.T) {
	a, b := testRule(t, 1, 10), testRule(t, 2, 20)
	assignClasses([]*rule{a, b}, nil)
	if a.cls.tab != b.cls.tab || a.cls == b.cls {
		t.Fatalf("rules of one group, distinct thresholds: want two classes in one table")
	}
	for i := range MaxTopicStates {
		stepValue(a, "t/"+strconv.Itoa(i), 5)
	}
	stepValue(b, "t/0", 5) // armed
	stepValue(a, "t/new", 5)
	if a.cls.n != 1 || a.cls.stateOf("t/1").seen || !a.cls.stateOf("t/new").seen {
		t.Errorf("class at its bound, new topic: has %d topics, t/1 %+v, t/new %+v; want only t/new", a.cls.n, a.cls.stateOf("t/1"), a.cls.stateOf("t/new"))
	}
	if got := len(a.cls.tab.topics); got != 2 {
		t.Errorf("table keeps %d topics, want 2 (t/0 for the other class, t/new)", got)
	}
	if !stepValue(b, "t/0", 25) {
		t.Errorf("the other class lost its state on t/0: 25 after 5 does not fire \"> 20\"")
	}
}

// A reload frees the slots of the classes it drops: a class taking one
// starts empty, and the dropped class steps nothing.
func TestTopicTableRelease(t *testing.T) {
	r1, r2 := testRule(t, 1, 10), testRule(t, 2, 20)
	assignClasses([]*rule{r1, r2}, nil)
	stepValue(r1, "t/x", 5)
	stepValue(r2, "t/x", 5)
	old := r1.cls
	keep := map[int64]*rule{2: r2}
	r3 := testRule(t, 3, 30)
	assignClasses([]*rule{r3}, keep)
	keep[3] = r3
	releaseDropped(keep)
	if !old.dead {
		t.Fatal("the dropped class is not dead")
	}
	if r3.cls.tab != r2.cls.tab {
		t.Fatal("the new rule's class is not in its group's table")
	}
	r4 := testRule(t, 4, 40)
	assignClasses([]*rule{r4}, keep)
	if r4.cls.slot != old.slot || !r4.cls.empty() || r4.cls.stateOf("t/x").seen {
		t.Errorf("a class taking the freed slot %d: slot %d, empty %t, state %+v; want it, empty", old.slot, r4.cls.slot, r4.cls.empty(), r4.cls.stateOf("t/x"))
	}
	if stepValue(r1, "t/x", 50) {
		t.Error("the dropped rule fired")
	}
	if stepValue(r4, "t/x", 50) {
		t.Error("the class taking the freed slot fired on its first value")
	}
	if !stepValue(r2, "t/x", 50) {
		t.Error("the kept rule lost its state")
	}
}

// A group's step (one lookup for all its classes) fires what stepping
// each class alone does, retained messages and other paths included.
func TestGroupStepAsAlone(t *testing.T) {
	build := func() ([]*rule, *filterGroup) {
		var list []*rule
		for i, th := range []float64{10, 20, 20, 30} {
			list = append(list, testRule(t, int64(i+1), th))
		}
		other, err := parsePath("v")
		if err != nil {
			t.Fatal(err)
		}
		changed := &rule{id: 5, trigger: TriggerMessage, filter: "t/#", path: other, cond: condition{op: OpChanged}}
		list = append(list, changed)
		assignClasses(list, nil)
		g := &filterGroup{filter: "t/#"}
		for _, ru := range list {
			g.add(ru)
		}
		return list, g
	}
	msgs := []Message{
		{Topic: "t/a", Payload: []byte(`{"seq": 15, "v": 1}`), Retained: true},
		{Topic: "t/a", Payload: []byte(`{"seq": 5, "v": 1}`)},
		{Topic: "t/a", Payload: []byte(`{"seq": 12, "v": 1}`), Retained: true}, // past "> 10": disarms it, fires nothing
		{Topic: "t/b", Payload: []byte(`{"seq": 25, "v": 2}`)},
		{Topic: "t/a", Payload: []byte(`{"seq": 35, "v": 2}`)},
		{Topic: "t/b", Payload: []byte(`{"seq": 35, "v": 3}`)},
		{Topic: "t/a", Payload: []byte(`{"seq": 5, "v": 3}`), Retained: true},
		{Topic: "t/a", Payload: []byte(`{"seq": 25}`)},
	}
	grouped, g := build()
	if grouped[1].cls != grouped[2].cls || grouped[0].cls == grouped[1].cls {
		t.Fatal("want rules 2 and 3 (same threshold) in one class, rule 1 in another")
	}
	alone, _ := build()
	at := time.Now()
	var fired []firing
	for i := range msgs {
		m := &msgs[i]
		var d doc
		fired = g.step(&d, 1, m, at, fired[:0])
		got := map[int64]bool{}
		for _, f := range fired {
			for _, ru := range f.cr.rules {
				got[ru.id] = true
			}
		}
		stepped := map[*stateClass]bool{} // rules 2 and 3 share a class: stepped once
		for _, ru := range alone {
			want, done := stepped[ru.cls]
			if !done {
				var d doc
				v, ok := d.extract(ru.path, m.Payload)
				want = ok && ru.cls.step(ru, &trigger{topic: m.Topic, value: v, at: at, stateOnly: m.Retained})
				stepped[ru.cls] = want
			}
			if got[ru.id] != want {
				t.Errorf("message %d, rule %d: fired %t in its group, %t alone", i, ru.id, got[ru.id], want)
			}
		}
	}
}
