package cfn

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestProjectTemplate(t *testing.T) {
	tpl, err := Load("../../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	params, err := tpl.ParameterValues(map[string]string{"PendingTimeoutSeconds": "120", "JwtIssuer": "https://i/"})
	if err != nil {
		t.Fatal(err)
	}
	r := NewResolver(tpl, params)

	api, err := r.Function(tpl.Resource("ApiFunction"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"TABLE_NAME":              "MigrationTable",
		"PENDING_TIMEOUT_SECONDS": "120",
		"STATE_MACHINE_ARN":       "arn:aws:states:us-east-1:123456789012:stateMachine:MigrationStateMachine-account-migration-local",
		"AWS_LAMBDA_LOG_LEVEL":    "INFO",
	}
	for k, v := range want {
		if api.Env[k] != v {
			t.Errorf("ApiFunction env %s = %q, want %q", k, api.Env[k], v)
		}
	}
	if api.TimeoutSec != 30 || api.MemoryMB != 256 {
		t.Errorf("ApiFunction timeout %d memory %d", api.TimeoutSec, api.MemoryMB)
	}
	commit, _ := r.Function(tpl.Resource("CommitFunction"))
	if commit.TimeoutSec != 300 || commit.MemoryMB != 512 {
		t.Errorf("CommitFunction timeout %d memory %d", commit.TimeoutSec, commit.MemoryMB)
	}

	// The workflow invokes each function's published alias, as SAM's
	// !Ref Function.Alias resolves on AWS.
	def, err := r.Definition(tpl.Resource("MigrationStateMachine"))
	if err != nil {
		t.Fatal(err)
	}
	for _, fn := range []string{"ListAssetsFunction", "CommitFunction", "FinishFunction"} {
		if want := `"` + FunctionArn(fn) + `:live"`; !strings.Contains(def, want) {
			t.Errorf("definition does not invoke %s", want)
		}
		if strings.Contains(def, `"`+FunctionArn(fn)+`"`) {
			t.Errorf("definition invokes %s unqualified", fn)
		}
	}

	routes, err := r.Routes()
	if err != nil {
		t.Fatal(err)
	}
	byKey := map[string]Route{}
	for _, rt := range routes {
		byKey[rt.RouteKey()] = rt
	}
	if rt := byKey["GET /healthz"]; rt.Auth || rt.Function != "ApiFunction" {
		t.Errorf("healthz %+v", rt)
	}
	if rt := byKey["GET /v1/plan"]; !rt.Auth {
		t.Errorf("plan %+v", rt)
	}
	if rt := byKey["GET /v1/ops/accounts/{platform}/{accountId}/migration"]; !rt.Auth || len(rt.Scopes) != 1 || rt.Scopes[0] != "migration:ops" {
		t.Errorf("ops %+v", rt)
	}

	if _, err := tpl.ParameterValues(map[string]string{"Nope": "1"}); err == nil {
		t.Error("unknown parameter accepted")
	}
	if _, err := tpl.ParameterValues(map[string]string{"PendingTimeoutSeconds": "1"}); err == nil {
		t.Error("value below MinValue accepted")
	}
	if _, err := tpl.ParameterValues(map[string]string{"LogLevel": "TRACE"}); err == nil {
		t.Error("value outside AllowedValues accepted")
	}
}

func TestDefinitionSubstitutions(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("template.yaml", `
Parameters:
  Wait: {Type: Number, Default: 60}
Resources:
  Fn:
    Type: AWS::Serverless::Function
  SM:
    Type: AWS::Serverless::StateMachine
    Properties:
      DefinitionUri: def.json
      DefinitionSubstitutions:
        FnArn: !GetAtt Fn.Arn
        LongArn:
          Fn::GetAtt: [Fn, Arn]
        Wait: !Ref Wait
        Subbed: !Sub "${AWS::Region}-${Fn}"
        Alias: !Ref Fn.Alias
        OwnAlias: !Ref Own.Alias
  Own:
    Type: AWS::Serverless::Function
    Properties:
      AutoPublishAlias: canary
Globals:
  Function:
    AutoPublishAlias: live
`)
	write("def.json", `{"a":"${FnArn}","b":"${LongArn}","c":${Wait},"d":"${Subbed}","e":"${Alias}","f":"${OwnAlias}"}`)
	tpl, err := Load(filepath.Join(dir, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	params, _ := tpl.ParameterValues(nil)
	r := NewResolver(tpl, params)
	def, err := r.Definition(tpl.Resource("SM"))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"a":"arn:aws:lambda:us-east-1:123456789012:function:Fn","b":"arn:aws:lambda:us-east-1:123456789012:function:Fn","c":60,"d":"us-east-1-Fn","e":"arn:aws:lambda:us-east-1:123456789012:function:Fn:live","f":"arn:aws:lambda:us-east-1:123456789012:function:Own:canary"}`; def != want {
		t.Fatalf("definition\n%s\nwant\n%s", def, want)
	}
	write("def.json", `{"a":"${FnArn}","b":"${Missing}"}`)
	if _, err := r.Definition(tpl.Resource("SM")); err == nil || !strings.Contains(err.Error(), "Missing") {
		t.Fatalf("missing substitution: %v", err)
	}
}
