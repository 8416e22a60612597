// Package suggest finds the name a user probably meant when they typed one
// that does not exist: a scenario, a target, a command, a flag or a key.
package suggest

import "strings"

// Closest returns the candidate the user most likely meant by s, or "" when
// none is close: the nearest within edit distance 2 (a dropped, added,
// changed or swapped letter or two), provided s is longer than that
// distance, so "x" suggests nothing rather than anything of a letter or two;
// else the one candidate that s starts (at least 3 letters), so "idle"
// suggests "idle-timeout". Ties go to the earlier candidate.
func Closest(s string, candidates []string) string {
	best, bestD := "", 3
	for _, c := range candidates {
		if d := Distance(s, c); d < bestD && d < len(s) {
			best, bestD = c, d
		}
	}
	if best != "" || len(s) < 3 {
		return best
	}
	for _, c := range candidates {
		if strings.HasPrefix(c, s) {
			if best != "" {
				return "" // ambiguous: "nginx" starts both nginx-stock and nginx-sse
			}
			best = c
		}
	}
	return best
}

// Distance is the optimal string alignment distance between a and b: the
// fewest single-byte insertions, deletions, substitutions and swaps of two
// adjacent bytes that turn one into the other (Levenshtein plus
// transpositions, so "stedy"→"steady" is 1 and "sedd"→"seed" is 1).
func Distance(a, b string) int {
	// Three rows: the previous two (for transpositions) and the current.
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
