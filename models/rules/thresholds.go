package rules

import (
	"math"
	"sync/atomic"
)

// Threshold classes in a filter group: most messages change the state of
// none of them (the value stays on the side of each threshold it was on),
// and the group's step tells so with a few float comparisons on the
// class's packed threshold before going through the general step, which
// switches on the operator's text and may copy the state. The packed
// classes are a slice of values by the group's classes, and the check
// reads a byte of each class's state (topicRec.flags), so that it goes
// through memory in a row instead of following two pointers and a whole
// state a class.

// The threshold operators, packed (packedClass.thr); 0: not a threshold.
const (
	thrNone uint8 = iota
	thrGT
	thrGE
	thrLT
	thrLE
)

// packedClass is what the unchanged check needs of a class of a group.
type packedClass struct {
	num, rearm float64 // the threshold, the value re-arming it
	slot       int32   // the class's, in the group's table (filterGroup.tab)
	path       uint8   // classRules.path, < len(groupVals)
	thr        uint8   // thrNone: not a threshold (no check)
}

// packThreshold packs cr's class for the unchanged check.
func packThreshold(cr *classRules) packedClass {
	c := &cr.rules[0].cond
	pk := packedClass{num: c.num, slot: int32(cr.cls.slot), path: uint8(cr.path)}
	switch {
	case cr.cls.stateless || cr.path >= len(groupVals{}) || cr.cls.slot > 1<<30:
	case c.op == OpGT:
		pk.thr, pk.rearm = thrGT, c.num-c.hyst
	case c.op == OpGE:
		pk.thr, pk.rearm = thrGE, c.num-c.hyst
	case c.op == OpLT:
		pk.thr, pk.rearm = thrLT, c.num+c.hyst
	case c.op == OpLE:
		pk.thr, pk.rearm = thrLE, c.num+c.hyst
	}
	return pk
}

// keeps tells that the number x leaves a threshold class whose state on
// the topic is seen, with armed, as it is and fires nothing: armed and
// the condition does not hold, or disarmed and x does not re-arm it
// (condition.advance's cases that change nothing; the cooldown only
// matters when it would fire). It is condition.holds and
// condition.rearms on the packed threshold.
func (pk *packedClass) keeps(armed bool, x float64) bool {
	var holds, rearms bool
	switch pk.thr {
	case thrGT:
		holds, rearms = x > pk.num, x <= pk.rearm
	case thrGE:
		holds, rearms = x >= pk.num, x < pk.rearm
	case thrLT:
		holds, rearms = x < pk.num, x >= pk.rearm
	case thrLE:
		holds, rearms = x <= pk.num, x > pk.rearm
	default:
		return false
	}
	if armed {
		return !holds
	}
	return !rearms
}

// skipUnchanged is the index of the first class from i on that the number
// x of the path at index path does not leave unchanged (or has another
// path, or is no threshold) on the topic whose record is rec: those
// before it need no step: its rules are thresholds and it has a state
// there that has seen a value, which x leaves as it is (keeps). A
// retained x steps alike (it only differs when it would fire). A slot
// may be another class's after a reload (the class dead): skipping it
// is then right too, as a dead class steps nothing. The group's table is
// locked.
//
// What a run of classes keeps is an interval of numbers (each class's
// side of its threshold or re-arm value), so the run found for one
// message is remembered on the topic's record (topicRec.keep) with that
// interval: the next numbers inside it skip the same classes at once,
// whatever their count, until a flag of the record changes (sync) or the
// group is another (a reload). A number outside it goes through the
// loop, which may stop earlier or later; stopping earlier than the loop
// would is never wrong, since a class stepped that x keeps changes
// nothing.
func (g *filterGroup) skipUnchanged(i int, rec *topicRec, path uint8, x float64) int {
	if rec == nil {
		return i
	}
	if g.gen == 0 {
		g.gen = groupGen.Add(1) // under the table's lock, as every step of the group
	}
	if k := &rec.keep; k.valid && k.gen == g.gen && k.from == i && k.path == path && k.holds(x) {
		return k.to
	}
	run := keepRun{from: i, path: path, gen: g.gen, lo: math.Inf(-1), hi: math.Inf(1), loIn: true, hiIn: true}
	flags := rec.flags
	for ; i < len(g.packed); i++ {
		pk := &g.packed[i]
		if pk.thr == thrNone || pk.path != path || int(pk.slot) >= len(flags) {
			break
		}
		f := flags[pk.slot]
		armed := f&flagArmed != 0
		if f&(flagKnown|flagSeen) != flagKnown|flagSeen || !pk.keeps(armed, x) {
			break
		}
		run.narrow(pk, armed)
	}
	if i > run.from {
		run.to, run.valid = i, true
		rec.keep = run
	}
	return i
}

// groupGen numbers the filter groups for topicRec.keep: a group built
// by a reload never takes a run remembered for another.
var groupGen atomic.Uint64

// keepRun is a run of a group's classes, from index from to to
// (excluded), that leaves every number between lo and hi unchanged on a
// topic, as long as the record's flags stay as they were.
type keepRun struct {
	lo, hi     float64
	loIn, hiIn bool // the bounds belong to the interval
	gen        uint64
	from, to   int
	path       uint8
	valid      bool
}

func (k *keepRun) holds(x float64) bool {
	return (x > k.lo || k.loIn && x == k.lo) && (x < k.hi || k.hiIn && x == k.hi)
}

// narrow intersects the interval with the numbers pk keeps in the
// state armed (keeps's cases, solved for x).
func (k *keepRun) narrow(pk *packedClass, armed bool) {
	switch {
	case pk.thr == thrGT && armed: // keeps x <= num
		k.below(pk.num, true)
	case pk.thr == thrGT: // keeps x > rearm
		k.above(pk.rearm, false)
	case pk.thr == thrGE && armed: // x < num
		k.below(pk.num, false)
	case pk.thr == thrGE: // x >= rearm
		k.above(pk.rearm, true)
	case pk.thr == thrLT && armed: // x >= num
		k.above(pk.num, true)
	case pk.thr == thrLT: // x < rearm
		k.below(pk.rearm, false)
	case pk.thr == thrLE && armed: // x > num
		k.above(pk.num, false)
	case pk.thr == thrLE: // x <= rearm
		k.below(pk.rearm, true)
	}
}

// below lowers the upper bound to v (in: v itself included).
func (k *keepRun) below(v float64, in bool) {
	if v < k.hi || v == k.hi && !in {
		k.hi, k.hiIn = v, in
	}
}

// above raises the lower bound to v.
func (k *keepRun) above(v float64, in bool) {
	if v > k.lo || v == k.lo && !in {
		k.lo, k.loIn = v, in
	}
}
