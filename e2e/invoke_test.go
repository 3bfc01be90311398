package e2e

import (
	"encoding/json"
	"net/url"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// `make invoke` runs one function on the running stack through the AWS
// endpoint's Lambda invoke path, with a sample event of events/, as
// `sam local invoke -e` would.
func TestMakeInvokeRunsOneFunction(t *testing.T) {
	s := startStack(t, nil, nil)
	u, err := url.Parse(s.AWSEndpoint)
	require.NoError(t, err)
	invoke := func(args ...string) ([]byte, error) {
		cmd := exec.Command("make", append([]string{"-s", "--no-print-directory", "invoke", "AWS_PORT=" + u.Port()}, args...)...)
		cmd.Dir = ".."
		return cmd.Output()
	}

	out, err := invoke("FN=ApiFunction", "EVENT=events/api-get-plan.json")
	require.NoError(t, err, "%s", out)
	var res struct {
		StatusCode int    `json:"statusCode"`
		Body       string `json:"body"`
	}
	require.NoError(t, json.Unmarshal(out, &res), "%s", out)
	assert.Equal(t, 200, res.StatusCode, res.Body)
	var plan struct {
		Eligible bool  `json:"eligible"`
		Batches  []any `json:"batches"`
	}
	require.NoError(t, json.Unmarshal([]byte(res.Body), &plan))
	assert.True(t, plan.Eligible, "alice's plan, as the sample event's claims say: %s", res.Body)
	assert.Len(t, plan.Batches, 2, res.Body)

	_, err = invoke("FN=NoSuchFunction")
	assert.Error(t, err, "an unknown function fails the command")
	_, err = invoke()
	assert.Error(t, err, "no FN: usage, and failure")
}
