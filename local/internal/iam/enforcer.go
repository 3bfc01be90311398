package iam

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
)

// KeyPrefix starts the access key id of every local role: a function or a
// state machine signs its calls with AccessKeyID(its role). Any other key is
// the operator's (tests, opsctl, the aws CLI), which IAM does not restrict
// locally, as an administrator's is not on AWS.
const KeyPrefix = "role-"

// AccessKeyID is the access key id a role's calls are signed with.
func AccessKeyID(role string) string { return KeyPrefix + role }

// Role is one IAM role of the template with its resolved policies.
type Role struct {
	Name     string // the logical id of the function or state machine
	Policies []Policy
}

// Denial is one call the enforcer refused.
type Denial struct {
	Role string
	Call Call
	Why  string
}

func (d Denial) String() string {
	return fmt.Sprintf("%s is not authorized to perform %s on %s: %s", d.Role, d.Call.Action, d.Call.Resource, d.Why)
}

// Enforcer judges requests by the role that signed them.
type Enforcer struct {
	account Account
	roles   map[string]Role // by access key id

	mu      sync.Mutex
	denials []Denial
	allowed map[string]map[Call]int // role -> call -> count, for docs and tests
}

// NewEnforcer enforces roles in account.
func NewEnforcer(account Account, roles []Role) *Enforcer {
	e := &Enforcer{account: account, roles: map[string]Role{}, allowed: map[string]map[Call]int{}}
	for _, r := range roles {
		e.roles[AccessKeyID(r.Name)] = r
	}
	return e
}

// accessKey is the access key id that signed r ("" when unsigned).
func accessKey(r *http.Request) string {
	_, cred, ok := strings.Cut(r.Header.Get("Authorization"), "Credential=")
	if !ok {
		cred = r.URL.Query().Get("X-Amz-Credential")
	}
	key, _, _ := strings.Cut(cred, "/")
	return key
}

// Check judges r (whose body has been read into body): nil if every call it
// needs is allowed, else the first refused call. Operator requests pass.
func (e *Enforcer) Check(r *http.Request, body []byte) *Denial {
	key := accessKey(r)
	role, known := e.roles[key]
	if !known && !strings.HasPrefix(key, KeyPrefix) && key != "ak" {
		return nil // the operator
	}
	calls, err := e.account.Calls(r, body)
	if !known {
		// "ak" is what moto's Step Functions interpreter signs with when it
		// was not told the execution's role: refuse rather than trust it.
		d := &Denial{Role: strings.TrimPrefix(key, KeyPrefix), Why: "no role of the template signs with access key " + key}
		if len(calls) > 0 {
			d.Call = calls[0]
		}
		return e.deny(d)
	}
	if err != nil {
		return e.deny(&Denial{Role: role.Name, Call: Call{Action: "?", Resource: "?"}, Why: err.Error()})
	}
	for _, c := range calls {
		switch Evaluate(role.Policies, c.Action, c.Resource) {
		case ExplicitDeny:
			return e.deny(&Denial{Role: role.Name, Call: c, Why: "an explicit deny in an identity-based policy"})
		case ImplicitDeny:
			return e.deny(&Denial{Role: role.Name, Call: c, Why: "no identity-based policy allows the " + c.Action + " action"})
		}
	}
	e.mu.Lock()
	m := e.allowed[role.Name]
	if m == nil {
		m = map[Call]int{}
		e.allowed[role.Name] = m
	}
	for _, c := range calls {
		m[c]++
	}
	e.mu.Unlock()
	return nil
}

func (e *Enforcer) deny(d *Denial) *Denial {
	e.mu.Lock()
	e.denials = append(e.denials, *d)
	e.mu.Unlock()
	slog.Error("local IAM: access denied", "role", d.Role, "action", d.Call.Action, "resource", d.Call.Resource, "why", d.Why)
	return d
}

// Denials lists every call refused so far.
func (e *Enforcer) Denials() []Denial {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Denial(nil), e.denials...)
}

// Used lists the distinct calls each role made and was allowed, sorted.
func (e *Enforcer) Used() map[string][]Call {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := map[string][]Call{}
	for role, m := range e.allowed {
		for c := range m {
			out[role] = append(out[role], c)
		}
		sort.Slice(out[role], func(i, j int) bool { return out[role][i].String() < out[role][j].String() })
	}
	return out
}

// Handler checks every request before next serves it, and answers a refused
// one as the service would: AccessDeniedException (JSON protocols, Lambda) or
// AccessDenied (S3).
func (e *Enforcer) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		if d := e.Check(r, body); d != nil {
			writeDenied(w, r, d)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Message is the text AWS gives for a refused call.
func (d Denial) Message(accountID string) string {
	return fmt.Sprintf("User: arn:aws:sts::%s:assumed-role/%s/%s is not authorized to perform: %s on resource: %s because %s",
		accountID, d.Role, d.Role, d.Call.Action, d.Call.Resource, d.Why)
}

func writeDenied(w http.ResponseWriter, r *http.Request, d *Denial) {
	msg := d.Message("123456789012")
	h := w.Header()
	h.Set("x-amzn-RequestId", "local-iam-denied")
	switch {
	case r.Header.Get("X-Amz-Target") != "":
		h.Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": "com.amazon.coral.service#AccessDeniedException", "message": msg, "Message": msg})
	case service(r) == "s3":
		h.Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusForbidden)
		_ = xml.NewEncoder(w).Encode(struct {
			XMLName xml.Name `xml:"Error"`
			Code    string
			Message string
		}{Code: "AccessDenied", Message: msg})
	default:
		h.Set("Content-Type", "application/json")
		h.Set("x-amzn-ErrorType", "AccessDeniedException")
		w.WriteHeader(http.StatusForbidden)
		_ = json.NewEncoder(w).Encode(map[string]string{"Type": "User", "Message": msg, "message": msg})
	}
}
