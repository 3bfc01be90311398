package importer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/devplatform/account-migration/shared/migration"
)

// RunsAPI is what the workflow's steps need of S3: read the input, keep
// each run's files (runs/<run>/) beside it.
type RunsAPI interface {
	S3API
	PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// Steps are the import workflow's steps (functions/import only wires them):
// each invocation handles one object, or gathers what every object's
// invocation left under runs/<run>/ in the import bucket.
type Steps struct {
	S3     RunsAPI
	Bucket string
	// Owner is the account the bucket must belong to (S3 refuses a call
	// to a bucket of the same name in another account); "" checks nothing.
	Owner string
	Table Table
	Lease Lease
	// LeaseFor is how long the lock lasts unrenewed (dynamostore.ImportLease).
	LeaseFor time.Duration

	mu    sync.Mutex
	index map[string]*Index // by run: a warm invocation reads it once
}

// Step is one invocation's input: Op is scan, gatherScan, lock, check,
// gatherCheck, write, finish or unlock; Key the object (scan, check,
// write); Level the write's level.
type Step struct {
	Op     string `json:"op"`
	Run    string `json:"run"`
	Key    string `json:"key,omitempty"`
	Level  int    `json:"level,omitempty"`
	DryRun bool   `json:"dryRun,omitempty"`
}

// StepResult is what a step hands back to the workflow: counts only (the
// records and the refusals stay in S3, whatever their number).
type StepResult struct {
	Records int64    `json:"records"`
	Refused int      `json:"refused"`
	Objects int      `json:"objects,omitempty"`
	Summary *Summary `json:"summary,omitempty"`
}

// ImportLockBusy: another import holds the table's import lock (the
// workflow retries, then fails).
type ImportLockBusy struct {
	Holder string
	Until  time.Time
}

func (e *ImportLockBusy) Error() string {
	return fmt.Sprintf("the table's import lock is held by %s until %s", e.Holder, e.Until.UTC().Format(time.RFC3339))
}

// ImportLockLost: another import took the lock while this run held it.
type ImportLockLost struct{}

func (*ImportLockLost) Error() string { return ErrLockLost.Error() + "; run the import again" }

// NoInput: nothing to import under the prefix.
type NoInput struct{ Prefix string }

func (e *NoInput) Error() string {
	return fmt.Sprintf("no objects under the import prefix %q", e.Prefix)
}

var runName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}$`)

// RunPrefix is where a run keeps its files in the import bucket.
func RunPrefix(run string) string { return "runs/" + run + "/" }

// partName is an object's file name in a phase: a hash of its key, then
// how many records it had (progress reads the listing, not the files).
func partName(key string, records int64) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:12]) + "." + strconv.FormatInt(records, 10) + ".json"
}

// Handle runs one step. Errors Step Functions matches are returned
// unwrapped (ImportLockBusy, ImportLockLost, NoInput).
func (s *Steps) Handle(ctx context.Context, in Step) (StepResult, error) {
	if !runName.MatchString(in.Run) {
		return StepResult{}, fmt.Errorf("run %q: want 1 to 80 letters, digits, - or _", in.Run)
	}
	p := RunPrefix(in.Run)
	switch in.Op {
	case "scan":
		f, err := ScanPart(ctx, s.object(in.Key), s.name(in.Key))
		if err != nil {
			return StepResult{}, err
		}
		return StepResult{Records: f.Records, Refused: len(f.Refusals)}, s.put(ctx, p+"scan/"+partName(in.Key, f.Records), f)
	case "gatherScan":
		return s.gatherScan(ctx, p)
	case "lock":
		holder, until, err := s.Lease.Take(ctx, in.Run)
		if err != nil {
			return StepResult{}, err
		}
		if holder != in.Run {
			return StepResult{}, &ImportLockBusy{Holder: holder, Until: until}
		}
		return StepResult{}, nil
	case "unlock":
		return StepResult{}, s.Lease.Release(ctx, in.Run)
	}
	// The rest run under the lock.
	stop, err := keep(ctx, s.Lease, in.Run, s.LeaseFor)
	if errors.Is(err, ErrLockLost) {
		return StepResult{}, &ImportLockLost{}
	}
	if err != nil {
		return StepResult{}, err
	}
	defer stop()
	switch in.Op {
	case "check", "write":
		ix, err := s.loadIndex(ctx, in.Run)
		if err != nil {
			return StepResult{}, err
		}
		var out partResult
		opt := Options{Refused: func(r Refusal) { out.Refusals = append(out.Refusals, r) }}
		var done int64
		opt.Progress = func(_ Phase, d, _ int64) { done = d }
		var key string
		if in.Op == "check" {
			out.Summary, err = CheckPart(ctx, s.object(in.Key), ix, s.Table, opt)
			key = p + "check/" + partName(in.Key, checkedRecords(out.Summary))
			done = checkedRecords(out.Summary)
		} else {
			out.Summary, err = WritePart(ctx, s.object(in.Key), ix, s.Table, in.Level, opt)
			key = fmt.Sprintf("%swrite/%d/%s", p, in.Level, partName(in.Key, done))
		}
		if err != nil {
			return StepResult{}, err
		}
		return StepResult{Records: done, Refused: out.Summary.Refused}, s.put(ctx, key, out)
	case "gatherCheck":
		return s.gatherCheck(ctx, p, in.DryRun)
	case "finish":
		var sum Summary
		if err := s.get(ctx, p+"summary.json", &sum); err != nil {
			return StepResult{}, err
		}
		return StepResult{Summary: &sum}, s.Lease.Release(ctx, in.Run)
	}
	return StepResult{}, fmt.Errorf("unknown step %q", in.Op)
}

// checkedRecords is how many records a check judged.
func checkedRecords(s Summary) int64 {
	n := int64(s.Added + s.Unchanged + s.Refused)
	for _, c := range s.ByType {
		n += int64(c.Changed)
	}
	return n
}

// partResult is what check and write leave for their object.
type partResult struct {
	Summary  Summary   `json:"summary"`
	Refusals []Refusal `json:"refusals,omitempty"`
}

func (s *Steps) name(key string) string { return fmt.Sprintf("s3://%s/%s", s.Bucket, key) }

// object is one input object as a source.
func (s *Steps) object(key string) Source { return objectSource{s: s, key: key} }

type objectSource struct {
	s   *Steps
	key string
}

func (o objectSource) Each(ctx context.Context, fn func(r migration.Record, bad error) error) error {
	out, err := o.s.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(o.s.Bucket), Key: aws.String(o.key), ExpectedBucketOwner: o.s.owner()})
	if err != nil {
		return fmt.Errorf("read %s: %w", o.s.name(o.key), err)
	}
	defer out.Body.Close()
	return ReadRecords(ctx, out.Body, o.s.name(o.key)+" ", fn)
}

func (s *Steps) put(ctx context.Context, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = s.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key), Body: bytes.NewReader(b),
		ContentType: aws.String("application/json"), ExpectedBucketOwner: s.owner()})
	if err != nil {
		return fmt.Errorf("write %s: %w", s.name(key), err)
	}
	return nil
}

func (s *Steps) get(ctx context.Context, key string, v any) error {
	out, err := s.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key), ExpectedBucketOwner: s.owner()})
	if err != nil {
		return fmt.Errorf("read %s: %w", s.name(key), err)
	}
	defer out.Body.Close()
	return json.NewDecoder(out.Body).Decode(v)
}

func (s *Steps) owner() *string {
	if s.Owner == "" {
		return nil
	}
	return aws.String(s.Owner)
}

// list is every key under prefix, in key order.
func (s *Steps) list(ctx context.Context, prefix string) ([]string, error) {
	return listKeys(ctx, s.S3, &s3.ListObjectsV2Input{Bucket: aws.String(s.Bucket), Prefix: aws.String(prefix), ExpectedBucketOwner: s.owner()})
}

// ListKeys is every key under prefix, in key order.
func ListKeys(ctx context.Context, api s3.ListObjectsV2APIClient, bucket, prefix string) ([]string, error) {
	return listKeys(ctx, api, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
}

func listKeys(ctx context.Context, api s3.ListObjectsV2APIClient, in *s3.ListObjectsV2Input) ([]string, error) {
	bucket, prefix := aws.ToString(in.Bucket), aws.ToString(in.Prefix)
	var keys []string
	p := s3.NewListObjectsV2Paginator(api, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list s3://%s/%s: %w", bucket, prefix, err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	sort.Strings(keys)
	return keys, nil
}

func (s *Steps) loadIndex(ctx context.Context, run string) (*Index, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ix, ok := s.index[run]; ok {
		return ix, nil
	}
	var ix Index
	if err := s.get(ctx, RunPrefix(run)+"index.json", &ix); err != nil {
		return nil, err
	}
	s.index = map[string]*Index{run: &ix} // one run at a time is enough
	return &ix, nil
}

// gatherScan merges every object's facts into the run's index, and names
// what the scans refused (refused.jsonl, summary.json).
func (s *Steps) gatherScan(ctx context.Context, p string) (StepResult, error) {
	keys, err := s.list(ctx, p+"scan/")
	if err != nil {
		return StepResult{}, err
	}
	m := NewMerger()
	for _, k := range keys {
		var f Facts
		if err := s.get(ctx, k, &f); err != nil {
			return StepResult{}, err
		}
		m.Add(f)
	}
	ix := m.Index()
	if ix.Objects == 0 {
		return StepResult{}, &NoInput{Prefix: strings.TrimPrefix(p, "runs/")}
	}
	res := StepResult{Records: ix.Records, Objects: ix.Objects, Refused: len(m.Refusals)}
	if len(m.Refusals) > 0 {
		sum := Summary{Refused: len(m.Refusals), ByType: map[string]*Counts{}}
		if err := s.putRefusals(ctx, p, m.Refusals); err != nil {
			return res, err
		}
		return res, s.put(ctx, p+"summary.json", sum)
	}
	return res, s.put(ctx, p+"index.json", ix)
}

// gatherCheck sums the objects' checks into summary.json and names what
// they refused.
func (s *Steps) gatherCheck(ctx context.Context, p string, dryRun bool) (StepResult, error) {
	keys, err := s.list(ctx, p+"check/")
	if err != nil {
		return StepResult{}, err
	}
	sum := Summary{ByType: map[string]*Counts{}, DryRun: dryRun}
	var refused []Refusal
	for _, k := range keys {
		var r partResult
		if err := s.get(ctx, k, &r); err != nil {
			return StepResult{}, err
		}
		sum.Add(r.Summary)
		refused = append(refused, r.Refusals...)
	}
	if len(refused) > 0 {
		if err := s.putRefusals(ctx, p, refused); err != nil {
			return StepResult{}, err
		}
	}
	res := StepResult{Records: int64(sum.Added + sum.Unchanged + sum.Refused), Refused: sum.Refused, Objects: len(keys), Summary: &sum}
	return res, s.put(ctx, p+"summary.json", sum)
}

// putRefusals writes the refusals as JSON Lines, one a line.
func (s *Steps) putRefusals(ctx context.Context, p string, rs []Refusal) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	for _, r := range rs {
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	_, err := s.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(p + "refused.jsonl"), Body: bytes.NewReader(b.Bytes()),
		ContentType: aws.String("application/x-ndjson"), ExpectedBucketOwner: s.owner()})
	return err
}

// ReadRefusals reads a run's refused.jsonl (none when it is absent).
func ReadRefusals(r io.Reader) ([]Refusal, error) {
	var out []Refusal
	dec := json.NewDecoder(r)
	for {
		var rf Refusal
		if err := dec.Decode(&rf); errors.Is(err, io.EOF) {
			return out, nil
		} else if err != nil {
			return out, err
		}
		out = append(out, rf)
	}
}

// Progress is how far a run is, from its files' names alone.
type Progress struct {
	Phase Phase
	Done  int64
	Total int64
}

// RunProgress reads a run's progress: records scanned (total unknown yet),
// then checked, then written (of the input's total).
func RunProgress(ctx context.Context, api s3.ListObjectsV2APIClient, bucket, run string) (Progress, error) {
	p := RunPrefix(run)
	count := func(prefix string) (int64, int, error) {
		keys, err := ListKeys(ctx, api, bucket, prefix)
		var n int64
		for _, k := range keys {
			parts := strings.Split(k, ".")
			if len(parts) >= 3 {
				v, _ := strconv.ParseInt(parts[len(parts)-2], 10, 64)
				n += v
			}
		}
		return n, len(keys), err
	}
	scanned, _, err := count(p + "scan/")
	if err != nil {
		return Progress{}, err
	}
	checked, nc, err := count(p + "check/")
	if err != nil {
		return Progress{}, err
	}
	if nc == 0 {
		return Progress{Phase: PhaseCheck, Done: scanned / 2}, nil
	}
	written, nw, err := count(p + "write/")
	if err != nil {
		return Progress{}, err
	}
	if nw == 0 {
		return Progress{Phase: PhaseCheck, Done: scanned/2 + checked/2, Total: scanned}, nil
	}
	return Progress{Phase: PhaseWrite, Done: written, Total: scanned}, nil
}
