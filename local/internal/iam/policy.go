// Package iam makes the local stack refuse what AWS would refuse: every call a
// function (or a state machine) makes to the local AWS endpoint is checked
// against the IAM policies template.yaml gives its role, and a call no policy
// allows is answered AccessDenied, as AWS answers it.
//
// The evaluation is written by hand: no maintained Go library evaluates IAM
// identity policies. It covers what the template's policies use (Allow and
// Deny, Action/NotAction, Resource/NotResource with * and ? wildcards, and the
// one condition the template uses: StringEquals on s3:ResourceAccount or
// aws:ResourceAccount, the owner check of a bucket) and refuses at load time
// what it does not evaluate (any other Condition, Principal), so a policy it
// cannot judge never passes silently.
package iam

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/devplatform/account-migration/local/internal/cfn"
)

// Policy is one identity policy document.
type Policy struct {
	Name       string // where it came from, for messages (e.g. "DynamoDBCrudPolicy")
	Statements []Statement
}

// Statement is one statement of a policy.
type Statement struct {
	Effect      string // Allow or Deny
	Action      []string
	NotAction   []string
	Resource    []string
	NotResource []string
	// ResourceAccounts, when set, is the statement's condition: the resource
	// must belong to one of these accounts (StringEquals on
	// s3:ResourceAccount or aws:ResourceAccount).
	ResourceAccounts []string
}

// stringList is IAM's "a string or a list of strings".
type stringList []string

func (s *stringList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = []string{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("want a string or a list of strings: %s", b)
	}
	*s = many
	return nil
}

// ParsePolicy reads a policy document (a JSON object with Statement). A
// statement with a Condition or Principal, or an effect other than Allow and
// Deny, is an error: the local evaluation would not judge it as AWS does.
func ParsePolicy(name string, doc []byte) (Policy, error) {
	var raw struct {
		Version   string
		Statement json.RawMessage
	}
	if err := json.Unmarshal(doc, &raw); err != nil {
		return Policy{}, fmt.Errorf("policy %s: %w", name, err)
	}
	stmts := []json.RawMessage{}
	if len(raw.Statement) > 0 && raw.Statement[0] == '{' {
		stmts = append(stmts, raw.Statement)
	} else if err := json.Unmarshal(raw.Statement, &stmts); err != nil {
		return Policy{}, fmt.Errorf("policy %s: Statement: %w", name, err)
	}
	p := Policy{Name: name}
	for i, b := range stmts {
		var s struct {
			Sid                                      string
			Effect                                   string
			Action, NotAction, Resource, NotResource stringList
			Condition, Principal, NotPrincipal       json.RawMessage
		}
		if err := json.Unmarshal(b, &s); err != nil {
			return Policy{}, fmt.Errorf("policy %s: statement %d: %w", name, i, err)
		}
		var errs []error
		if s.Effect != "Allow" && s.Effect != "Deny" {
			errs = append(errs, fmt.Errorf("Effect %q", s.Effect))
		}
		if s.Principal != nil || s.NotPrincipal != nil {
			errs = append(errs, errors.New("Principal is not evaluated locally"))
		}
		accounts, err := resourceAccounts(s.Condition)
		if err != nil {
			errs = append(errs, err)
		}
		if (len(s.Action) == 0) == (len(s.NotAction) == 0) {
			errs = append(errs, errors.New("want exactly one of Action and NotAction"))
		}
		if (len(s.Resource) == 0) == (len(s.NotResource) == 0) {
			errs = append(errs, errors.New("want exactly one of Resource and NotResource"))
		}
		if err := errors.Join(errs...); err != nil {
			return Policy{}, fmt.Errorf("policy %s: statement %d: %w", name, i, err)
		}
		p.Statements = append(p.Statements, Statement{
			Effect: s.Effect, Action: s.Action, NotAction: s.NotAction,
			Resource: s.Resource, NotResource: s.NotResource, ResourceAccounts: accounts,
		})
	}
	return p, nil
}

// Decision is the outcome of evaluating one request.
type Decision int

const (
	ImplicitDeny Decision = iota // no statement allows it
	Allowed
	ExplicitDeny // a Deny statement matches
)

// Evaluate decides one action on one resource under a role's policies, as IAM
// does for identity policies alone: an explicit Deny wins, else any Allow.
func Evaluate(policies []Policy, action, resource string) Decision {
	d := ImplicitDeny
	for _, p := range policies {
		for _, s := range p.Statements {
			if !s.matches(action, resource) {
				continue
			}
			if s.Effect == "Deny" {
				return ExplicitDeny
			}
			d = Allowed
		}
	}
	return d
}

func (s Statement) matches(action, resource string) bool {
	actionOK := anyMatch(s.Action, action, true)
	if len(s.NotAction) > 0 {
		actionOK = !anyMatch(s.NotAction, action, true)
	}
	resourceOK := anyMatch(s.Resource, resource, false)
	if len(s.NotResource) > 0 {
		resourceOK = !anyMatch(s.NotResource, resource, false)
	}
	return actionOK && resourceOK && (s.ResourceAccounts == nil || anyMatch(s.ResourceAccounts, accountOf(resource), false))
}

// resourceAccounts reads the one Condition evaluated locally: StringEquals on
// s3:ResourceAccount or aws:ResourceAccount. Nil without a condition; any
// other operator or key is an error.
func resourceAccounts(cond json.RawMessage) ([]string, error) {
	if cond == nil {
		return nil, nil
	}
	var c map[string]map[string]stringList
	if err := json.Unmarshal(cond, &c); err != nil {
		return nil, fmt.Errorf("Condition: %w", err)
	}
	var accounts []string
	for op, keys := range c {
		for key, values := range keys {
			if op != "StringEquals" || (key != "s3:ResourceAccount" && key != "aws:ResourceAccount") {
				return nil, fmt.Errorf("Condition %s %s is not evaluated locally (only StringEquals on s3:ResourceAccount or aws:ResourceAccount)", op, key)
			}
			accounts = append(accounts, values...)
		}
	}
	if len(accounts) == 0 {
		return nil, errors.New("Condition with no account")
	}
	return accounts, nil
}

// accountOf is the account a resource belongs to: the ARN's account field,
// or for an S3 ARN (which has none) the local stack's one account, which
// owns every bucket it creates.
func accountOf(arn string) string {
	if parts := strings.SplitN(arn, ":", 6); len(parts) == 6 && parts[4] != "" {
		return parts[4]
	}
	return cfn.AccountID
}

func anyMatch(patterns []string, value string, foldCase bool) bool {
	for _, p := range patterns {
		if wildcard(p, foldCase).MatchString(value) {
			return true
		}
	}
	return false
}

var (
	patternsMu sync.Mutex
	patterns   = map[string]*regexp.Regexp{}
)

// wildcard compiles an IAM pattern: * is any run of characters, ? any one
// character; action names compare case-insensitively, ARNs exactly.
func wildcard(p string, foldCase bool) *regexp.Regexp {
	key := fmt.Sprint(foldCase, "|", p)
	patternsMu.Lock()
	defer patternsMu.Unlock()
	if re, ok := patterns[key]; ok {
		return re
	}
	var b strings.Builder
	if foldCase {
		b.WriteString("(?i)")
	}
	b.WriteString("^")
	for _, r := range p {
		switch r {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	re := regexp.MustCompile(b.String())
	patterns[key] = re
	return re
}
