package models

import (
	"maps"
	"slices"
)

// GenericMethods returns the names of the ORM methods every model answers
// over RPC besides its own Methods, sorted: what a test that must cover
// every method (record rules, say) enumerates, so that a method added to
// the table is covered or the test says it is not.
func GenericMethods() []string { return slices.Sorted(maps.Keys(genericMethods)) }
