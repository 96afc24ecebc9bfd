package xmlrpc

import (
	"bytes"
	"fmt"
	"os"
	"testing"
	"time"
)

// BenchmarkDecodeExecuteKw decodes a typical search_read call as Python
// sends it.
func BenchmarkDecodeExecuteKw(b *testing.B) {
	body, err := os.ReadFile("testdata/execute_kw_search_read.xml")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := DecodeCall(bytes.NewReader(body)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncode80Records encodes a default-limit search_read page: 80
// records of 8 fields with the usual mix of types.
func BenchmarkEncode80Records(b *testing.B) {
	written := time.Date(2024, 1, 31, 23, 59, 1, 0, time.UTC)
	records := make([]map[string]any, 80)
	for i := range records {
		records[i] = map[string]any{
			"id":         i + 1,
			"name":       fmt.Sprintf("Sensor %d & <co>", i),
			"active":     i%2 == 0,
			"value":      float64(i) * 1.5,
			"partner_id": []any{i + 100, "Partner"},
			"tag_ids":    []int64{1, 2, 3},
			"topic":      false,
			"write_date": written,
		}
	}
	b.ReportAllocs()
	var size int
	for b.Loop() {
		out, err := EncodeResponse(records)
		if err != nil {
			b.Fatal(err)
		}
		size = len(out)
	}
	b.SetBytes(int64(size))
}
