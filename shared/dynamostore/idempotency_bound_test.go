package dynamostore_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/shared/migration"
)

// A 400 binds its Idempotency-Key like any other answer: the same request
// replays that 400, and another body with the key (the corrected one, or any
// other) is 422 IDEMPOTENCY_KEY_REUSED and runs nothing. A client that fixes
// its body takes a new key, so a late retry of the bad request can never be
// confused with the good one.
func TestIdempotencyKeyStaysBoundAfterBadRequest(t *testing.T) {
	snap := newFixture().subject("subj-p", migration.SubjectPerson).
		account("microapp", "ma-1", "alice@example.com", "subj-p").
		miniprograms("microapp", "ma-1", "subj-p", "p", 2).build(t)
	e := newEnv(t, snap)
	a, _ := e.api(t)
	b := e.readyBatch(t, alice, "subj-p/developer", migration.Target{Mode: migration.TargetModeNew})

	bad := commitCall(b, `{"confirm":"yes"}`, "key-400").do(t, a)
	require.Equal(t, http.StatusBadRequest, bad.StatusCode, bad.Body)

	replay := commitCall(b, `{"confirm":"yes"}`, "key-400").do(t, a)
	assert.Equal(t, http.StatusBadRequest, replay.StatusCode, replay.Body)
	assert.Equal(t, "true", replay.Headers["idempotent-replayed"], "the 400 is the key's answer")

	corrected := commitCall(b, `{"confirm":true}`, "key-400").do(t, a)
	assert.Equal(t, http.StatusUnprocessableEntity, corrected.StatusCode, corrected.Body)
	assert.Equal(t, "IDEMPOTENCY_KEY_REUSED", errCode(t, corrected))
	got, err := e.store.Batch(e.ctx, b.MigrationID, b.BatchID)
	require.NoError(t, err)
	assert.Equal(t, b.State, got.State, "the reused key committed nothing")

	fresh := commitCall(b, `{"confirm":true}`, "key-fresh").do(t, a)
	assert.Equal(t, http.StatusAccepted, fresh.StatusCode, "a new key runs the corrected request: %s", fresh.Body)
}
