package models

// trueLeaf is Odoo's TRUE_LEAF (1, '=', 1), the domain matching everything.
var trueLeaf = []any{int64(1), "=", int64(1)}

// normalizeDomain is Odoo's normalize_domain on a domain already checked
// to be well formed: every implicit '&' made explicit in front, so the
// result can be combined as one term. [] becomes [TRUE_LEAF].
func normalizeDomain(domain []any) []any {
	if len(domain) == 0 {
		return []any{trueLeaf}
	}
	// Odoo inserts an '&' at the very front each time a complete
	// expression is followed by another term: count them, then emit.
	ands, expected := 0, 1
	for _, tok := range domain {
		if expected == 0 {
			ands++
			expected = 1
		}
		switch tok {
		case "&", "|":
			expected++
		case "!":
		default:
			expected--
		}
	}
	out := make([]any, 0, ands+len(domain))
	for range ands {
		out = append(out, "&")
	}
	return append(out, domain...)
}

// andDomains is Odoo's expression.AND: the non-empty domains, each
// normalised, behind one '&' fewer than their count; [TRUE_LEAF] when all
// are empty. (Odoo also short-cuts a domain equal to its TRUE_DOMAIN or
// FALSE_DOMAIN, which are lists of tuples: a client's lists never compare
// equal to them, so that case does not arise from RPC.)
func andDomains(domains ...[]any) []any {
	var terms [][]any
	for _, d := range domains {
		if len(d) > 0 {
			terms = append(terms, normalizeDomain(d))
		}
	}
	if len(terms) == 0 {
		return []any{trueLeaf}
	}
	out := make([]any, 0, len(terms)*3)
	for range len(terms) - 1 {
		out = append(out, "&")
	}
	for _, t := range terms {
		out = append(out, t...)
	}
	return out
}
