package cfn

// Resolving: intrinsics (Ref, Fn::GetAtt, Fn::Sub) to local values.

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Resolver turns template values into plain Go values (map[string]any, []any,
// string, int64, float64, bool, nil) with intrinsics replaced by local values.
type Resolver struct {
	t      *Template
	params map[string]string
}

// NewResolver resolves against t with these parameter values.
func NewResolver(t *Template, params map[string]string) *Resolver {
	return &Resolver{t: t, params: params}
}

// FunctionArn is the local ARN of a function: its name is its logical id.
func FunctionArn(id string) string {
	return "arn:aws:lambda:" + Region + ":" + AccountID + ":function:" + id
}

// StateMachineArn is the ARN moto gives a state machine named name.
func StateMachineArn(name string) string {
	return "arn:aws:states:" + Region + ":" + AccountID + ":stateMachine:" + name
}

// TableName is the local name of a DynamoDB table resource: its TableName
// property if set, else its logical id.
func (r *Resolver) TableName(res *Resource) (string, error) {
	if n := mapGet(res.Properties, "TableName"); n != nil {
		v, err := r.String(n)
		if err != nil {
			return "", fmt.Errorf("%s.TableName: %w", res.ID, err)
		}
		return v, nil
	}
	return res.ID, nil
}

// bucketName is the name of an S3 bucket resource: its BucketName property
// (the template always sets one).
// BucketName is the local name of a bucket resource (its BucketName).
func (r *Resolver) BucketName(res *Resource) (string, error) {
	n := mapGet(res.Properties, "BucketName")
	if n == nil {
		return "", fmt.Errorf("%s: no BucketName, so no local name", res.ID)
	}
	return r.String(n)
}

// StateMachineName is the local name of a state machine resource.
func (r *Resolver) StateMachineName(res *Resource) (string, error) {
	if n := mapGet(res.Properties, "Name"); n != nil {
		return r.String(n)
	}
	return res.ID, nil
}

func (r *Resolver) ref(name string) (string, error) {
	switch name {
	case "AWS::Region":
		return Region, nil
	case "AWS::AccountId":
		return AccountID, nil
	case "AWS::Partition":
		return "aws", nil
	case "AWS::URLSuffix":
		return "amazonaws.com", nil
	case "AWS::StackName":
		return StackName, nil
	}
	if v, ok := r.params[name]; ok {
		return v, nil
	}
	if id, ok := strings.CutSuffix(name, ".Alias"); ok {
		return r.aliasArn(id)
	}
	res := r.t.Resource(name)
	if res == nil {
		return "", fmt.Errorf("!Ref %s: no such parameter or resource", name)
	}
	switch res.Type {
	case "AWS::DynamoDB::Table":
		return r.TableName(res)
	case "AWS::Serverless::Function":
		return res.ID, nil
	case "AWS::Serverless::StateMachine":
		n, err := r.StateMachineName(res)
		return StateMachineArn(n), err
	case "AWS::Serverless::HttpApi":
		return "local", nil
	case "AWS::S3::Bucket":
		return r.BucketName(res)
	}
	return "", fmt.Errorf("!Ref %s: resource type %s has no local value", name, res.Type)
}

// aliasArn is what SAM's !Ref Function.Alias gives: the ARN of the alias
// AutoPublishAlias (the function's own, else Globals.Function's) publishes.
func (r *Resolver) aliasArn(id string) (string, error) {
	res := r.t.Resource(id)
	if res == nil || res.Type != "AWS::Serverless::Function" {
		return "", fmt.Errorf("!Ref %s.Alias: no such AWS::Serverless::Function", id)
	}
	alias, err := r.Alias(res)
	if err != nil {
		return "", err
	}
	if alias == "" {
		return "", fmt.Errorf("!Ref %s.Alias: the function has no AutoPublishAlias", id)
	}
	return FunctionArn(id) + ":" + alias, nil
}

// Alias is the alias AutoPublishAlias publishes for a function (its own
// setting, else Globals.Function's), or "" when it publishes none.
func (r *Resolver) Alias(res *Resource) (string, error) {
	for _, src := range []*yaml.Node{res.Properties, r.t.globalsFn} {
		if n := mapGet(src, "AutoPublishAlias"); n != nil {
			return r.String(n)
		}
	}
	return "", nil
}

func (r *Resolver) getAtt(id, attr string) (string, error) {
	res := r.t.Resource(id)
	if res == nil {
		return "", fmt.Errorf("!GetAtt %s.%s: no such resource", id, attr)
	}
	switch res.Type + "." + attr {
	case "AWS::Serverless::Function.Arn":
		return FunctionArn(res.ID), nil
	case "AWS::Serverless::StateMachine.Arn":
		return r.ref(id)
	case "AWS::Serverless::StateMachine.Name":
		return r.StateMachineName(res)
	case "AWS::S3::Bucket.Arn":
		n, err := r.BucketName(res)
		return "arn:aws:s3:::" + n, err
	case "AWS::DynamoDB::Table.Arn":
		n, err := r.TableName(res)
		return "arn:aws:dynamodb:" + Region + ":" + AccountID + ":table/" + n, err
	}
	return "", fmt.Errorf("!GetAtt %s.%s: no local value for %s", id, attr, res.Type)
}

var subVar = regexp.MustCompile(`\$\{([^}]*)\}`)

// Sub expands ${Name} the way Fn::Sub does: a name is a variable of vars, a
// parameter, a resource (Ref) or Resource.Attr (GetAtt); ${!x} is literal ${x}.
func (r *Resolver) sub(s string, vars map[string]string) (string, error) {
	var errs []error
	out := subVar.ReplaceAllStringFunc(s, func(m string) string {
		name := m[2 : len(m)-1]
		if strings.HasPrefix(name, "!") {
			return "${" + name[1:] + "}"
		}
		if v, ok := vars[name]; ok {
			return v
		}
		var v string
		var err error
		if id, attr, ok := strings.Cut(name, "."); ok {
			v, err = r.getAtt(id, attr)
		} else {
			v, err = r.ref(name)
		}
		if err != nil {
			errs = append(errs, err)
		}
		return v
	})
	return out, errors.Join(errs...)
}

// Value resolves a node to a plain Go value.
func (r *Resolver) Value(n *yaml.Node) (any, error) {
	if n == nil {
		return nil, nil
	}
	if n.Kind == yaml.AliasNode {
		return r.Value(n.Alias)
	}
	switch n.Tag {
	case "!Ref":
		return r.ref(n.Value)
	case "!GetAtt":
		return r.getAttNode(n)
	case "!Sub":
		return r.subNode(n)
	}
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		return nil, fmt.Errorf("line %d: intrinsic %s is not supported locally", n.Line, n.Tag)
	}
	switch n.Kind {
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!int":
			if i, err := strconv.ParseInt(n.Value, 0, 64); err == nil {
				return i, nil
			}
		case "!!float":
			if f, err := strconv.ParseFloat(n.Value, 64); err == nil {
				return f, nil
			}
		case "!!bool":
			var b bool
			if err := n.Decode(&b); err == nil {
				return b, nil
			}
		case "!!null":
			return nil, nil
		}
		return n.Value, nil
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := r.Value(c)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		if len(n.Content) == 2 {
			switch n.Content[0].Value {
			case "Ref":
				return r.ref(n.Content[1].Value)
			case "Fn::GetAtt":
				return r.getAttNode(n.Content[1])
			case "Fn::Sub":
				return r.subNode(n.Content[1])
			}
			if strings.HasPrefix(n.Content[0].Value, "Fn::") {
				return nil, fmt.Errorf("line %d: intrinsic %s is not supported locally", n.Line, n.Content[0].Value)
			}
		}
		out := map[string]any{}
		for _, kv := range pairs(n) {
			v, err := r.Value(kv.val)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", kv.key, err)
			}
			out[kv.key] = v
		}
		return out, nil
	}
	return nil, fmt.Errorf("line %d: unexpected YAML node", n.Line)
}

// String resolves a node that must be a scalar; numbers and booleans are
// rendered as CloudFormation renders them in strings.
func (r *Resolver) String(n *yaml.Node) (string, error) {
	v, err := r.Value(n)
	if err != nil {
		return "", err
	}
	switch v := v.(type) {
	case string:
		return v, nil
	case int64, float64, bool:
		return fmt.Sprint(v), nil
	}
	return "", fmt.Errorf("line %d: want a scalar value", n.Line)
}

func (r *Resolver) getAttNode(n *yaml.Node) (string, error) {
	switch n.Kind {
	case yaml.ScalarNode:
		id, attr, ok := strings.Cut(n.Value, ".")
		if !ok {
			return "", fmt.Errorf("line %d: !GetAtt %q: want Resource.Attribute", n.Line, n.Value)
		}
		return r.getAtt(id, attr)
	case yaml.SequenceNode:
		if len(n.Content) == 2 {
			return r.getAtt(n.Content[0].Value, n.Content[1].Value)
		}
	}
	return "", fmt.Errorf("line %d: malformed GetAtt", n.Line)
}

func (r *Resolver) subNode(n *yaml.Node) (string, error) {
	switch n.Kind {
	case yaml.ScalarNode:
		return r.sub(n.Value, nil)
	case yaml.SequenceNode:
		if len(n.Content) == 2 {
			vars := map[string]string{}
			for _, kv := range pairs(n.Content[1]) {
				v, err := r.String(kv.val)
				if err != nil {
					return "", err
				}
				vars[kv.key] = v
			}
			return r.sub(n.Content[0].Value, vars)
		}
	}
	return "", fmt.Errorf("line %d: malformed Sub", n.Line)
}
