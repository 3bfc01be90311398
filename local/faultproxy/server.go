package faultproxy

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Server is a Proxy listening on 127.0.0.1.
type Server struct {
	*Proxy
	URL string // http://127.0.0.1:port, the endpoint to give the SDK

	srv *http.Server
	ln  net.Listener
}

// Start serves a new proxy in front of upstream on a free loopback port.
func Start(upstream string, opts Options) (*Server, error) {
	p, err := New(upstream, opts)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{Proxy: p, URL: "http://" + ln.Addr().String(), ln: ln,
		srv: &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			slog.Error("faultproxy stopped", "addr", s.URL, "err", err)
		}
	}()
	return s, nil
}

// Close stops the server; requests in flight get a few seconds to finish.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil {
		return s.srv.Close()
	}
	return nil
}
