package models

import (
	"fmt"
	"log/slog"
	"sort"
	"strings"
)

// The base addon's groups, keyed like Odoo xml ids. Addons add theirs
// (Manifest.Groups), each implying some of these.
const (
	GroupUser   = "base.group_user"
	GroupSystem = "base.group_system"
)

// addGroup registers an addon's group and its implications.
func (r *Registry) addGroup(g Group) error {
	if g.Key == "" || g.Name == "" {
		return fmt.Errorf("a group needs a key and a name")
	}
	if r.knownGroup(g.Key) {
		return fmt.Errorf("group %s declared twice", g.Key)
	}
	r.groups = append(r.groups, g)
	r.implies[g.Key] = append(r.implies[g.Key], g.Implies...)
	for _, by := range g.ImpliedBy {
		r.implies[by] = append(r.implies[by], g.Key)
	}
	return nil
}

func (r *Registry) knownGroup(key string) bool {
	for _, g := range r.groups {
		if g.Key == key {
			return true
		}
	}
	return false
}

// groupName is the label of a group, as its res.groups row has it.
func (r *Registry) groupName(key string) string {
	for _, g := range r.groups {
		if g.Key == key {
			return g.Name
		}
	}
	return key
}

// groupsInOrder lists the groups so that every group comes after those
// it implies: the order Init creates their rows in.
func (r *Registry) groupsInOrder() []Group {
	done := map[string]bool{}
	var out []Group
	var visit func(g Group)
	visit = func(g Group) {
		if done[g.Key] {
			return
		}
		done[g.Key] = true
		for _, h := range r.implies[g.Key] {
			for _, hg := range r.groups {
				if hg.Key == h {
					visit(hg)
				}
			}
		}
		out = append(out, g)
	}
	for _, g := range r.groups {
		visit(g)
	}
	return out
}

// impliedClosure adds every implied group to set.
func (r *Registry) impliedClosure(set map[string]bool) {
	stack := make([]string, 0, len(set))
	for g := range set {
		stack = append(stack, g)
	}
	for len(stack) > 0 {
		g := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, h := range r.implies[g] {
			if !set[h] {
				set[h] = true
				stack = append(stack, h)
			}
		}
	}
}

// userGroups loads the effective groups of uid.
func (e *Env) userGroups() map[string]bool {
	if e.groups != nil {
		return e.groups
	}
	if set := e.reg.auth.userGroups(e.UID); set != nil {
		e.groups = set
		return set
	}
	set := map[string]bool{}
	var keys []string
	err := e.DB().Raw(`SELECT g."xml_id" FROM "res_groups" g JOIN "res_groups_res_users_rel" r ON r."res_groups_id" = g."id" WHERE r."res_users_id" = ?`, e.UID).Scan(&keys).Error
	if err != nil {
		// Fail closed, and uncached: the next call asks again.
		e.reg.log.Error("Unable to load the groups of a user", slog.Int64("uid", e.UID), slog.Any("error", err))
		return set
	}
	for _, k := range keys {
		set[k] = true
	}
	e.reg.impliedClosure(set)
	e.groups = set
	e.reg.auth.rememberGroups(e.UID, set)
	return set
}

// HasGroup reports whether the env's user belongs to group (implied
// memberships included); the superuser belongs to every group.
func (e *Env) HasGroup(group string) bool {
	if e.UID == Superuser {
		return true
	}
	return e.userGroups()[group]
}

// hasAnyGroup reports whether the user is in one of groups (true when
// groups is empty or the env bypasses access).
func (e *Env) hasAnyGroup(groups []string) bool {
	if len(groups) == 0 || e.IsSuperuser() {
		return true
	}
	for _, g := range groups {
		if e.HasGroup(g) {
			return true
		}
	}
	return false
}

// Operations of the access table, like ir.model.access columns.
const (
	OpRead   = 'r'
	OpWrite  = 'w'
	OpCreate = 'c'
	OpUnlink = 'u'
)

var opWords = map[byte]string{OpRead: "read", OpWrite: "write", OpCreate: "create", OpUnlink: "unlink"}
var opVerbs = map[byte]string{OpRead: "access", OpWrite: "modify", OpCreate: "create", OpUnlink: "delete"}

// allowed reports whether the user may perform op on m at all.
func (e *Env) allowed(m *Model, op byte) bool {
	if e.IsSuperuser() {
		return true
	}
	if m.ReadOnly && op != OpRead {
		return false
	}
	for g, ops := range m.Access {
		if strings.IndexByte(ops, op) >= 0 && e.HasGroup(g) {
			return true
		}
	}
	return false
}

// checkAccess returns Odoo's AccessError when the user may not perform op
// on m.
func (e *Env) checkAccess(m *Model, op byte) error {
	if e.allowed(m, op) {
		return nil
	}
	var groups []string
	for g, ops := range m.Access {
		if strings.IndexByte(ops, op) >= 0 {
			groups = append(groups, e.reg.groupName(g))
		}
	}
	sort.Strings(groups)
	msg := "You are not allowed to " + opVerbs[op] + " '" + m.Description + "' (" + m.Name + ") records."
	if len(groups) > 0 && !m.ReadOnly {
		msg += "\n\nThis operation is allowed for the following groups:\n\t- " + strings.Join(groups, "\n\t- ")
	}
	msg += "\n\nContact your administrator to request access if necessary."
	return AccessErrorf("%s", msg)
}

// ruleDomain is the record rule domain for the user on m (nil: all rows).
func (e *Env) ruleDomain(m *Model) []any {
	if m.Rules == nil || e.IsSuperuser() || e.HasGroup(GroupSystem) {
		return nil
	}
	return m.Rules(e)
}

// checkFieldAccess refuses fields the user may not see or set.
func (e *Env) checkFieldAccess(f *Field) error {
	if e.hasAnyGroup(f.Groups) {
		return nil
	}
	return AccessErrorf("The requested operation can not be completed due to security restrictions.\n\nDocument type: %s (%s)\nOperation: %s\nFields:\n- %s", f.model.Description, f.model.Name, "read", f.Name)
}
