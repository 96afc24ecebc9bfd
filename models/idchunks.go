package models

// maxIDsPerStatement bounds the ids one statement binds as parameters.
// SQLite refuses a statement of more than 32766 parameters and
// PostgreSQL's protocol carries at most 65535, so a read, write, unlink
// or exists of more ids than that would fail with an internal error.
// Statements that take an id list run once per chunk instead; 10000
// leaves room for the statement's other parameters (an UPDATE's values).
const maxIDsPerStatement = 10000

// idChunks splits ids into runs of at most maxIDsPerStatement, in order;
// the runs share ids' backing array. No ids give no run.
func idChunks(ids []int64) [][]int64 {
	if len(ids) == 0 {
		return nil
	}
	out := make([][]int64, 0, (len(ids)+maxIDsPerStatement-1)/maxIDsPerStatement)
	for len(ids) > maxIDsPerStatement {
		out = append(out, ids[:maxIDsPerStatement:maxIDsPerStatement])
		ids = ids[maxIDsPerStatement:]
	}
	return append(out, ids)
}
