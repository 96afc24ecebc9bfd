package rules

import (
	"fmt"
	"sync"
)

// stateClass is the per-topic state of the rules that share it: rules
// with the same broker, filter, path and condition (operator, value,
// hysteresis, cooldown) step alike on the same messages, so they keep
// one state and a message is tested once for them all (the listener
// bench's 100 identical rules cost little more than one). A rule joins
// a class only while it has seen nothing, so each rule's state is
// still what it would be alone; an edited rule starts a class of its own
// unless one is still empty.
type stateClass struct {
	key string // what rules sharing it have in common; "" for none

	mu     sync.Mutex
	topics map[string]topicState // by trigger topic
}

func newClass(ru *rule) *stateClass {
	return &stateClass{key: ru.classKey(), topics: map[string]topicState{}}
}

// classKey is what rules must have in common to share their state;
// message rules only ("" for the others, which never share).
func (ru *rule) classKey() string {
	if ru.trigger != TriggerMessage {
		return ""
	}
	path, hasPath := "", ru.path != nil
	if hasPath {
		path = ru.path.raw
	}
	return fmt.Sprintf("%d\x00%s\x00%t\x00%s\x00%s\x00%s\x00%v\x00%d",
		ru.broker, ru.filter, hasPath, path, ru.cond.op, ru.cond.text, ru.cond.hyst, ru.cooldown)
}

// empty tells a class nothing has stepped yet.
func (c *stateClass) empty() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.topics) == 0
}

// stateless tells a class that keeps nothing per topic: no threshold,
// not changed, no cooldown.
func (ru *rule) stateless() bool {
	return !isThreshold(ru.cond.op) && ru.cond.op != OpChanged && ru.cooldown == 0
}

// step steps the class's state on a topic with t and tells whether its
// rules fire. ru is any rule of the class (they agree on all step uses).
func (c *stateClass) step(ru *rule, t *trigger) bool {
	if ru.stateless() {
		// No state to keep (the rules fire on every match): no map entry
		// per topic for a "#" rule on a busy broker.
		return !t.stateOnly && ru.cond.holds(t.value)
	}
	key := t.key
	if key == "" {
		key = t.topic
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	st, known := c.topics[key]
	fire, next := ru.cond.step(st, t.value, t.at, ru.cooldown)
	if fire && t.stateOnly {
		// A replay fires nothing; it only tells the value: a threshold is
		// past already (disarmed), changed has its last value.
		fire, next = false, st
		next.seen, next.armed, next.last = true, false, t.value.text
		if !isThreshold(ru.cond.op) {
			next.armed = st.armed
		}
	}
	if !known && len(c.topics) >= MaxTopicStates {
		clear(c.topics)
	}
	if next != st || !known {
		c.topics[key] = next
	}
	return fire
}

// stateOf is a class's state on a topic.
func (c *stateClass) stateOf(topic string) topicState {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.topics[topic]
}

// classRules are the rules of one class within a filter group.
type classRules struct {
	cls   *stateClass
	rules []*rule // by id
}

// assignClasses gives each of fresh a class: a still empty one of a rule
// in keep with the same key (and of the other fresh ones), else its
// own.
func assignClasses(fresh []*rule, keep map[int64]*rule) {
	empty := map[string]*stateClass{}
	for _, ru := range keep {
		if c := ru.cls; c != nil && c.key != "" && empty[c.key] == nil && c.empty() {
			empty[c.key] = c
		}
	}
	for _, ru := range fresh {
		key := ru.classKey()
		if c := empty[key]; c != nil && key != "" {
			ru.cls = c
			continue
		}
		ru.cls = newClass(ru)
		if key != "" {
			empty[key] = ru.cls
		}
	}
}
