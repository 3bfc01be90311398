package reconcile

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
)

// Report is the outcome of Check: how many records of each kind were looked
// at, and every violation found.
type Report struct {
	Checked    map[string]int `json:"checked"`
	Violations []Violation    `json:"violations"`
}

// OK reports whether no invariant is broken.
func (r Report) OK() bool { return len(r.Violations) == 0 }

// Counts is the number of violations of each kind.
func (r Report) Counts() map[Kind]int {
	out := map[Kind]int{}
	for _, v := range r.Violations {
		out[v.Kind]++
	}
	return out
}

// Has reports whether the report holds a violation of kind on id.
func (r Report) Has(kind Kind, id string) bool {
	for _, v := range r.Violations {
		if v.Kind == kind && v.ID == id {
			return true
		}
	}
	return false
}

// Intersect keeps the violations also present in later: on a table that is
// still changing, a violation seen by two reads some seconds apart is not an
// artefact of a scan that raced a move.
func (r Report) Intersect(later Report) Report {
	out := Report{Checked: later.Checked, Violations: []Violation{}}
	for _, v := range later.Violations {
		if r.Has(v.Kind, v.ID) {
			out.Violations = append(out.Violations, v)
		}
	}
	return out
}

// JSON renders the report as indented JSON.
func (r Report) JSON() ([]byte, error) {
	if r.Violations == nil {
		r.Violations = []Violation{}
	}
	return json.MarshalIndent(r, "", "  ")
}

// WriteText renders the report for a terminal: what was checked, then one
// line per violation, then the verdict.
func (r Report) WriteText(w io.Writer) error {
	var b strings.Builder
	keys := make([]string, 0, len(r.Checked))
	for k := range r.Checked {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%d %s", r.Checked[k], k))
	}
	fmt.Fprintf(&b, "checked: %s\n", strings.Join(parts, ", "))
	if r.OK() {
		b.WriteString("OK: no violations\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tID\tDETAIL")
	for _, v := range r.Violations {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", v.Kind, v.ID, v.Detail)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	counts := r.Counts()
	kinds := make([]string, 0, len(counts))
	for k, n := range counts {
		kinds = append(kinds, fmt.Sprintf("%s=%d", k, n))
	}
	sort.Strings(kinds)
	fmt.Fprintf(&b, "FAIL: %d violation(s): %s\n", len(r.Violations), strings.Join(kinds, " "))
	_, err := io.WriteString(w, b.String())
	return err
}

// Text is WriteText into a string.
func (r Report) Text() string {
	var b strings.Builder
	_ = r.WriteText(&b)
	return b.String()
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
