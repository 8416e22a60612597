package reports

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// errorItem is one entry of an error list: a kind, the value its errors
// carried ("" for a kind without values, or for the part of a kind's count
// no value accounts for), and how many.
type errorItem struct {
	kind, value string
	n           int64
}

func (e errorItem) String() string {
	if e.value == "" {
		return e.kind + " ×" + strconv.FormatInt(e.n, 10)
	}
	return e.kind + " " + e.value + " ×" + strconv.FormatInt(e.n, 10)
}

// errorItems splits error counts by kind (summary.json's errors) into one
// item per kind and value (error_values), most frequent first, then by
// kind and value. A kind's count that its values do not add up to (a
// summary written before error_values) stays an item without a value.
func errorItems(errs map[string]int64, values map[string]map[string]int64) []errorItem {
	var items []errorItem
	for kind, n := range errs {
		if n <= 0 {
			continue
		}
		for v, c := range values[kind] {
			if c > 0 {
				items = append(items, errorItem{kind, v, c})
				n -= c
			}
		}
		if n > 0 {
			items = append(items, errorItem{kind, "", n})
		}
	}
	slices.SortFunc(items, func(a, b errorItem) int {
		return cmp.Or(cmp.Compare(b.n, a.n), strings.Compare(a.kind, b.kind), strings.Compare(a.value, b.value))
	})
	return items
}

// ErrorList lists error counts with the values the errors carried, most
// frequent first: "http_status 404 ×5, wrong_content_type text/html ×2,
// connect_refused ×1". "" when there were none. The text table, report.md
// and junit.xml say errors this way.
func ErrorList(errs map[string]int64, values map[string]map[string]int64) string {
	items := errorItems(errs, values)
	parts := make([]string, len(items))
	for i, it := range items {
		parts[i] = it.String()
	}
	return strings.Join(parts, ", ")
}

// ValueList lists one kind's values, most frequent first: "404 ×3, 503
// ×2"; "" when it has none. report.html's errors table says a kind's
// values this way, beside its count.
func ValueList(kind string, values map[string]map[string]int64) string {
	items := errorItems(map[string]int64{kind: sumValues(values[kind])}, values)
	parts := make([]string, 0, len(items))
	for _, it := range items {
		parts = append(parts, it.value+" ×"+strconv.FormatInt(it.n, 10))
	}
	return strings.Join(parts, ", ")
}

func sumValues(vs map[string]int64) (n int64) {
	for _, c := range vs {
		n += c
	}
	return n
}
