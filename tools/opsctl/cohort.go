package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// account is one line of a cohort: an old-platform account to migrate.
type account struct {
	Platform  string   `json:"platform"`
	AccountID string   `json:"accountId"`
	BatchKeys []string `json:"batchKeys,omitempty"`
}

func (a account) ref() string { return a.Platform + ":" + a.AccountID }

// readCohort reads a CSV (header platform,accountId[,batchKeys]; batch keys
// separated by ";") or a JSON array of {"platform","accountId"[,"batchKeys"]},
// chosen by the file's first non-blank character. The same account twice is
// refused: it would race itself for the account's one active migration.
func readCohort(path string) ([]account, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var accts []account
	if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] == '[' {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&accts); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	} else if accts, err = readCohortCSV(bytes.NewReader(raw)); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	seen := map[string]int{}
	for i, a := range accts {
		if a.Platform == "" || a.AccountID == "" {
			return nil, fmt.Errorf("%s: account %d: platform and accountId are required", path, i+1)
		}
		if j, dup := seen[a.ref()]; dup {
			return nil, fmt.Errorf("%s: account %s is listed twice (entries %d and %d)", path, a.ref(), j+1, i+1)
		}
		seen[a.ref()] = i
	}
	if len(accts) == 0 {
		return nil, fmt.Errorf("%s: no accounts", path)
	}
	return accts, nil
}

func readCohortCSV(r io.Reader) ([]account, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	cr.Comment = '#'
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(h)] = i
	}
	pi, okP := col["platform"]
	ai, okA := col["accountId"]
	bi, okB := col["batchKeys"]
	if !okP || !okA {
		return nil, fmt.Errorf("header must name platform,accountId[,batchKeys]; got %q", strings.Join(header, ","))
	}
	var out []account
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		if len(rec) <= max(pi, ai) {
			return nil, fmt.Errorf("line %d: want platform,accountId[,batchKeys]", line)
		}
		a := account{Platform: strings.TrimSpace(rec[pi]), AccountID: strings.TrimSpace(rec[ai])}
		if okB && bi < len(rec) {
			for _, k := range strings.Split(rec[bi], ";") {
				if k = strings.TrimSpace(k); k != "" {
					a.BatchKeys = append(a.BatchKeys, k)
				}
			}
		}
		out = append(out, a)
	}
}

// executionName is the deterministic name of an account's execution, which
// is also its migration id: running the same cohort again finds the same
// executions instead of starting new ones. Names allow 80 characters of
// [A-Za-z0-9-_]; the hash keeps two accounts apart when cleaning or cutting
// their ids makes them look alike. attempt > 1 marks a retry after a failure.
func executionName(prefix string, a account, attempt int) string {
	sum := sha256.Sum256([]byte(a.ref()))
	suffix := "-" + hex.EncodeToString(sum[:4])
	if attempt > 1 {
		suffix += fmt.Sprintf("-r%d", attempt)
	}
	clean := func(s string) string {
		return strings.Map(func(r rune) rune {
			switch {
			case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
				return r
			}
			return '_'
		}, s)
	}
	head := clean(prefix)
	if head != "" {
		head += "-"
	}
	head += clean(a.Platform) + "-"
	room := 80 - len(head) - len(suffix)
	id := clean(a.AccountID)
	if len(id) > room {
		id = id[:max(room, 0)]
	}
	name := head + id + suffix
	if len(name) > 80 {
		name = name[len(name)-80:]
	}
	return name
}

// result is one line of the results file: where an account's execution got to.
type result struct {
	Platform          string         `json:"platform"`
	AccountID         string         `json:"accountId"`
	BatchKeys         []string       `json:"batchKeys,omitempty"`
	ExecutionArn      string         `json:"executionArn"`
	MigrationID       string         `json:"migrationId"`
	ExecutionStatus   string         `json:"executionStatus,omitempty"`
	State             string         `json:"state"`
	Batches           []batchOutcome `json:"batches,omitempty"`
	ActiveMigrationID string         `json:"activeMigrationId,omitempty"`
	Attempt           int            `json:"attempt"`
	Seconds           float64        `json:"seconds"`
	Error             string         `json:"error,omitempty"`

	staleClaimReleased bool // this attempt freed the account: try again at once
}

type batchOutcome struct {
	BatchID  string `json:"batchId,omitempty"`
	BatchKey string `json:"batchKey"`
	State    string `json:"state"`
}

func (r result) account() account {
	return account{Platform: r.Platform, AccountID: r.AccountID, BatchKeys: r.BatchKeys}
}

// failed is what --retry-from retries: an error, or an execution that failed.
func (r result) failed() bool { return r.Error != "" || r.State == stateFailed }

// executionEnded reports an execution that has ended: its name is taken for
// good, so a retry needs a new one. A retry of one still running (it only
// took longer than --timeout) finds it again under the same name.
func (r result) executionEnded() bool {
	return r.ExecutionStatus != "" && r.ExecutionStatus != "RUNNING"
}

const stateFailed = "FAILED"

func readResults(path string) ([]result, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []result
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var r result
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		if r.Platform == "" || r.AccountID == "" {
			return nil, fmt.Errorf("%s:%d: no platform/accountId", path, line)
		}
		out = append(out, r)
	}
	return out, sc.Err()
}

// writeResults replaces path with one JSON line per result, atomically, so
// an interrupted run never leaves half a file to retry from.
func writeResults(path string, rs []result) error {
	var b bytes.Buffer
	for _, r := range rs {
		line, err := json.Marshal(r)
		if err != nil {
			return err
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".results-*.jsonl")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(b.Bytes()); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// cohortWork is a run's plan: every line of the results file, and which of
// them to run now under which execution name.
type cohortWork struct {
	results  []result
	todo     []int
	names    map[int]string
	attempts map[int]int
}

// freshWork runs every account of the cohort, first attempt.
func freshWork(path, prefix string) (*cohortWork, error) {
	accts, err := readCohort(path)
	if err != nil {
		return nil, err
	}
	w := &cohortWork{names: map[int]string{}, attempts: map[int]int{}}
	for i, a := range accts {
		w.results = append(w.results, result{Platform: a.Platform, AccountID: a.AccountID, BatchKeys: a.BatchKeys})
		w.todo = append(w.todo, i)
		w.names[i], w.attempts[i] = executionName(prefix, a, 1), 1
	}
	return w, nil
}

// retryWork runs again the lines of an earlier run that failed. The names
// come from the file, so a retry needs no flags repeated: an execution that
// has ended keeps its name for good and the retry runs under the next one
// (-r2, -r3, ...); one still running (it only outlasted --timeout) is found
// again under its own.
func retryWork(path, prefix string) (*cohortWork, error) {
	prev, err := readResults(path)
	if err != nil {
		return nil, err
	}
	w := &cohortWork{results: prev, names: map[int]string{}, attempts: map[int]int{}}
	for i, r := range prev {
		if !r.failed() {
			continue
		}
		w.todo = append(w.todo, i)
		name, attempt := executionName(prefix, r.account(), max(r.Attempt, 1)), max(r.Attempt, 1)
		if j := strings.LastIndex(r.ExecutionArn, ":"); j >= 0 && r.ExecutionArn != "" {
			name = r.ExecutionArn[j+1:]
		}
		if r.executionEnded() {
			name, attempt = nextAttemptName(name), attempt+1
		}
		w.names[i], w.attempts[i] = name, attempt
	}
	return w, nil
}
