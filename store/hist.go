package store

import "sort"

// histBins is the number of histogram bins of the latency and TTFT
// histograms in rollup_15m.
const histBins = 24

// histUpper holds the exclusive upper bound, in milliseconds, of bins 0..22:
// round(10 * e^(i/2)), log-spaced by a factor of about 1.65 from 10 ms to
// about 10 minutes. Bin 0 is [0, 10) ms, bin i is [histUpper[i-1],
// histUpper[i]), and bin 23 is everything from 598741 ms (~10 min) up.
// These bounds are part of the on-disk format: never change them.
var histUpper = [histBins - 1]int64{
	10, 16, 27, 45, 74, 122, 201, 331, 546, 900, 1484, 2447, 4034, 6651,
	10966, 18080, 29810, 49148, 81031, 133597, 220265, 363155, 598741,
}

// histBin returns the bin of a duration in milliseconds.
func histBin(ms int64) int {
	if ms < 0 {
		ms = 0
	}
	return sort.Search(len(histUpper), func(i int) bool { return ms < histUpper[i] })
}

// HistogramBounds returns the lower bound in milliseconds of each histogram
// bin (the first is 0; the last bin is open-ended).
func HistogramBounds() []int64 {
	b := make([]int64, histBins)
	copy(b[1:], histUpper[:])
	return b
}

// percentile estimates the p-quantile (0 < p <= 1) of a histogram by linear
// interpolation inside the bin holding the rank. The open last bin yields
// its lower bound. It returns 0 for an empty histogram.
func percentile(h []int64, p float64) float64 {
	var n int64
	for _, c := range h {
		n += c
	}
	if n == 0 {
		return 0
	}
	rank := p * float64(n)
	var cum int64
	for i, c := range h {
		if c == 0 {
			continue
		}
		if float64(cum+c) >= rank {
			lo := 0.0
			if i > 0 {
				lo = float64(histUpper[i-1])
			}
			if i == histBins-1 {
				return lo
			}
			hi := float64(histUpper[i])
			frac := (rank - float64(cum)) / float64(c)
			return lo + frac*(hi-lo)
		}
		cum += c
	}
	return float64(histUpper[histBins-2])
}
