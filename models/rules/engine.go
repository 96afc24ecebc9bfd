package rules

import (
	"cmp"
	"context"
	"log/slog"
	"slices"
	"sync"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

// engine holds the active rules in memory, compiled and indexed by what
// triggers them, so that evaluating a message costs no query. It loads
// them all on first use and reloads the rules a create, write or unlink
// touched once it committed (ruleChanged). The zero value is ready.
type engine struct {
	load sync.Mutex // one load or reload at a time

	mu       sync.RWMutex
	loaded   bool
	byID     map[int64]*rule
	message  map[int64][]*rule        // by broker; 0: any broker
	groups   map[int64][]*filterGroup // message, grouped by filter
	device   []*rule                  // device_online, device_offline
	interval []*rule

	changed chan struct{} // wakes the interval loop after a (re)load
}

// ensure loads the rules unless they are.
func (e *engine) ensure(ctx context.Context, a *Addon) error {
	e.mu.RLock()
	loaded := e.loaded
	e.mu.RUnlock()
	if loaded {
		return nil
	}
	e.load.Lock()
	defer e.load.Unlock()
	e.mu.RLock()
	loaded = e.loaded
	e.mu.RUnlock()
	if loaded {
		return nil
	}
	recs, err := a.loadRules(ctx, nil)
	if err != nil {
		return err
	}
	byID := map[int64]*rule{}
	var fresh []*rule
	for _, r := range recs {
		if ru := a.compileLoaded(r); ru != nil {
			byID[ru.id] = ru
			fresh = append(fresh, ru)
		}
	}
	assignClasses(fresh, nil)
	e.mu.Lock()
	e.byID, e.loaded = byID, true
	e.index()
	e.mu.Unlock()
	e.wake()
	return nil
}

// reload replaces the rules of ids with their committed state: gone when
// deleted or archived, compiled anew (fresh state) otherwise. Before the
// first load there is nothing to replace.
func (e *engine) reload(a *Addon, ids []int64, deleted bool) {
	e.load.Lock()
	defer e.load.Unlock()
	e.mu.RLock()
	loaded := e.loaded
	e.mu.RUnlock()
	if !loaded {
		return
	}
	fresh := map[int64]*rule{}
	if !deleted {
		recs, err := a.loadRules(context.Background(), ids)
		if err != nil {
			// The rules keep their previous version until the next change
			// or restart: say so, the edit itself is committed.
			a.log.Error("Unable to reload edited automation rules", slog.Any("ids", ids), slog.Any("error", err))
			return
		}
		for _, r := range recs {
			if ru := a.compileLoaded(r); ru != nil {
				fresh[ru.id] = ru
			}
		}
	}
	e.mu.Lock()
	for _, id := range ids {
		delete(e.byID, id)
	}
	list := make([]*rule, 0, len(fresh))
	for _, ru := range fresh {
		list = append(list, ru)
	}
	sortRules(list)
	assignClasses(list, e.byID)
	for _, ru := range list {
		e.byID[ru.id] = ru
	}
	e.index()
	e.mu.Unlock()
	e.wake()
}

// index rebuilds the trigger indexes from byID; e.mu is held.
func (e *engine) index() {
	e.message, e.device, e.interval = map[int64][]*rule{}, nil, nil
	for _, ru := range e.byID {
		switch ru.trigger {
		case TriggerMessage:
			e.message[ru.broker] = append(e.message[ru.broker], ru)
		case TriggerDeviceOnline, TriggerDeviceOffline:
			e.device = append(e.device, ru)
		case TriggerInterval:
			e.interval = append(e.interval, ru)
		}
	}
	e.groups = map[int64][]*filterGroup{}
	for broker, list := range e.message {
		sortRules(list)
		byFilter := map[string]*filterGroup{}
		for _, ru := range list {
			g := byFilter[ru.filter]
			if g == nil {
				g = &filterGroup{filter: ru.filter}
				byFilter[ru.filter] = g
				e.groups[broker] = append(e.groups[broker], g)
			}
			g.add(ru)
		}
	}
	sortRules(e.device)
	sortRules(e.interval)
	releaseDropped(e.byID)
}

// wake tells the interval loop the rules changed.
func (e *engine) wake() {
	select {
	case e.changed <- struct{}{}:
	default:
	}
}

// filterGroup is the message rules of one broker (or of any) that share
// a topic filter, which a message is then matched against once.
type filterGroup struct {
	filter  string
	classes []*classRules // their rules by state class, by first id
	paths   int           // distinct json paths of the classes (classRules.path)
	packed  []packedClass // by class, for the unchanged check (thresholds.go)
	tab     *topicTable   // the table of the packed thresholds; nil: none or mixed
	mixed   bool          // the thresholds are in more than one table
	slow    bool          // step every class, no unchanged check (tests compare)
	gen     uint64        // its number for the runs it skips (topicRec.keep); 0: none yet
}

func (g *filterGroup) add(ru *rule) {
	for _, cr := range g.classes {
		if cr.cls == ru.cls {
			cr.rules = append(cr.rules, ru)
			return
		}
	}
	cr := &classRules{cls: ru.cls, rules: []*rule{ru}, path: g.paths}
	for _, o := range g.classes {
		if samePath(o.rules[0].path, ru.path) {
			cr.path = o.path
			break
		}
	}
	if cr.path == g.paths {
		g.paths++
	}
	g.classes = append(g.classes, cr)
	pk := packThreshold(cr)
	if pk.thr != thrNone && !g.mixed {
		if g.tab == nil {
			g.tab = ru.cls.tab
		} else if g.tab != ru.cls.tab {
			g.tab, g.mixed = nil, true // not by construction: no check
		}
	}
	g.packed = append(g.packed, pk)
}

// samePath tells paths that extract the same value.
func samePath(x, y *jsonPath) bool {
	return x == y || x != nil && y != nil && x.Raw == y.Raw
}

// messageGroups are the message rules that apply to a broker's messages,
// its own and the any-broker ones, grouped by filter. The slice is the
// caller's; the groups are not to be changed.
func (e *engine) messageGroups(brokerID int64) []*filterGroup {
	e.mu.RLock()
	defer e.mu.RUnlock()
	own, any := e.groups[brokerID], e.groups[0]
	if brokerID == 0 {
		own = nil
	}
	out := make([]*filterGroup, 0, len(own)+len(any))
	return append(append(out, own...), any...)
}

// watching tells whether a message rule applies to the broker.
func (e *engine) watching(brokerID int64) bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return len(e.message[brokerID]) > 0 || len(e.message[0]) > 0
}

// current returns the rule id as it is now, nil when it is gone.
func (e *engine) current(id int64) *rule {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.byID[id]
}

func (e *engine) deviceRules() []*rule {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return append([]*rule(nil), e.device...)
}

func (e *engine) intervalRules() []*rule {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return append([]*rule(nil), e.interval...)
}

// loadRules loads the active rules (of ids, all when nil).
func (a *Addon) loadRules(ctx context.Context, ids []int64) ([]*models.Record, error) {
	var recs []*models.Record
	err := a.reg.Read(ctx, models.Superuser, nil, func(env *models.Env) error {
		su := env.Sudo()
		m := a.reg.Model("mqtt.rule")
		dom := []any{}
		if ids != nil {
			dom = []any{[]any{"id", "in", toAny(ids)}}
		}
		found, err := su.Search(m, dom, 0, 0, "id")
		if err != nil {
			return err
		}
		recs, err = su.Load(m, found, ruleFields...)
		return err
	})
	return recs, err
}

// compileLoaded compiles a stored rule; one that no longer compiles (its
// signal or device deleted, say) is left out, and logged.
func (a *Addon) compileLoaded(r *models.Record) *rule {
	ru, err := compile(r)
	if err != nil {
		a.log.Warn("Automation rule left out: it does not compile", slog.Int64("rule_id", r.ID), slog.String("rule", r.Str("name")),
			slog.String("error", models.MessageOf(err)))
		return nil
	}
	return ru
}

// Watching reports whether an active message rule may apply to the
// broker's messages (one of its own, or of any broker): the listener
// hands it a broker's messages only then. It is a map lookup once the
// rules are loaded; the first call loads them, and answers true if that
// fails (Evaluate then tries again and says why).
func (a *Addon) Watching(brokerID int64) bool {
	if err := a.engine.ensure(context.Background(), a); err != nil {
		return true
	}
	return a.engine.watching(brokerID)
}

// sortRules orders rules by id, so that a message fires them in a stable
// order.
func sortRules(list []*rule) {
	slices.SortFunc(list, func(x, y *rule) int { return cmp.Compare(x.id, y.id) })
}
