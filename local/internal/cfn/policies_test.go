package cfn

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The embedded SAM policy templates are those of the aws-sam-translator that
// cfn-lint (a requirement of `make lint`) carries: a policy template grants
// locally what SAM makes it grant on AWS.
func TestSAMPolicyTemplatesMatchInstalled(t *testing.T) {
	out, err := exec.Command("python3", "-c", "import samtranslator, os; print(os.path.join(os.path.dirname(samtranslator.__file__), 'policy_templates_data', 'policy_templates.json'))").Output()
	require.NoError(t, err, "python3 with aws-sam-translator (installed with cfn-lint)")
	installed, err := os.ReadFile(strings.TrimSpace(string(out)))
	require.NoError(t, err)
	assert.True(t, bytes.Equal(installed, samPolicyTemplates), "local/internal/cfn/sam_policy_templates.json differs from %s: copy it again", strings.TrimSpace(string(out)))
}

func TestRolePoliciesResolveTemplatesRefsAndInline(t *testing.T) {
	tpl := loadTemplate(t, `
Parameters:
  Bus: {Type: String, Default: default}
Resources:
  T:
    Type: AWS::DynamoDB::Table
    Properties: {TableName: data}
  Audit:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      PolicyDocument:
        Statement:
          - {Effect: Allow, Action: dynamodb:PutItem, Resource: !Sub "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/audit"}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Policies:
        - DynamoDBReadPolicy: {TableName: !Ref T}
        - !Ref Audit
        - Statement:
            - {Effect: Allow, Action: events:PutEvents, Resource: !Sub "arn:aws:events:${AWS::Region}:${AWS::AccountId}:event-bus/${Bus}"}
  Bad:
    Type: AWS::Serverless::Function
    Properties:
      Policies: [CloudWatchLogsFullAccess]
`)
	r := NewResolver(tpl, map[string]string{"Bus": "default"})
	docs, err := r.RolePolicies(tpl.Resource("Fn"))
	require.NoError(t, err)
	require.Len(t, docs, 3)
	assert.Equal(t, "DynamoDBReadPolicy", docs[0].Name)
	assert.Contains(t, string(docs[0].Document), `"arn:aws:dynamodb:us-east-1:123456789012:table/data/index/*"`)
	assert.Contains(t, string(docs[1].Document), `"arn:aws:dynamodb:us-east-1:123456789012:table/audit"`)
	assert.Contains(t, string(docs[2].Document), `"arn:aws:events:us-east-1:123456789012:event-bus/default"`)
	_, err = r.RolePolicies(tpl.Resource("Bad"))
	assert.ErrorContains(t, err, "CloudWatchLogsFullAccess", "an AWS managed policy's document is not known locally")
}

func loadTemplate(t *testing.T, body string) *Template {
	t.Helper()
	p := t.TempDir() + "/template.yaml"
	require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
	tpl, err := Load(p)
	require.NoError(t, err)
	return tpl
}
