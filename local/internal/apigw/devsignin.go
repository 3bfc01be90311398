package apigw

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/devplatform/account-migration/local/jwtlocal"
)

// The development sign-in of the console: it lists the loaded snapshot's
// old-platform accounts and mints their tokens. It lives here, in the local
// stand-in for API Gateway, so it can never deploy (template.yaml has no such
// route; TestDevSignInNeverDeploys checks it).

// DevAccount is an old-platform account the development sign-in offers.
type DevAccount struct {
	Platform  string `json:"platform"`
	AccountID string `json:"accountId"`
	Login     string `json:"login"`
	SubjectID string `json:"subjectId,omitempty"`
}

// DevAccounts reads the accounts of a snapshot (docs/CONTRACT.md §4).
func DevAccounts(snapshot []byte) ([]DevAccount, error) {
	var snap struct {
		Accounts []struct {
			Platform  string `json:"platform"`
			ID        string `json:"id"`
			Login     string `json:"login"`
			SubjectID string `json:"subjectId"`
		} `json:"accounts"`
	}
	if err := json.Unmarshal(snapshot, &snap); err != nil {
		return nil, err
	}
	out := make([]DevAccount, 0, len(snap.Accounts))
	for _, a := range snap.Accounts {
		out = append(out, DevAccount{Platform: a.Platform, AccountID: a.ID, Login: a.Login, SubjectID: a.SubjectID})
	}
	return out, nil
}

// EnableDevSignIn serves GET /local/accounts and POST /local/token for these
// accounts. Without it both paths are unknown routes, as on AWS.
func (s *Server) EnableDevSignIn(accounts []DevAccount) {
	list := append([]DevAccount{}, accounts...)
	s.dev.Store(&list)
}

// serveDevSignIn answers the development sign-in's paths; false for any other.
func (s *Server) serveDevSignIn(w http.ResponseWriter, r *http.Request, requestID string) bool {
	list := s.dev.Load()
	if list == nil || !strings.HasPrefix(r.URL.Path, "/local/") {
		return false
	}
	switch {
	case r.URL.Path == "/local/accounts" && r.Method == http.MethodGet:
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(map[string]any{"accounts": *list})
	case r.URL.Path == "/local/token" && r.Method == http.MethodPost:
		s.mintDevToken(w, r, *list, requestID)
	default:
		return false
	}
	return true
}

func (s *Server) mintDevToken(w http.ResponseWriter, r *http.Request, list []DevAccount, requestID string) {
	// JSON only: a cross-site form cannot send it without a CORS preflight,
	// which this path never grants.
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		writeError(w, http.StatusUnsupportedMediaType, codeUnsupportedType, "send the body as application/json", requestID)
		return
	}
	var in struct {
		Platform  string `json:"platform"`
		AccountID string `json:"accountId"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		writeError(w, http.StatusBadRequest, codeInvalidInput, "send {\"platform\",\"accountId\"}", requestID)
		return
	}
	for _, a := range list {
		if a.Platform == in.Platform && a.AccountID == in.AccountID {
			tok, err := s.auth.Mint(a.Platform, a.AccountID, a.Login)
			if err != nil {
				writeError(w, http.StatusInternalServerError, codeInternal, "cannot mint a token", requestID)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Cache-Control", "no-store")
			_ = json.NewEncoder(w).Encode(map[string]any{"token": tok, "expiresIn": int(jwtlocal.TokenTTL.Seconds())})
			return
		}
	}
	writeError(w, http.StatusNotFound, codeNotFound, "no such account in the loaded snapshot", requestID)
}
