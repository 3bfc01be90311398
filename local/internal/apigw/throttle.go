package apigw

// Throttling as API Gateway's HTTP API applies it: a token bucket (rate per
// second, burst) per route, from the stage's DefaultRouteSettings unless the
// route has its own RouteSettings entry, inside the account's regional limit.
// A request over any of them is answered 429 before the authorizer and the
// function see it. The buckets are golang.org/x/time/rate's.

import (
	"fmt"
	"math"
	"net/http"
	"strconv"

	"golang.org/x/time/rate"
	"gopkg.in/yaml.v3"

	"github.com/devplatform/account-migration/local/internal/cfn"
)

// Account-level limits of API Gateway per region (the quota's defaults):
// every route of every API shares them.
const (
	AccountRate  = 10000
	AccountBurst = 5000
)

// Limit is one token bucket: Rate requests per second, Burst at once.
type Limit struct {
	Rate  float64
	Burst int
}

// Throttling holds the stage's limits: per route key, and the default
// every other route gets.
type Throttling struct {
	Default *Limit           // DefaultRouteSettings; nil = the account's limit only
	Routes  map[string]Limit // RouteSettings, by route key ("GET /")
}

// ThrottlingFromTemplate reads the throttling of the template's HttpApi
// (there is one): DefaultRouteSettings and RouteSettings, with parameters
// resolved. A limit given as something that is not a number is an error.
func ThrottlingFromTemplate(t *cfn.Template, r *cfn.Resolver) (Throttling, error) {
	var th Throttling
	apis := t.OfType("AWS::Serverless::HttpApi")
	if len(apis) != 1 {
		return th, fmt.Errorf("want one AWS::Serverless::HttpApi, found %d", len(apis))
	}
	// Only the two settings are resolved: the rest of the API's properties
	// may use what the local stack has no value for.
	props := map[string]any{}
	if n := apis[0].Properties; n != nil && n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := n.Content[i].Value; k == "DefaultRouteSettings" || k == "RouteSettings" {
				v, err := r.Value(n.Content[i+1])
				if err != nil {
					return th, fmt.Errorf("%s %s: %w", apis[0].ID, k, err)
				}
				props[k] = v
			}
		}
	}
	if d, ok := props["DefaultRouteSettings"].(map[string]any); ok {
		l, set, err := limitOf(d)
		if err != nil {
			return th, fmt.Errorf("%s DefaultRouteSettings: %w", apis[0].ID, err)
		}
		if set {
			th.Default = &l
		}
	}
	if rs, ok := props["RouteSettings"].(map[string]any); ok {
		th.Routes = map[string]Limit{}
		for key, s := range rs {
			m, _ := s.(map[string]any)
			l, set, err := limitOf(m)
			if err != nil {
				return th, fmt.Errorf("%s RouteSettings %q: %w", apis[0].ID, key, err)
			}
			if !set {
				continue
			}
			// A route's own setting overrides only what it names.
			if th.Default != nil {
				if _, ok := m["ThrottlingRateLimit"]; !ok {
					l.Rate = th.Default.Rate
				}
				if _, ok := m["ThrottlingBurstLimit"]; !ok {
					l.Burst = th.Default.Burst
				}
			}
			th.Routes[key] = l
		}
	}
	return th, nil
}

// limitOf reads ThrottlingRateLimit and ThrottlingBurstLimit; what is not
// given is the account's limit.
func limitOf(m map[string]any) (Limit, bool, error) {
	l := Limit{Rate: AccountRate, Burst: AccountBurst}
	set := false
	if v, ok := m["ThrottlingRateLimit"]; ok {
		f, err := number(v)
		if err != nil {
			return l, false, fmt.Errorf("ThrottlingRateLimit: %w", err)
		}
		l.Rate, set = f, true
	}
	if v, ok := m["ThrottlingBurstLimit"]; ok {
		f, err := number(v)
		if err != nil || f != math.Trunc(f) {
			return l, false, fmt.Errorf("ThrottlingBurstLimit: want a whole number, got %v", v)
		}
		l.Burst, set = int(f), true
	}
	return l, set, nil
}

func number(v any) (float64, error) {
	switch n := v.(type) {
	case int64:
		return float64(n), nil
	case float64:
		return n, nil
	case string:
		return strconv.ParseFloat(n, 64)
	}
	return 0, fmt.Errorf("not a number: %v", v)
}

// limiter is the buckets in use.
type limiter struct {
	account *rate.Limiter
	routes  map[string]*rate.Limiter // by route key; each route its own bucket
	def     *Limit
}

func newLimiter(th Throttling, keys []string) *limiter {
	l := &limiter{account: rate.NewLimiter(AccountRate, AccountBurst), routes: map[string]*rate.Limiter{}, def: th.Default}
	for _, k := range keys {
		lim, ok := th.Routes[k]
		if !ok {
			if th.Default == nil {
				continue
			}
			lim = *th.Default
		}
		l.routes[k] = rate.NewLimiter(rate.Limit(lim.Rate), lim.Burst)
	}
	return l
}

// allow takes a token from the route's bucket, then the account's.
func (l *limiter) allow(routeKey string) bool {
	if b, ok := l.routes[routeKey]; ok && !b.Allow() {
		return false
	}
	return l.account.Allow()
}

// SetThrottling applies the stage's limits from now on.
func (s *Server) SetThrottling(th Throttling) {
	keys := make([]string, 0, len(s.routes))
	for _, rt := range s.routes {
		keys = append(keys, throttleKey(&rt))
	}
	s.limits.Store(newLimiter(th, keys))
}

// throttleKey is the key RouteSettings uses: "$default" for the catch-all.
func throttleKey(rt *route) string {
	if rt.catchAll {
		return "$default"
	}
	return rt.RouteKey()
}

// writeThrottled answers as API Gateway does when a limit is reached.
func writeThrottled(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusTooManyRequests)
	_, _ = w.Write([]byte(`{"message":"Too Many Requests"}`))
}
