package rules

import (
	"regexp"
	"strings"
	"time"
)

// The operators of a message rule's condition.
const (
	OpAny      = "any"
	OpGT       = ">"
	OpGE       = ">="
	OpLT       = "<"
	OpLE       = "<="
	OpEQ       = "="
	OpNE       = "!="
	OpChanged  = "changed"
	OpContains = "contains"
	OpRegex    = "regex"
)

// isThreshold tells the operators that compare numbers and fire on a
// crossing (with hysteresis), not on every message past the threshold.
func isThreshold(op string) bool { return op == OpGT || op == OpGE || op == OpLT || op == OpLE }

// condition is a rule's compiled condition.
type condition struct {
	op    string
	text  string         // the value as written
	num   float64        // the value, for the threshold operators
	isNum bool           // text reads as a number (= and != then compare numbers)
	hyst  float64        // hysteresis, >= 0
	re    *regexp.Regexp // for regex
}

// holds tells whether v meets the condition, for every operator but
// changed (which needs the previous value) and the thresholds' arming.
func (c *condition) holds(v value) bool {
	switch c.op {
	case OpAny:
		return true
	case OpGT:
		return v.isNum && v.num > c.num
	case OpGE:
		return v.isNum && v.num >= c.num
	case OpLT:
		return v.isNum && v.num < c.num
	case OpLE:
		return v.isNum && v.num <= c.num
	case OpEQ, OpNE:
		eq := v.text == c.text
		if c.isNum && v.isNum {
			eq = v.num == c.num
		}
		return eq == (c.op == OpEQ)
	case OpContains:
		return strings.Contains(v.text, c.text)
	case OpRegex:
		return c.re.MatchString(v.text)
	}
	return false
}

// rearms tells whether a threshold rule that fired may fire again: the
// value went back past the threshold by the hysteresis (for ">" at or
// below value - hysteresis, for ">=" below it; "<" and "<=" the mirror).
// With no hysteresis that is the condition no longer holding.
func (c *condition) rearms(v value) bool {
	if !v.isNum {
		return false
	}
	switch c.op {
	case OpGT:
		return v.num <= c.num-c.hyst
	case OpGE:
		return v.num < c.num-c.hyst
	case OpLT:
		return v.num >= c.num+c.hyst
	case OpLE:
		return v.num > c.num+c.hyst
	}
	return true
}

// topicState is what a rule remembers of one topic: whether a threshold
// is armed (nil: no value seen yet), the last value (changed), and when
// the rule last fired on it (cooldown).
type topicState struct {
	seen      bool
	armed     bool
	last      string
	lastFired time.Time
}

// step decides whether a value fires the rule on a topic whose state is
// st, at now, and returns the state after it; st is not changed, so
// action_test can ask without acting. A firing the cooldown holds back
// leaves the state as it was, so it fires once the cooldown is over if
// the condition still says so.
//
// Thresholds fire on a crossing: the first value seen on a topic (after
// a start or an edit of the rule) only tells which side it is on, then
// the rule fires when the value passes the threshold and re-arms once it
// is back past it by the hysteresis. changed fires when the value
// differs from the last one (the first only sets it). The other
// operators fire on every message that meets them.
func (c *condition) step(st topicState, v value, now time.Time, cooldown time.Duration) (fire bool, next topicState) {
	next = st
	fire = c.advance(&next, v, now, cooldown)
	return fire, next
}

// advance is step on the state in place, for the engine, which keeps
// many of them and would otherwise copy each twice a message.
func (c *condition) advance(st *topicState, v value, now time.Time, cooldown time.Duration) bool {
	switch {
	case isThreshold(c.op):
		if !v.isNum {
			return false
		}
		switch holds := c.holds(v); {
		case !st.seen:
			st.seen, st.armed = true, !holds
		case st.armed && holds:
			if held(st, now, cooldown) {
				return false
			}
			st.armed, st.lastFired = false, now
			return true
		case !st.armed && c.rearms(v):
			st.armed = true
		}
		return false
	case c.op == OpChanged:
		if !st.seen || v.text == st.last {
			st.seen, st.last = true, v.text
			return false
		}
		if held(st, now, cooldown) {
			return false
		}
		st.last, st.lastFired = v.text, now
		return true
	default:
		if !c.holds(v) || held(st, now, cooldown) {
			return false
		}
		st.lastFired = now
		return true
	}
}

// held tells a firing the cooldown holds back: the state is left as it
// was, so that the rule fires once the cooldown is over if the condition
// still says so.
func held(st *topicState, now time.Time, cooldown time.Duration) bool {
	return cooldown > 0 && !st.lastFired.IsZero() && now.Sub(st.lastFired) < cooldown
}
