package rules

// Threshold classes in a filter group: most messages change the state of
// none of them (the value stays on the side of each threshold it was on),
// and the group's step tells so with a few float comparisons on the
// class's packed threshold before going through the general step, which
// switches on the operator's text and may copy the state.

// The threshold operators, packed (classRules.thr); 0: not a threshold.
const (
	thrNone uint8 = iota
	thrGT
	thrGE
	thrLT
	thrLE
)

// packThreshold sets cr's packed threshold from its rules' condition.
func (cr *classRules) packThreshold() {
	c := &cr.rules[0].cond
	switch c.op {
	case OpGT:
		cr.thr, cr.rearm = thrGT, c.num-c.hyst
	case OpGE:
		cr.thr, cr.rearm = thrGE, c.num-c.hyst
	case OpLT:
		cr.thr, cr.rearm = thrLT, c.num+c.hyst
	case OpLE:
		cr.thr, cr.rearm = thrLE, c.num+c.hyst
	default:
		cr.thr = thrNone
		return
	}
	cr.num = c.num
}

// keeps tells that the number x leaves a threshold class whose state on
// the topic is seen, with armed, as it is and fires nothing: armed and
// the condition does not hold, or disarmed and x does not re-arm it
// (condition.advance's cases that change nothing; the cooldown only
// matters when it would fire). It is condition.holds and
// condition.rearms on the packed threshold.
func (cr *classRules) keeps(armed bool, x float64) bool {
	var holds, rearms bool
	switch cr.thr {
	case thrGT:
		holds, rearms = x > cr.num, x <= cr.rearm
	case thrGE:
		holds, rearms = x >= cr.num, x < cr.rearm
	case thrLT:
		holds, rearms = x < cr.num, x >= cr.rearm
	case thrLE:
		holds, rearms = x <= cr.num, x > cr.rearm
	default:
		return false
	}
	if armed {
		return !holds
	}
	return !rearms
}

// unchanged tells that stepping the class with the number x on the topic
// whose record is rec (nil: none) would change nothing and fire nothing,
// so the step can be skipped: its rules are thresholds and it has a
// state there that has seen a value. A retained x steps alike (it only
// differs when it would fire). The slot may be another class's after a
// reload (cr's class dead): skipping it is then right too, as a dead
// class steps nothing.
func (cr *classRules) unchanged(rec *topicRec, x float64) bool {
	if cr.thr == thrNone || rec == nil || cr.cls.slot >= len(rec.slots) {
		return false
	}
	s := &rec.slots[cr.cls.slot]
	return s.known && s.st.seen && cr.keeps(s.st.armed, x)
}
