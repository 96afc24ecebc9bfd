package benchproc

import "testing"

func TestDatabaseURL(t *testing.T) {
	tests := []struct {
		pg, want string
		ok       bool
	}{
		{"postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "postgres://postgres@127.0.0.1:5432/oim_bench?sslmode=disable", true},
		{"postgresql://u:p@db/other", "postgresql://u:p@db/oim_bench", true},
		{"sqlite:/tmp/x.db", "", false},
		{"://nope", "", false},
	}
	for _, tt := range tests {
		got, err := DatabaseURL(tt.pg, "oim_bench")
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("DatabaseURL(%q) = %q, %v; want %q, ok %v", tt.pg, got, err, tt.want, tt.ok)
		}
	}
}
