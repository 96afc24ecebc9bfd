package models

import (
	"sort"
	"strings"
)

// The groups of the product, keyed like Odoo xml ids. Membership implies
// the groups below it: system ⊃ MQTT manager ⊃ MQTT user ⊃ internal user.
const (
	GroupUser        = "base.group_user"
	GroupMQTTUser    = "mqtt.group_mqtt_user"
	GroupMQTTManager = "mqtt.group_mqtt_manager"
	GroupSystem      = "base.group_system"
)

var groupImplies = map[string][]string{
	GroupSystem:      {GroupMQTTManager},
	GroupMQTTManager: {GroupMQTTUser},
	GroupMQTTUser:    {GroupUser},
	GroupUser:        nil,
}

// groupNames are the labels of the groups rows created with the database.
var groupNames = map[string]string{
	GroupUser:        "Internal User",
	GroupMQTTUser:    "MQTT / User",
	GroupMQTTManager: "MQTT / Manager",
	GroupSystem:      "Settings",
}

func knownGroup(g string) bool { _, ok := groupImplies[g]; return ok }

// impliedClosure adds every implied group to set.
func impliedClosure(set map[string]bool) {
	stack := make([]string, 0, len(set))
	for g := range set {
		stack = append(stack, g)
	}
	for len(stack) > 0 {
		g := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, h := range groupImplies[g] {
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
	e.DB().Raw(`SELECT g."xml_id" FROM "res_groups" g JOIN "res_groups_res_users_rel" r ON r."res_groups_id" = g."id" WHERE r."res_users_id" = ?`, e.UID).Scan(&keys)
	for _, k := range keys {
		set[k] = true
	}
	impliedClosure(set)
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
			groups = append(groups, groupNames[g])
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
