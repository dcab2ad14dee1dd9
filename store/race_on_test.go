//go:build race

package store

// raceDetector is set when the tests run under the race detector, which
// makes SQLite (compiled Go) about twenty times slower: the longest
// comparisons run on fewer queries then.
const raceDetector = true
