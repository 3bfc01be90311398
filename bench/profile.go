package main

import (
	"context"
	"fmt"
	"os"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/devplatform/account-migration/local/stacktest"
	"github.com/devplatform/account-migration/shared/dynamostore"
	"github.com/devplatform/account-migration/shared/migration"
)

// The profile of the commit: the same use case the Move step runs
// (migration.Migrator.Move over dynamostore), in this process, on the same
// kind of table and endpoint, with every DynamoDB call timed by operation and
// a CPU profile of the Go side. It answers "where does a chunk's time go".

// timedAPI times every call of the store's DynamoDB client by operation.
type timedAPI struct {
	dynamostore.API
	mu  sync.Mutex
	ops map[string]*opTime
}

type opTime struct {
	Calls int
	Total time.Duration
}

func (t *timedAPI) record(op string, began time.Time) {
	d := time.Since(began)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ops == nil {
		t.ops = map[string]*opTime{}
	}
	o := t.ops[op]
	if o == nil {
		o = &opTime{}
		t.ops[op] = o
	}
	o.Calls++
	o.Total += d
}

func (t *timedAPI) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	defer t.record("GetItem", time.Now())
	return t.API.GetItem(ctx, in, opts...)
}

func (t *timedAPI) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	defer t.record("Query", time.Now())
	return t.API.Query(ctx, in, opts...)
}

func (t *timedAPI) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	defer t.record("TransactWriteItems", time.Now())
	return t.API.TransactWriteItems(ctx, in, opts...)
}

func (t *timedAPI) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	defer t.record("UpdateItem", time.Now())
	return t.API.UpdateItem(ctx, in, opts...)
}

func (t *timedAPI) reset() {
	t.mu.Lock()
	t.ops = nil
	t.mu.Unlock()
}

// moveProfile is the breakdown of one in-process Move.
type moveProfile struct {
	Assets  int
	Wall    time.Duration
	GoCPU   time.Duration // user+system CPU of this process during the move
	MotoCPU time.Duration // the same for moto, the store
	Ops     map[string]opTime
	PProf   string // CPU profile file
	Summary string // top of the CPU profile, if go tool pprof ran
}

func (p moveProfile) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d assets moved in %s; CPU: Go (this process) %s = %.0f%% of the wall time, moto %s = %.0f%%\n", p.Assets, p.Wall.Round(time.Millisecond),
		p.GoCPU.Round(time.Millisecond), 100*p.GoCPU.Seconds()/p.Wall.Seconds(), p.MotoCPU.Round(time.Millisecond), 100*p.MotoCPU.Seconds()/p.Wall.Seconds())
	names := make([]string, 0, len(p.Ops))
	for k := range p.Ops {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool { return p.Ops[names[i]].Total > p.Ops[names[j]].Total })
	for _, k := range names {
		o := p.Ops[k]
		fmt.Fprintf(&b, "  %-20s %4d calls  %9s  %6.1f ms/call  %4.0f%% of the wall time\n", k, o.Calls, o.Total.Round(time.Millisecond),
			float64(o.Total.Microseconds())/1000/float64(o.Calls), 100*o.Total.Seconds()/p.Wall.Seconds())
	}
	return b.String()
}

// profileMove loads w into a fresh table on the stack's endpoint, takes its
// one batch to COMMITTING through the use cases, and times Move.
func (e env) profileMove(ctx context.Context, w workload, pprofPath string) (moveProfile, error) {
	p := moveProfile{Assets: w.Assets, PProf: pprofPath}
	s, err := e.start(ctx, w.Snapshot, 1)
	if err != nil {
		return p, err
	}
	defer s.Close()
	api := &timedAPI{API: s.db}
	store := dynamostore.New(api, s.TableName)
	m := migration.New(migration.Deps{Store: store, Signal: stacktest.NopSignaller{}, ChunkSize: 99})
	b, err := readyBatch(ctx, m, w)
	if err != nil {
		return p, err
	}
	if _, err := m.Confirm(ctx, w.Source, b.MigrationID, b.BatchID); err != nil {
		return p, err
	}
	api.reset()
	f, err := os.Create(pprofPath)
	if err != nil {
		return p, err
	}
	defer f.Close()
	var procs procTable
	cpu0, moto0 := processCPU(), procs.read().Moto
	if err := pprof.StartCPUProfile(f); err != nil {
		return p, err
	}
	began := time.Now()
	prog, err := m.Move(ctx, b.MigrationID, b.BatchID, time.Time{})
	p.Wall = time.Since(began)
	pprof.StopCPUProfile()
	p.GoCPU, p.MotoCPU = processCPU()-cpu0, procs.read().Moto-moto0
	if err != nil {
		return p, err
	}
	if prog.Moved != w.Assets {
		return p, fmt.Errorf("moved %d of %d", prog.Moved, w.Assets)
	}
	p.Ops = map[string]opTime{}
	for k, v := range api.ops {
		p.Ops[k] = *v
	}
	return p, nil
}

// readyBatch begins a migration of w's account and takes its batch through
// agreement and target, as the developer would over HTTP.
func readyBatch(ctx context.Context, m *migration.Migrator, w workload) (migration.Batch, error) {
	res, err := m.Begin(ctx, migration.BeginInput{MigrationID: migration.NewMigrationID(), Source: w.Source, RequestedBy: "bench", BatchKeys: w.BatchKeys[:1]})
	if err != nil {
		return migration.Batch{}, err
	}
	if len(res.BatchIDs) != 1 {
		return migration.Batch{}, fmt.Errorf("begin: %d batches", len(res.BatchIDs))
	}
	meta := migration.RequestMeta{SourceIP: "127.0.0.1", UserAgent: "bench"}
	a, err := m.ViewAgreement(ctx, w.Source, meta)
	if err != nil {
		return migration.Batch{}, err
	}
	if _, err := m.AcceptAgreement(ctx, w.Source, res.MigrationID, res.BatchIDs[0], a.Version, a.SHA256, meta); err != nil {
		return migration.Batch{}, err
	}
	return m.SelectTarget(ctx, w.Source, res.MigrationID, res.BatchIDs[0], migration.Target{Mode: migration.TargetModeNew})
}

// processCPU is this process's user+system CPU time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
