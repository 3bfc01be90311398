package apigw

import (
	"net/url"
	"strings"

	"github.com/devplatform/account-migration/local/internal/cfn"
)

type segKind int

const (
	segGreedy segKind = iota // {proxy+}: the rest of the path
	segParam                 // {name}
	segLiteral
)

type segment struct {
	kind segKind
	text string // literal text or parameter name
}

type route struct {
	cfn.Route
	segs       []segment
	catchAll   bool // $default
	specificty []segKind
}

func compile(r cfn.Route) route {
	rt := route{Route: r}
	if r.Path == "$default" {
		rt.catchAll = true
		return rt
	}
	if strings.Trim(r.Path, "/") == "" {
		return rt // the root path "/": no segments (the console)
	}
	for _, s := range strings.Split(strings.Trim(r.Path, "/"), "/") {
		switch {
		case strings.HasPrefix(s, "{") && strings.HasSuffix(s, "+}"):
			rt.segs = append(rt.segs, segment{segGreedy, s[1 : len(s)-2]})
		case strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}"):
			rt.segs = append(rt.segs, segment{segParam, s[1 : len(s)-1]})
		default:
			rt.segs = append(rt.segs, segment{segLiteral, s})
		}
		rt.specificty = append(rt.specificty, rt.segs[len(rt.segs)-1].kind)
	}
	return rt
}

// match reports whether the escaped path matches, with the decoded
// path parameters.
func (rt route) match(method, escapedPath string) (map[string]string, bool) {
	if rt.Method != "ANY" && rt.Method != method {
		return nil, false
	}
	if rt.catchAll {
		return nil, true
	}
	if len(rt.segs) == 0 {
		return nil, strings.Trim(escapedPath, "/") == ""
	}
	parts := strings.Split(strings.Trim(escapedPath, "/"), "/")
	params := map[string]string{}
	for i, seg := range rt.segs {
		if seg.kind == segGreedy {
			if i >= len(parts) || parts[i] == "" {
				return nil, false
			}
			rest, err := url.PathUnescape(strings.Join(parts[i:], "/"))
			if err != nil {
				return nil, false
			}
			params[seg.text] = rest
			return params, true
		}
		if i >= len(parts) {
			return nil, false
		}
		part, err := url.PathUnescape(parts[i])
		if err != nil || part == "" {
			return nil, false
		}
		switch seg.kind {
		case segLiteral:
			if part != seg.text {
				return nil, false
			}
		case segParam:
			params[seg.text] = part
		}
	}
	if len(parts) != len(rt.segs) {
		return nil, false
	}
	if len(params) == 0 {
		params = nil
	}
	return params, true
}

// moreSpecific orders matching routes as API Gateway does: literal segments
// beat parameters, which beat greedy ones; a method beats ANY; $default last.
func (rt route) moreSpecific(other route) bool {
	if rt.catchAll != other.catchAll {
		return other.catchAll
	}
	for i := 0; i < len(rt.specificty) && i < len(other.specificty); i++ {
		if rt.specificty[i] != other.specificty[i] {
			return rt.specificty[i] > other.specificty[i]
		}
	}
	if len(rt.specificty) != len(other.specificty) {
		return len(rt.specificty) > len(other.specificty)
	}
	return rt.Method != "ANY" && other.Method == "ANY"
}

type router []route

func newRouter(routes []cfn.Route) router {
	out := make(router, 0, len(routes))
	for _, r := range routes {
		out = append(out, compile(r))
	}
	return out
}

func (rr router) find(method, escapedPath string) (*route, map[string]string) {
	var best *route
	var bestParams map[string]string
	for i := range rr {
		params, ok := rr[i].match(method, escapedPath)
		if !ok {
			continue
		}
		if best == nil || rr[i].moreSpecific(*best) {
			best, bestParams = &rr[i], params
		}
	}
	return best, bestParams
}
