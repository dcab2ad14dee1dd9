package usage

import "testing"

// BenchmarkNormalize measures a typical v7.2 success record (§5.5).
func BenchmarkNormalize(b *testing.B) {
	n := newTestNormalizer(b, DefaultPriceBook())
	payload := marshal(b, successRecord())
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := n.Normalize("cpa1", payload); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNormalizeFailed measures a failed record with an error body.
func BenchmarkNormalizeFailed(b *testing.B) {
	n := newTestNormalizer(b, DefaultPriceBook())
	payload := marshal(b, failedRecord())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := n.Normalize("cpa1", payload); err != nil {
			b.Fatal(err)
		}
	}
}
