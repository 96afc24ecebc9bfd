package rules

import "time"

// groupVals are the values of a group's paths, by index
// (classRules.path), as extracted for a message: the doc's memo would
// compare each class's path with those it holds.
type groupVals [8]struct {
	v        value
	ok, done bool
}

// firing is a class of a filter group that a message fires, with the
// trigger its rules are offered.
type firing struct {
	cr *classRules
	t  trigger
}

// step steps the group's classes with a message that matches its filter
// and appends those that fire to out. The classes share a topic table:
// the topic is looked up, and the table locked, once for them all; the
// firings are offered by the caller after, the lock released (offering
// may wait for room in the worker's queue).
func (g *filterGroup) step(d *doc, broker int64, m *Message, at time.Time, out []firing) []firing {
	var (
		tab *topicTable // locked, rec is the topic's record in it
		rec *topicRec
	)
	var vals groupVals
	for i := 0; i < len(g.classes); i++ {
		if pk := &g.packed[i]; pk.thr != thrNone && tab != nil && tab == g.tab && !g.slow {
			// The common case, without reaching for the classes: a
			// number that leaves them as they are.
			if pv := &vals[pk.path]; pv.done && pv.ok && pv.v.isNum {
				if j := g.skipUnchanged(i, rec, pk.path, pv.v.num); j > i {
					i = j - 1
					continue
				}
			}
		}
		cr := g.classes[i]
		first := cr.rules[0]
		var (
			v  value
			ok bool
		)
		if cr.path < len(vals) {
			pv := &vals[cr.path]
			if !pv.done {
				pv.v, pv.ok = d.extract(first.path, m.Payload)
				pv.done = true
			}
			v, ok = pv.v, pv.ok
		} else {
			v, ok = d.extract(first.path, m.Payload)
		}
		if !ok {
			continue
		}
		c := cr.cls
		var fire bool
		if c.stateless {
			fire = !m.Retained && first.cond.holds(v)
		} else {
			if c.tab != tab {
				// One table a group by construction (assignClasses); a
				// class elsewhere is stepped right all the same.
				if tab != nil {
					tab.mu.Unlock()
				}
				tab = c.tab
				tab.mu.Lock()
				rec = tab.topics[m.Topic]
			}
			fire, rec = c.stepLocked(first, rec, m.Topic, v, at, m.Retained)
		}
		if fire {
			out = append(out, firing{cr: cr, t: trigger{broker: broker, topic: m.Topic, payload: m.Payload, value: v, at: at, stateOnly: m.Retained}})
		}
	}
	if tab != nil {
		tab.mu.Unlock()
	}
	return out
}
