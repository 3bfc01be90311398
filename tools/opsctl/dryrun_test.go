package main

import (
	"context"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/local/stack"
	"github.com/devplatform/account-migration/local/stacktest"
	"github.com/devplatform/account-migration/shared/migration"
)

// TestDryRunWritesNothing runs bulk-start and resume with --dry-run on a
// stack that has work for both (two fresh accounts; a migration parked on its
// agreement), and checks they said what they would do while every record of
// the table and every execution stayed as it was.
func TestDryRunWritesNothing(t *testing.T) {
	s := localStack(t)
	c := awsClients(s)
	importAccounts(t, c, "dry1", "dry2", "dry3")
	const parked = "dry-run-parked"
	startExecution(t, s, c, parked, map[string]any{
		"source": map[string]any{"platform": "microapp", "accountId": "ma-dry3"}, "requestedBy": "ops:test"})
	batchIn(t, c, parked, migration.AwaitingAgreement, time.Minute)

	table, execs := tableRecords(t, c, s), executionStates(t, c, s)
	cohort := writeFile(t, "cohort.csv", "platform,accountId\nmicroapp,ma-dry1\nmicroapp,ma-dry2\nmicroapp,ma-dry3\n")
	results := filepath.Join(t.TempDir(), "results.jsonl")
	code, out := opsctl(t, s.AWSEndpoint, "bulk-start", "--accounts", cohort, "--results", results, "--dry-run")
	require.Equal(t, exitOK, code, out)
	assert.Regexp(t, `dry run: microapp:ma-dry1: would start execution arn:\S+:execution:\S+:bulk-microapp-ma-dry1-[0-9a-f]{8}\n`, out)
	assert.Regexp(t, `dry run: microapp:ma-dry3: would start execution \S+; latest migration `+parked+` \(open, created \S+\)\n`, out)
	assert.Contains(t, out, "dry run: 3 execution(s) would start, 0 would be followed; results would go to "+results)
	assert.NoFileExists(t, results)

	code, out = opsctl(t, s.AWSEndpoint, "resume", "--migration-id", parked, "--close-waiting", "--dry-run")
	require.Equal(t, exitOK, code, out)
	assert.Regexp(t, `AWAITING_AGREEMENT, would end FAILED \(WORKFLOW_STOPPED\); nothing would move`, out)
	assert.Contains(t, out, "dry run: migration "+parked+" would be summarised and the account freed")

	assert.Equal(t, table, tableRecords(t, c, s), "the table changed")
	assert.Equal(t, execs, executionStates(t, c, s), "executions changed")
}

// tableRecords is every record of the table as sorted JSON lines.
func tableRecords(t *testing.T, c clients, s *stack.Stack) []string {
	t.Helper()
	out := stacktest.TableRows(t, c.db, s.TableName)
	sort.Strings(out)
	return out
}

// executionStates is every execution of the state machine with its status.
func executionStates(t *testing.T, c clients, s *stack.Stack) map[string]string {
	t.Helper()
	out := map[string]string{}
	p := sfn.NewListExecutionsPaginator(c.sf, &sfn.ListExecutionsInput{StateMachineArn: aws.String(s.StateMachineARN)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		require.NoError(t, err)
		for _, e := range page.Executions {
			out[aws.ToString(e.Name)] = string(e.Status)
		}
	}
	return out
}
