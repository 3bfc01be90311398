package stack

import (
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/devplatform/account-migration/local/internal/apigw"
	"github.com/devplatform/account-migration/local/internal/cfn"
	"github.com/devplatform/account-migration/local/internal/iam"
)

// privacyTemplate is template.yaml as a YAML tree, with its resources.
func privacyTemplate(t *testing.T) (root, res *yaml.Node) {
	t.Helper()
	b, err := os.ReadFile("../../template.yaml")
	require.NoError(t, err)
	var doc yaml.Node
	require.NoError(t, yaml.Unmarshal(b, &doc))
	root = doc.Content[0]
	res = get(root, "Resources")
	require.NotNil(t, res)
	return root, res
}

// samconfigOverrides is each environment's deploy parameter_overrides.
func samconfigOverrides(t *testing.T) map[string]map[string]string {
	t.Helper()
	var cfg map[string]any
	_, err := toml.DecodeFile("../../samconfig.toml", &cfg)
	require.NoError(t, err)
	out := map[string]map[string]string{}
	for env, v := range cfg {
		m, ok := v.(map[string]any)
		if !ok {
			continue
		}
		deploy, _ := m["deploy"].(map[string]any)
		settings, _ := deploy["parameters"].(map[string]any)
		if raw, ok := settings["parameter_overrides"]; ok {
			out[env] = parseOverrides(t, raw)
		}
	}
	return out
}

// Limits: every route of the HTTP API is throttled, the three without a
// token lower than the rest; ApiFunction is capped (reserved concurrency from
// a parameter AWS accepts) and no workflow function is, so the workflow keeps
// the account's concurrency whatever the API receives.
func TestTemplateLimits(t *testing.T) {
	tpl, err := cfn.Load("../../template.yaml")
	require.NoError(t, err)
	params, err := tpl.ParameterValues(nil)
	require.NoError(t, err)
	r := cfn.NewResolver(tpl, params)
	th, err := apigw.ThrottlingFromTemplate(tpl, r)
	require.NoError(t, err)
	require.NotNil(t, th.Default, "the stage's default route throttling")
	assert.Less(t, th.Default.Rate, float64(apigw.AccountRate), "below the account's limit")
	routes, err := r.Routes()
	require.NoError(t, err)
	public := 0
	for _, rt := range routes {
		lim, own := th.Routes[rt.RouteKey()]
		if !rt.Auth {
			public++
			require.True(t, own, "%s (no token) has its own limit", rt.RouteKey())
			assert.Less(t, lim.Rate, th.Default.Rate, "%s: lower than the routes with a token", rt.RouteKey())
			assert.Less(t, lim.Burst, th.Default.Burst, "%s burst", rt.RouteKey())
		} else {
			assert.False(t, own, "%s takes the stage's default", rt.RouteKey())
		}
	}
	assert.Equal(t, 3, public, "GET /, /healthz and /openapi.yaml")

	_, res := privacyTemplate(t)
	capped := 0
	for i := 0; i+1 < len(res.Content); i += 2 {
		id, rr := res.Content[i].Value, res.Content[i+1]
		if scalarOf(get(rr, "Type")) != "AWS::Serverless::Function" {
			continue
		}
		rc := get(get(rr, "Properties"), "ReservedConcurrentExecutions")
		if id == "ApiFunction" {
			require.NotNil(t, rc, "ApiFunction is capped")
			assert.Equal(t, "!Ref", rc.Tag)
			assert.Equal(t, "ApiReservedConcurrency", rc.Value)
			capped++
			continue
		}
		assert.Nil(t, rc, "%s is not capped: a reservation is also a limit, and the workflow must not be throttled by its own", id)
	}
	assert.Equal(t, 1, capped)
	var p cfn.Parameter
	for _, q := range tpl.Parameters {
		if q.Name == "ApiReservedConcurrency" {
			p = q
		}
	}
	require.NotNil(t, p.MinValue, "ApiReservedConcurrency has bounds")
	require.NotNil(t, p.MaxValue)
	assert.GreaterOrEqual(t, *p.MinValue, 1.0, "0 would throttle the API whole")
	assert.LessOrEqual(t, *p.MaxValue, 900.0, "AWS keeps 100 of the default 1,000 unreserved")
}

// Developer routes need the developer scope, the ops route the ops scope.
func TestTemplateRouteScopes(t *testing.T) {
	tpl, err := cfn.Load("../../template.yaml")
	require.NoError(t, err)
	params, err := tpl.ParameterValues(nil)
	require.NoError(t, err)
	routes, err := cfn.NewResolver(tpl, params).Routes()
	require.NoError(t, err)
	checked := 0
	for _, rt := range routes {
		if !rt.Auth {
			continue
		}
		checked++
		want := []string{"migration:developer"}
		if strings.HasPrefix(rt.Path, "/v1/ops/") {
			want = []string{"migration:ops"}
		}
		assert.Equal(t, want, rt.Scopes, rt.RouteKey())
	}
	assert.GreaterOrEqual(t, checked, 14)
}

// Personal data (docs/PRIVACY.md): every function's log group is declared
// with a retention, as is every other log group; the hourly housekeeping
// gets the retention period and exactly what reducing needs (the sparse
// index, UpdateItem on the audit table, nothing that deletes or scans);
// the erasure's policy is on no function.
func TestTemplatePersonalData(t *testing.T) {
	_, res := privacyTemplate(t)
	fns := map[string]bool{}
	groups := map[string]bool{} // functions whose /aws/lambda/<name> group is declared
	for i := 0; i+1 < len(res.Content); i += 2 {
		id, rr := res.Content[i].Value, res.Content[i+1]
		props := get(rr, "Properties")
		switch scalarOf(get(rr, "Type")) {
		case "AWS::Serverless::Function":
			fns[id] = true
			for _, pol := range items(get(props, "Policies")) {
				assert.NotEqual(t, "PersonalDataErasePolicy", pol.Value, "%s has the erasure's policy", id)
			}
		case "AWS::Logs::LogGroup":
			assert.NotNil(t, get(props, "RetentionInDays"), "%s has a retention", id)
			if n := get(props, "LogGroupName"); n != nil && n.Tag == "!Sub" && strings.HasPrefix(n.Value, "/aws/lambda/${") {
				groups[strings.TrimSuffix(strings.TrimPrefix(n.Value, "/aws/lambda/${"), "}")] = true
			}
		}
	}
	require.NotEmpty(t, fns)
	for fn := range fns {
		assert.True(t, groups[fn], "%s's log group /aws/lambda/${%s} is declared with a retention", fn, fn)
	}

	// The import bucket holds the old platforms' logins: every prefix expires,
	// and replaced versions too (docs/PRIVACY.md's periods).
	imports := get(get(res, "ImportBucket"), "Properties")
	expires := map[string]string{}
	for _, r := range items(get(get(imports, "LifecycleConfiguration"), "Rules")) {
		if scalarOf(get(r, "Status")) != "Enabled" {
			continue
		}
		if d := get(r, "ExpirationInDays"); d != nil {
			expires[scalarOf(get(r, "Prefix"))] = d.Value
		}
		if d := get(get(r, "NoncurrentVersionExpiration"), "NoncurrentDays"); d != nil {
			expires["(old versions)"] = d.Value
		}
	}
	assert.Equal(t, map[string]string{"imports/": "30", "runs/": "90", "(old versions)": "30"}, expires,
		"the import bucket keeps what PRIVACY.md says, no longer")

	rem := get(get(res, "RemindersFunction"), "Properties")
	env := get(get(rem, "Environment"), "Variables")
	days := get(env, "PERSONAL_DATA_RETENTION_DAYS")
	require.NotNil(t, days, "the housekeeping knows the retention period")
	assert.Equal(t, "PersonalDataRetentionDays", days.Value)

	audit := get(get(res, auditTableID), "Properties")
	var index *yaml.Node
	for _, gsi := range items(get(audit, "GlobalSecondaryIndexes")) {
		if scalarOf(get(gsi, "IndexName")) == "personal" {
			index = gsi
		}
	}
	require.NotNil(t, index, "the audit table's retention index")
	var keys []string
	for _, k := range items(get(index, "KeySchema")) {
		keys = append(keys, scalarOf(get(k, "AttributeName"))+":"+scalarOf(get(k, "KeyType")))
	}
	assert.Equal(t, []string{"personal:HASH", "at:RANGE"}, keys)

	reminders := templateRoles(t)["RemindersFunction"]
	require.NotEmpty(t, reminders.Policies)
	allowed := func(action, resource string) bool {
		return iam.Evaluate(reminders.Policies, action, resource) == iam.Allowed
	}
	assert.True(t, allowed("dynamodb:Query", auditTableArn+"/index/personal"))
	assert.True(t, allowed("dynamodb:UpdateItem", auditTableArn))
	for _, never := range []string{"Scan", "DeleteItem", "PutItem", "BatchWriteItem"} {
		assert.False(t, allowed("dynamodb:"+never, auditTableArn), "housekeeping: dynamodb:%s on the audit trail", never)
	}
	assert.False(t, allowed("dynamodb:Query", auditTableArn), "only the sparse index, not the trails")
}

// The rest of the review: tables protected from deletion, the cohort bucket
// versioned with a cohorts/ lifecycle, a dedicated bus in every deployed
// environment whose policy lets only this stack's publishers put events, an
// alarm topic in prod and an alarm on bursts of 401/403.
func TestTemplateHardening(t *testing.T) {
	_, res := privacyTemplate(t)
	for i := 0; i+1 < len(res.Content); i += 2 {
		id, rr := res.Content[i].Value, res.Content[i+1]
		if scalarOf(get(rr, "Type")) == "AWS::DynamoDB::Table" {
			assert.Equal(t, "true", scalarOf(get(get(rr, "Properties"), "DeletionProtectionEnabled")), "%s DeletionProtectionEnabled", id)
		}
	}

	cohorts := get(get(res, "CohortBucket"), "Properties")
	assert.Equal(t, "Enabled", scalarOf(get(get(cohorts, "VersioningConfiguration"), "Status")), "cohort bucket versioning")
	var rule *yaml.Node
	for _, r := range items(get(get(cohorts, "LifecycleConfiguration"), "Rules")) {
		if scalarOf(get(r, "Prefix")) == "cohorts/" {
			rule = r
		}
	}
	require.NotNil(t, rule, "a lifecycle rule for cohorts/")
	assert.Equal(t, "Enabled", scalarOf(get(rule, "Status")))
	assert.NotNil(t, get(rule, "ExpirationInDays"), "cohort CSVs expire")
	assert.NotNil(t, get(get(rule, "NoncurrentVersionExpiration"), "NoncurrentDays"), "and their old versions")

	// Who publishes: every function given the bus, every machine allowed to put.
	publishers := []string{}
	for i := 0; i+1 < len(res.Content); i += 2 {
		id, rr := res.Content[i].Value, res.Content[i+1]
		props := get(rr, "Properties")
		if get(get(get(props, "Environment"), "Variables"), "EVENT_BUS_NAME") != nil {
			publishers = append(publishers, id+"Role")
			continue
		}
		for _, pol := range items(get(props, "Policies")) {
			if get(pol, "EventBridgePutEventsPolicy") != nil {
				publishers = append(publishers, id+"Role")
			}
		}
	}
	sort.Strings(publishers)
	require.NotEmpty(t, publishers)
	pol := get(res, "MigrationEventBusPolicy")
	require.NotNil(t, pol, "the bus has a policy")
	assert.Equal(t, "CreateEventBus", scalarOf(get(pol, "Condition")))
	st := get(get(pol, "Properties"), "Statement")
	assert.Equal(t, "Deny", scalarOf(get(st, "Effect")))
	assert.Equal(t, "*", scalarOf(get(st, "Principal")))
	assert.Equal(t, "events:PutEvents", scalarOf(get(st, "Action")))
	var exempt []string
	for _, a := range items(get(get(get(st, "Condition"), "ArnNotEquals"), "aws:PrincipalArn")) {
		require.Equal(t, "!GetAtt", a.Tag)
		exempt = append(exempt, strings.TrimSuffix(a.Value, ".Arn"))
	}
	sort.Strings(exempt)
	assert.Equal(t, publishers, exempt, "exactly this stack's publishers may put events")

	overrides := samconfigOverrides(t)
	require.Contains(t, overrides, "prod")
	for env, o := range overrides {
		bus := o["EventBusName"]
		assert.NotEmpty(t, bus, "%s deploys with a bus of its own", env)
		assert.NotEqual(t, "default", bus, "%s: not the account's default bus, which anyone in the account can put on", env)
	}
	assert.True(t, strings.HasPrefix(overrides["prod"]["AlarmTopicArn"], "arn:aws:sns:"), "prod's alarms notify a topic")

	filter := get(res, "AuthRefusalsMetric")
	require.NotNil(t, filter)
	fp := get(filter, "Properties")
	assert.Equal(t, "HttpApiAccessLogs", get(fp, "LogGroupName").Value, "the access log: the authorizer's refusals are there")
	assert.Contains(t, scalarOf(get(fp, "FilterPattern")), `"401"`)
	assert.Contains(t, scalarOf(get(fp, "FilterPattern")), `"403"`)
	metric := items(get(fp, "MetricTransformations"))[0]
	alarm := get(get(res, "AuthRefusalsBurstAlarm"), "Properties")
	require.NotNil(t, alarm)
	assert.Equal(t, scalarOf(get(metric, "MetricName")), scalarOf(get(alarm, "MetricName")))
	assert.Equal(t, scalarOf(get(metric, "MetricNamespace")), scalarOf(get(alarm, "Namespace")))
	for i := 0; i+1 < len(res.Content); i += 2 {
		id, rr := res.Content[i].Value, res.Content[i+1]
		if scalarOf(get(rr, "Type")) != "AWS::CloudWatch::Alarm" {
			continue
		}
		actions := get(get(rr, "Properties"), "AlarmActions")
		require.NotNil(t, actions, "%s notifies", id)
		found := false
		walk(actions, func(n *yaml.Node) { found = found || n.Value == "AlarmTopicArn" })
		assert.True(t, found, "%s notifies AlarmTopicArn", id)
	}
}

// The bucket owner check: every grant of the bulk machine on the cohort
// bucket holds only while the bucket is this account's, and the local IAM
// evaluates the condition (a bucket of another owner is refused).
func TestTemplateCohortBucketOwnerCondition(t *testing.T) {
	bulk := templateRoles(t)["BulkMigrationStateMachine"]
	require.NotEmpty(t, bulk.Policies, "the bulk machine's role")
	s3Grants, cohort := 0, ""
	for _, p := range bulk.Policies {
		for _, st := range p.Statements {
			for _, a := range st.Action {
				if a == "s3:GetObject" && len(st.Resource) == 1 {
					cohort = strings.TrimSuffix(st.Resource[0], "*") + "c.csv"
				}
				if strings.HasPrefix(a, "s3:") {
					s3Grants++
					assert.Equal(t, []string{cfn.AccountID}, st.ResourceAccounts, "%s: %s only on this account's bucket", p.Name, a)
				}
			}
		}
	}
	assert.Positive(t, s3Grants)
	require.Contains(t, cohort, "/cohorts/c.csv")
	assert.Equal(t, iam.Allowed, iam.Evaluate(bulk.Policies, "s3:GetObject", cohort), "its own bucket is read")
}
