package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// serveHealth answers /health/live (the process runs) and /health/ready (a broker answers and the
// group has assigned it partitions), as the Node services do, on HOST:PORT (compose publishes the
// container's on 127.0.0.1 only).
func serveHealth(host string, port int, client *kgo.Client, assigned *atomic.Bool, logger *slog.Logger) *http.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health/live", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, `{"status":"ok"}`)
	})
	mux.HandleFunc("GET /health/ready", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := client.Ping(ctx); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, "{\"status\":\"error\",\"kafka\":%q}\n", err.Error())
			return
		}
		if !assigned.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, `{"status":"error","kafka":"no partitions assigned yet"}`)
			return
		}
		fmt.Fprintln(w, `{"status":"ok"}`)
	})
	server := &http.Server{Addr: net.JoinHostPort(host, strconv.Itoa(port)), Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := server.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("health endpoint stopped", "error", err.Error())
		}
	}()
	return server
}

// probeReadiness asks this process's /health/ready on 127.0.0.1:port (3003 when empty): 0 when ready.
func probeReadiness(port string) int {
	if port == "" {
		port = "3003"
	}
	client := http.Client{Timeout: 3 * time.Second}
	response, err := client.Get("http://" + net.JoinHostPort("127.0.0.1", port) + "/health/ready")
	if err != nil {
		return 1
	}
	defer response.Body.Close()
	if response.StatusCode != http.StatusOK {
		return 1
	}
	return 0
}
