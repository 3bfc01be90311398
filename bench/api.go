package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	apiclient "github.com/devplatform/account-migration/api/client"
)

// The API latency figure: GET /v1/assets and GET /v1/migrations/{id} for an
// account of many apps, at a number of concurrent clients, against the raw
// DynamoDB Query each of them needs at least, on the same endpoint at the
// same concurrency. Every function runs as many emulator instances as there
// are clients (as Lambda would run that many instances), warmed up first, so
// cold starts and queueing for an instance stay out of the figure.

type latencies struct {
	Name    string
	Samples []time.Duration
	CPU     time.Duration // the stack's CPU over all of them
}

func (l latencies) quantile(q float64) time.Duration {
	if len(l.Samples) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), l.Samples...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(q*float64(len(s))+0.5) - 1
	return s[max(0, min(i, len(s)-1))]
}

func (l latencies) cpuPerRequest() time.Duration {
	if len(l.Samples) == 0 {
		return 0
	}
	return l.CPU / time.Duration(len(l.Samples))
}

type apiResult struct {
	Apps, Clients int
	// API and raw, by route: assets, assetsRaw, migration, migrationRaw.
	Routes map[string]*latencies
}

// apiLatency measures the two routes and their raw queries, interleaved in
// rounds so that a busier or quieter moment falls on all four alike.
func (e env) apiLatency(ctx context.Context, apps, clients, perClient int) (apiResult, error) {
	res := apiResult{Apps: apps, Clients: clients, Routes: map[string]*latencies{}}
	w, err := newAppWorkload(apps)
	if err != nil {
		return res, err
	}
	s, err := e.start(ctx, w.Snapshot, clients)
	if err != nil {
		return res, err
	}
	defer s.Close()
	kinds, err := apiRoutes(ctx, s, w, clients)
	if err != nil {
		return res, err
	}
	for _, k := range kinds {
		res.Routes[k.name] = &latencies{Name: k.name}
	}
	// Warm every instance: a round at full concurrency, not measured.
	for _, k := range kinds {
		if _, err := burst(ctx, clients, 1, k.do); err != nil {
			return res, fmt.Errorf("warm-up %s: %w", k.name, err)
		}
	}
	var procs procTable
	// Rounds of one request per client and kind, interleaved.
	for r := 0; r < max(1, perClient); r++ {
		for _, k := range kinds {
			c0 := procs.read()
			d, err := burst(ctx, clients, 1, k.do)
			if err != nil {
				return res, fmt.Errorf("%s: %w", k.name, err)
			}
			l := res.Routes[k.name]
			l.CPU += procs.read().sub(c0).total()
			l.Samples = append(l.Samples, d...)
		}
	}
	for _, k := range kinds {
		l := res.Routes[k.name]
		slog.Info("latency", "route", k.name, "n", len(l.Samples), "p50", l.quantile(0.5).Round(time.Millisecond),
			"p99", l.quantile(0.99).Round(time.Millisecond), "cpu/req", l.cpuPerRequest().Round(time.Millisecond))
	}
	return res, nil
}

// apiRoute is one kind of request measured: a route, or its raw query.
type apiRoute struct {
	name string
	do   func(context.Context) error
}

// apiRoutes are the two routes of w's developer and the raw Query each
// needs at least, on a migration the developer starts to have one to read.
func apiRoutes(ctx context.Context, s *localStack, w workload, clients int) ([]apiRoute, error) {
	token, err := s.Token(w.Source.Platform, w.Source.ID, w.Login)
	if err != nil {
		return nil, err
	}
	// The typed client without the spec check: validating each answer would
	// add its own CPU to the figures.
	hc := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: clients * 2}}
	dev := apiclient.New(s.APIURL, token, hc)

	// Its batch then waits for the agreement, so nothing moves while we measure.
	started, _, err := dev.StartMigration(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("start migration: %w", err)
	}
	mid := started.MigrationID

	// What each route needs at least: one page of the account's items from
	// the index (the API's default page, 200), and the migration with its
	// batches (one partition).
	assetsQ, err := rawQuery(s.TableName, "gsi1", "gsi1pk", "HOLD#src:"+w.Source.Platform+":"+w.Source.ID, 200)
	if err != nil {
		return nil, err
	}
	migQ, err := rawQuery(s.TableName, "", "pk", "MIGRATION#"+mid, 0)
	if err != nil {
		return nil, err
	}
	return []apiRoute{
		{"assets", func(ctx context.Context) error { _, _, err := dev.Assets(ctx, apiclient.Page{}); return err }},
		{"assetsRaw", func(ctx context.Context) error { _, err := s.db.Query(ctx, assetsQ); return err }},
		{"migration", func(ctx context.Context) error { _, _, err := dev.Migration(ctx, mid); return err }},
		{"migrationRaw", func(ctx context.Context) error { _, err := s.db.Query(ctx, migQ); return err }},
	}, nil
}

// burst runs do from clients goroutines, each n times in a row, and returns
// every latency.
func burst(ctx context.Context, clients, n int, do func(context.Context) error) ([]time.Duration, error) {
	var mu sync.Mutex
	var out []time.Duration
	var firstErr error
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < n; i++ {
				t := time.Now()
				err := do(ctx)
				d := time.Since(t)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				out = append(out, d)
				mu.Unlock()
				if err != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	return out, firstErr
}

// rawQuery is one page of a key-condition query (limit 0 = DynamoDB's own).
func rawQuery(table, index, pkAttr, pk string, limit int32) (*dynamodb.QueryInput, error) {
	expr, err := expression.NewBuilder().WithKeyCondition(expression.Key(pkAttr).Equal(expression.Value(pk))).Build()
	if err != nil {
		return nil, err
	}
	in := &dynamodb.QueryInput{TableName: aws.String(table), KeyConditionExpression: expr.KeyCondition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()}
	if index != "" {
		in.IndexName = aws.String(index)
	} else {
		in.ConsistentRead = aws.Bool(true)
	}
	if limit > 0 {
		in.Limit = aws.Int32(limit)
	}
	return in, nil
}

// routeLabel names a route for the report.
func routeLabel(name string) string {
	switch strings.TrimSuffix(name, "Raw") {
	case "assets":
		return "GET /v1/assets"
	case "migration":
		return "GET /v1/migrations/{id}"
	}
	return name
}
