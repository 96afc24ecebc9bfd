package rules

import "sync"

// topicTable holds the per-topic states of the state classes of one
// filter group (a broker's, or any broker's, rules with one filter): a
// topic's record has each class's state in the class's slot, so that a
// message takes one lock and one topic lookup for all the group's
// classes instead of one per rule. Classes of rules in no group (device,
// interval) have a table of their own.
type topicTable struct {
	mu     sync.Mutex
	topics map[string]*topicRec
	owners []*stateClass // by slot; nil: free
}

// topicRec is one topic's states, by class slot (possibly fewer than
// the table's slots: the missing ones are unknown).
type topicRec struct {
	slots []slotState
	flags []uint8 // by slot, the bits of it the group's unchanged check reads
	known int     // slots with a state
	keep  keepRun // the last run of classes the unchanged check skipped, while flags stay
}

// The bits of topicRec.flags, kept with every change of a slot: the
// check reads a byte a class instead of its whole state.
const (
	flagKnown uint8 = 1 << iota
	flagSeen
	flagArmed
)

// sync records the flags of the slot i after a change of its state.
func (rec *topicRec) sync(i int) {
	s, f := &rec.slots[i], uint8(0)
	if s.known {
		f |= flagKnown
	}
	if s.st.seen {
		f |= flagSeen
	}
	if s.st.armed {
		f |= flagArmed
	}
	if rec.flags[i] != f {
		rec.flags[i] = f
		rec.keep.valid = false
	}
}

type slotState struct {
	st    topicState
	known bool // the class has a state on the topic (maybe the zero one)
}

func newTable() *topicTable {
	return &topicTable{topics: map[string]*topicRec{}}
}

// join gives c a free slot of the table.
func (tab *topicTable) join(c *stateClass) {
	tab.mu.Lock()
	defer tab.mu.Unlock()
	for i, o := range tab.owners {
		if o == nil {
			tab.owners[i], c.slot = c, i
			return
		}
	}
	c.slot = len(tab.owners)
	tab.owners = append(tab.owners, c)
}

// set records st as c's new state on the topic key, whose record is rec
// (nil: none yet), and returns the record; tab.mu is held and c had no
// state on it.
func (tab *topicTable) set(rec *topicRec, key string, c *stateClass, st topicState) *topicRec {
	if rec == nil {
		rec = &topicRec{}
		tab.topics[key] = rec
	}
	if c.slot >= len(rec.slots) {
		n := max(len(tab.owners), c.slot+1)
		rec.slots = append(rec.slots, make([]slotState, n-len(rec.slots))...)
		rec.flags = append(rec.flags, make([]uint8, n-len(rec.flags))...)
		rec.keep.valid = false
	}
	rec.slots[c.slot] = slotState{st: st, known: true}
	rec.sync(c.slot)
	rec.known++
	c.n++
	return rec
}

// clearSlot forgets c's states, and the records no class has a state in
// then; tab.mu is held.
func (tab *topicTable) clearSlot(c *stateClass) {
	for key, rec := range tab.topics {
		if c.slot >= len(rec.slots) || !rec.slots[c.slot].known {
			continue
		}
		rec.slots[c.slot] = slotState{}
		rec.sync(c.slot)
		if rec.known--; rec.known == 0 {
			delete(tab.topics, key)
		}
	}
	c.n = 0
}

// release frees the slots of the table's classes not in live: a message
// evaluated with the rules as they were before the reload then steps
// nothing in them, and a later class may have the slot.
func (tab *topicTable) release(live map[*stateClass]bool) {
	tab.mu.Lock()
	defer tab.mu.Unlock()
	for i, c := range tab.owners {
		if c != nil && !live[c] {
			tab.clearSlot(c)
			c.dead = true
			tab.owners[i] = nil
		}
	}
}
