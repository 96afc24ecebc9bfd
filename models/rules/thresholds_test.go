package rules

import (
	"fmt"
	"math"
	"math/rand"
	"slices"
	"strconv"
	"testing"
	"time"
)

// ruleSpec is a random message rule, built twice: for the group step
// with its unchanged check and for the one stepping every class.
type ruleSpec struct {
	id       int64
	path     string
	op       string
	num      float64
	hyst     float64
	cooldown time.Duration
}

func (s ruleSpec) build(t *testing.T) *rule {
	t.Helper()
	p, err := parsePath(s.path)
	if err != nil {
		t.Fatal(err)
	}
	text := strconv.FormatFloat(s.num, 'f', -1, 64)
	return &rule{id: s.id, trigger: TriggerMessage, filter: "t/#", path: p, cooldown: s.cooldown,
		cond: condition{op: s.op, text: text, num: s.num, isNum: true, hyst: s.hyst}}
}

func randomSpec(r *rand.Rand, id int64) ruleSpec {
	ops := []string{OpGT, OpGE, OpLT, OpLE, OpGT, OpGE, OpLT, OpLE, OpChanged, OpEQ}
	s := ruleSpec{id: id, path: "seq", op: ops[r.Intn(len(ops))], num: float64(r.Intn(9)),
		hyst: []float64{0, 0, 0.5, 1, 2}[r.Intn(5)]}
	if r.Intn(5) == 0 {
		s.path = "v"
	}
	if r.Intn(4) == 0 {
		s.cooldown = time.Duration(1+r.Intn(3)) * time.Second
	}
	return s
}

// randomPayload is a value on seq (and on v), mostly numbers near the
// thresholds (halves: on a threshold and between), sometimes text or
// missing.
func randomPayload(r *rand.Rand) []byte {
	val := func() string {
		switch r.Intn(12) {
		case 0:
			return `"high"`
		case 1:
			return `null`
		}
		return strconv.FormatFloat(float64(r.Intn(25)-3)/2, 'f', -1, 64)
	}
	switch r.Intn(10) {
	case 0:
		return []byte(`{"v": ` + val() + `}`)
	case 1:
		return []byte(`not json`)
	}
	return []byte(`{"seq": ` + val() + `, "v": ` + val() + `}`)
}

// ruleSet is one copy of the random rules and their filter group.
type ruleSet struct {
	rules map[int64]*rule
	g     *filterGroup
}

// reload makes specs the set's rules: those already there (same id) are
// kept with their state, the others are new (assignClasses, then the
// group rebuilt and the dropped classes released, as engine.index does).
func (rs *ruleSet) reload(t *testing.T, specs []ruleSpec, slow bool) {
	keep, next := map[int64]*rule{}, map[int64]*rule{}
	var fresh []*rule
	for _, s := range specs {
		if ru := rs.rules[s.id]; ru != nil {
			keep[s.id], next[s.id] = ru, ru
			continue
		}
		ru := s.build(t)
		fresh, next[s.id] = append(fresh, ru), ru
	}
	assignClasses(fresh, keep)
	list := make([]*rule, 0, len(next))
	for _, ru := range next {
		list = append(list, ru)
	}
	sortRules(list)
	rs.rules, rs.g = next, &filterGroup{filter: "t/#", slow: slow}
	for _, ru := range list {
		rs.g.add(ru)
	}
	releaseDropped(next)
}

// fired are the ids of the rules a group step fires, sorted.
func firedIDs(fs []firing) []int64 {
	var ids []int64
	for _, f := range fs {
		for _, ru := range f.cr.rules {
			ids = append(ids, ru.id)
		}
	}
	slices.Sort(ids)
	return ids
}

// The group step that skips the threshold classes a value leaves as they
// are fires and keeps what stepping every class does: random rule sets
// (thresholds of every operator, hysteresis, cooldown, shared classes,
// other operators and paths), random values on several topics (retained,
// text, missing), reloads that keep, add and drop rules.
func TestGroupStepUnchangedDifferential(t *testing.T) {
	topics := []string{"t/a", "t/b", "t/c", "t/d"}
	for seed := int64(1); seed <= 60; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			r := rand.New(rand.NewSource(seed))
			nextID := int64(1)
			var specs []ruleSpec
			for range 1 + r.Intn(40) {
				specs = append(specs, randomSpec(r, nextID))
				nextID++
			}
			fast, ref := &ruleSet{}, &ruleSet{}
			fast.reload(t, specs, false)
			ref.reload(t, specs, true)
			at := time.Unix(1_700_000_000, 0)
			for i := range 300 {
				if r.Intn(100) == 0 {
					// A reload: drop some rules, add some.
					var kept []ruleSpec
					for _, s := range specs {
						if r.Intn(4) != 0 {
							kept = append(kept, s)
						}
					}
					for range r.Intn(8) {
						kept = append(kept, randomSpec(r, nextID))
						nextID++
					}
					specs = kept
					fast.reload(t, specs, false)
					ref.reload(t, specs, true)
				}
				at = at.Add(time.Duration(r.Intn(2000)) * time.Millisecond)
				m := &Message{Topic: topics[r.Intn(len(topics))], Payload: randomPayload(r), Retained: r.Intn(8) == 0}
				var df, dr doc
				got := firedIDs(fast.g.step(&df, 1, m, at, nil))
				want := firedIDs(ref.g.step(&dr, 1, m, at, nil))
				if !slices.Equal(got, want) {
					t.Fatalf("message %d %s %s retained %t: fires %v, stepping every class %v", i, m.Topic, m.Payload, m.Retained, got, want)
				}
				for _, s := range specs {
					for _, topic := range topics {
						if g, w := fast.rules[s.id].cls.stateOf(topic), ref.rules[s.id].cls.stateOf(topic); g != w {
							t.Fatalf("message %d %s %s retained %t: rule %+v on %s has %+v, stepping every class %+v",
								i, m.Topic, m.Payload, m.Retained, s, topic, g, w)
						}
					}
				}
			}
		})
	}
}

// A run's interval, narrowed by one class, holds exactly the numbers
// that class keeps: keepRun.narrow is packedClass.keeps solved for x.
// (The differential test above covers runs across messages: the
// remembered run must never skip a class the loop would step.)
func TestKeepRunIsKeeps(t *testing.T) {
	nums := []float64{-2, -1, -0.5, 0, 0.5, 1, 1.5, 2, 3, math.Inf(1), math.Inf(-1), math.NaN()}
	for _, thr := range []uint8{thrGT, thrGE, thrLT, thrLE} {
		for _, num := range []float64{0, 1} {
			for _, hyst := range []float64{0, 0.5, 1} {
				rearm := num - hyst
				if thr == thrLT || thr == thrLE {
					rearm = num + hyst
				}
				pk := packedClass{thr: thr, num: num, rearm: rearm}
				for _, armed := range []bool{false, true} {
					k := keepRun{lo: math.Inf(-1), hi: math.Inf(1), loIn: true, hiIn: true}
					k.narrow(&pk, armed)
					for _, x := range nums {
						// NaN is in no interval: a run is never taken for it
						// (the loop then decides, which is only slower).
						want := pk.keeps(armed, x) && !math.IsNaN(x)
						if got := k.holds(x); got != want {
							t.Errorf("thr %d num %v rearm %v armed %v: x=%v holds %v, keeps %v", thr, num, rearm, armed, x, got, want)
						}
					}
				}
			}
		}
	}
}
