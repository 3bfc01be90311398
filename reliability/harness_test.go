// Package reliability proves that faults lose and duplicate nothing and that
// hostile or foreign requests change nothing:
//
//   - soak_test.go: 1,000+ migrations driven through the use cases over the
//     DynamoDB store, with faults injected at the wire (local/faultproxy in
//     front of moto) and callers killed mid-step, then every invariant checked
//     over a full read of the table (invariants_test.go);
//   - faults_test.go: one scenario per fault, each with its expected outcome;
//   - hostile_test.go and auth_test.go: the running local stack, over HTTP.
//
// RELIABILITY.md at the project root says what is tried and how to rerun it.
package reliability

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/local/faultproxy"
	"github.com/devplatform/account-migration/local/moto"
	"github.com/devplatform/account-migration/local/moto/mototest"
	"github.com/devplatform/account-migration/local/stack"
	"github.com/devplatform/account-migration/local/stacktest"
	"github.com/devplatform/account-migration/shared/dynamostore"
	"github.com/devplatform/account-migration/shared/migration"
)

const projectDir = ".."

// moto servers for the store-level tests of the package, started on first
// use, as many as the soak spreads its tables over (SOAK_MOTOS). Tests here
// run one at a time; each gets the servers it uses reset and deploys its
// tables anew.
var motos = stacktest.MotoPool{Size: max(2, envInt("SOAK_MOTOS", 2))}

func TestMain(m *testing.M) {
	code := m.Run()
	_ = motos.Close()
	_ = shared.Close()
	os.Exit(code)
}

// motoServers lends the test n moto servers, reset. moto serves requests on
// one core (Python), so a long run spreads its tables over two.
func motoServers(t testing.TB, n int) []*moto.Server {
	t.Helper()
	var out []*moto.Server
	for range n {
		out = append(out, motos.Get(t))
	}
	return out
}

// world is one table behind a fault proxy: the code under test talks through
// the proxy; the checks read through a clean client.
type world struct {
	proxy *faultproxy.Server
	clean *dynamodb.Client // straight to moto: never faulted
	store *dynamostore.Store
	m     *migration.Migrator
	table string
	snap  *migration.Snapshot
}

// backend is one moto, reset, with the template's table deployed, and a
// fault proxy (no rules yet) in front of it.
type backend struct {
	clean  *dynamodb.Client
	faulty *dynamodb.Client
	proxy  *faultproxy.Server
	table  string
}

// newBackends resets n moto servers and puts a proxy in front of each.
func newBackends(t testing.TB, n int, seed uint64) []*backend {
	t.Helper()
	ctx := context.Background()
	var out []*backend
	for i, srv := range motoServers(t, n) {
		clean := dynamodb.NewFromConfig(mototest.AWSConfig(srv.Endpoint))
		table, err := stack.DeployTable(ctx, clean, projectDir)
		require.NoError(t, err)
		p, err := faultproxy.Start(srv.Endpoint, faultproxy.Options{Seed: seed + uint64(i), Serialize: true})
		require.NoError(t, err)
		t.Cleanup(func() { _ = p.Close() })
		out = append(out, &backend{clean: clean, faulty: faultyClient(p.URL), proxy: p, table: table})
	}
	return out
}

// world loads snap into a table named name, a copy of the template's table
// ("" = the template's table itself), for a migrator moving chunk items per
// transaction. moto copies a whole table for every TransactWriteItems (its
// rollback snapshot), so many small tables keep a long run fast.
func (be *backend) world(ctx context.Context, name string, snap *migration.Snapshot, chunk int) (*world, error) {
	if name == "" {
		name = be.table
	} else if err := copyTable(ctx, be.clean, be.table, name); err != nil {
		return nil, err
	}
	if err := dynamostore.New(be.clean, name).ImportSnapshot(ctx, snap); err != nil {
		return nil, err
	}
	store := dynamostore.New(be.faulty, name)
	return &world{proxy: be.proxy, clean: be.clean, store: store, table: name, snap: snap,
		m: migration.New(migration.Deps{Store: store, Signal: nopSignal{}, ChunkSize: chunk, CommitOverdue: time.Hour})}, nil
}

// newWorld resets moto and loads snap into the template's table, behind a
// proxy with no rules yet.
func newWorld(t testing.TB, snap *migration.Snapshot, seed uint64, chunk int) *world {
	t.Helper()
	w, err := newBackends(t, 1, seed)[0].world(context.Background(), "", snap, chunk)
	require.NoError(t, err)
	return w
}

// copyTable creates table to with the key schema and indexes of table from.
func copyTable(ctx context.Context, db *dynamodb.Client, from, to string) error {
	d, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(from)})
	if err != nil {
		return err
	}
	in := &dynamodb.CreateTableInput{TableName: aws.String(to), AttributeDefinitions: d.Table.AttributeDefinitions,
		KeySchema: d.Table.KeySchema, BillingMode: types.BillingModePayPerRequest}
	for _, g := range d.Table.GlobalSecondaryIndexes {
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, types.GlobalSecondaryIndex{IndexName: g.IndexName, KeySchema: g.KeySchema, Projection: g.Projection})
	}
	_, err = db.CreateTable(ctx, in)
	return err
}

// faultyClient is the SDK client of the code under test: the SDK's standard
// retryer as the functions have it (so an ambiguous write is resent by the SDK
// itself, and moto, which ignores ClientRequestToken, applies the resend
// again: harsher than DynamoDB), with two attempts and short pauses so that
// faults also reach the use cases, which the workflow retries.
func faultyClient(endpoint string) *dynamodb.Client {
	cfg := mototest.AWSConfig(endpoint)
	cfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 2
			o.RateLimiter = ratelimit.None
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) {
				return time.Duration(2+rand.IntN(8)) * time.Millisecond, nil
			})
		})
	}
	return dynamodb.NewFromConfig(cfg)
}

// nopSignal: no workflow waits on these batches (the callback path is
// proven end to end in e2e/).
type nopSignal = stacktest.NopSignaller

func envInt(name string, def int) int {
	if v := os.Getenv(name); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			return n
		}
		panic(fmt.Sprintf("%s=%q is not a non-negative integer", name, v))
	}
	return def
}
