package rules

import (
	"fmt"
	"time"
)

// stateClass is the per-topic state of the rules that share it: rules
// with the same broker, filter, path and condition (operator, value,
// hysteresis, cooldown) step alike on the same messages, so they keep
// one state and a message is tested once for them all (the listener
// bench's 100 identical rules cost little more than one). A rule joins
// a class only while it has seen nothing, so each rule's state is
// still what it would be alone; an edited rule starts a class of its own
// unless one is still empty.
//
// The states themselves are in the class's topic table (topics.go),
// which the classes of one filter group share, in the class's slot.
type stateClass struct {
	key       string      // what rules sharing it have in common; "" for none
	tab       *topicTable // where its states are
	slot      int         // its index in the table's records
	stateless bool        // it keeps nothing per topic (rule.stateless)

	// Guarded by tab.mu.
	n    int  // topics it has a state on
	dead bool // dropped from the engine (topicTable.release): steps nothing
}

// newClass is a class for ru in tab (nil: a table of its own, for a rule
// in no filter group).
func newClass(ru *rule, key string, tab *topicTable) *stateClass {
	if tab == nil {
		tab = newTable()
	}
	c := &stateClass{key: key, tab: tab, stateless: ru.stateless()}
	tab.join(c)
	return c
}

// classKey is what rules must have in common to share their state;
// message rules only ("" for the others, which never share).
func (ru *rule) classKey() string {
	if ru.trigger != TriggerMessage {
		return ""
	}
	path, hasPath := "", ru.path != nil
	if hasPath {
		path = ru.path.Raw
	}
	return fmt.Sprintf("%d\x00%s\x00%t\x00%s\x00%s\x00%s\x00%v\x00%d",
		ru.broker, ru.filter, hasPath, path, ru.cond.op, ru.cond.text, ru.cond.hyst, ru.cooldown)
}

// empty tells a class nothing has stepped yet.
func (c *stateClass) empty() bool {
	c.tab.mu.Lock()
	defer c.tab.mu.Unlock()
	return c.n == 0
}

// stateless tells a class that keeps nothing per topic: no threshold,
// not changed, no cooldown.
func (ru *rule) stateless() bool {
	return !isThreshold(ru.cond.op) && ru.cond.op != OpChanged && ru.cooldown == 0
}

// step steps the class's state on a topic with t and tells whether its
// rules fire. ru is any rule of the class (they agree on all step uses).
// A filter group steps its classes with filterGroup.step instead, which
// looks the topic up once for them all.
func (c *stateClass) step(ru *rule, t *trigger) bool {
	if c.stateless {
		// No state to keep (the rules fire on every match): no record
		// per topic for a "#" rule on a busy broker.
		return !t.stateOnly && ru.cond.holds(t.value)
	}
	key := t.key
	if key == "" {
		key = t.topic
	}
	c.tab.mu.Lock()
	defer c.tab.mu.Unlock()
	fire, _ := c.stepLocked(ru, c.tab.topics[key], key, t.value, t.at, t.stateOnly)
	return fire
}

// stepLocked steps the class's state on the topic key, whose record in
// the table is rec (nil: none yet), and tells whether its rules fire,
// and the topic's record then (for the next class of the group); c.tab.mu
// is held.
func (c *stateClass) stepLocked(ru *rule, rec *topicRec, key string, v value, at time.Time, stateOnly bool) (bool, *topicRec) {
	if c.dead {
		return false, rec
	}
	var p *topicState
	if rec != nil && c.slot < len(rec.slots) && rec.slots[c.slot].known {
		p = &rec.slots[c.slot].st
	}
	if p != nil && !stateOnly {
		fire := ru.cond.advance(p, v, at, ru.cooldown) // the common case: no copy
		rec.sync(c.slot)
		return fire, rec
	}
	var st topicState
	if p != nil {
		st = *p
	}
	fire, next := ru.cond.step(st, v, at, ru.cooldown)
	if fire && stateOnly {
		// A replay fires nothing; it only tells the value: a threshold is
		// past already (disarmed), changed has its last value.
		fire, next = false, st
		next.seen, next.armed, next.last = true, false, v.text
		if !isThreshold(ru.cond.op) {
			next.armed = st.armed
		}
	}
	if p != nil {
		*p = next
		rec.sync(c.slot)
		return fire, rec
	}
	if c.n >= MaxTopicStates {
		// A new topic for a class at its bound: it forgets them all (the
		// record may go with it).
		c.tab.clearSlot(c)
		rec = c.tab.topics[key]
	}
	return fire, c.tab.set(rec, key, c, next)
}

// stateOf is a class's state on a topic.
func (c *stateClass) stateOf(topic string) topicState {
	c.tab.mu.Lock()
	defer c.tab.mu.Unlock()
	if rec := c.tab.topics[topic]; rec != nil && c.slot < len(rec.slots) {
		return rec.slots[c.slot].st
	}
	return topicState{}
}

// classRules are the rules of one class within a filter group.
type classRules struct {
	cls   *stateClass
	rules []*rule // by id
	path  int     // the index of its json path among its group's
}

// groupKey is what the rules of a filter group have in common: their
// classes share a topic table.
type groupKey struct {
	broker int64
	filter string
}

// assignClasses gives each of fresh a class: a still empty one of a rule
// in keep with the same key (and of the other fresh ones), else its
// own, in the topic table of its filter group.
func assignClasses(fresh []*rule, keep map[int64]*rule) {
	empty := map[string]*stateClass{}
	tables := map[groupKey]*topicTable{}
	for _, ru := range keep {
		c := ru.cls
		if c == nil || c.key == "" {
			continue
		}
		tables[groupKey{ru.broker, ru.filter}] = c.tab
		if empty[c.key] == nil && c.empty() {
			empty[c.key] = c
		}
	}
	for _, ru := range fresh {
		key := ru.classKey()
		if c := empty[key]; c != nil && key != "" {
			ru.cls = c
			continue
		}
		if key == "" {
			ru.cls = newClass(ru, key, nil)
			continue
		}
		gk := groupKey{ru.broker, ru.filter}
		tab := tables[gk]
		if tab == nil {
			tab = newTable()
			tables[gk] = tab
		}
		ru.cls = newClass(ru, key, tab)
		empty[key] = ru.cls
	}
}

// releaseDropped frees the table slots of the classes no rule of rules
// (the engine's, after a reload) has any more.
func releaseDropped(rules map[int64]*rule) {
	live := map[*stateClass]bool{}
	for _, ru := range rules {
		if ru.cls != nil {
			live[ru.cls] = true
		}
	}
	done := map[*topicTable]bool{}
	for c := range live {
		if !done[c.tab] {
			done[c.tab] = true
			c.tab.release(live)
		}
	}
}
